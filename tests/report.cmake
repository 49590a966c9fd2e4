# The HTML report: structure checks always; a headless-chromium render when chromium exists.
etuner_test(report LIBS etuner_report SOURCES test_report.cpp)
target_compile_definitions(test_report PRIVATE ETUNER_REPORT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
