# The HTML report: structure checks always; a headless-chromium render when chromium exists.
etuner_test(report LIBS etuner_report SOURCES test_report.cpp)
target_compile_definitions(test_report PRIVATE ETUNER_REPORT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# What bench writes, read back with Python's csv module and jsonschema (docs/schema/).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  add_test(NAME outputs.python
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/outputs_check.py
            $<TARGET_FILE:etuner> ${PROJECT_SOURCE_DIR})
  set_tests_properties(outputs.python PROPERTIES LABELS unit TIMEOUT 300)
endif()
