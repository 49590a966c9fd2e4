# scripts/scorecard.py (issue 20's scorecard) on a tiny generated suite: the card's structure,
# its statistics against the cells' results, skipping done cells and redoing a removed one.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME scorecard
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/scorecard_test.py
          $<TARGET_FILE:etuner> ${PROJECT_SOURCE_DIR})
# 22-28 s alone in a release build; under ASan beside the rest of the suite, near 2 minutes.
set_tests_properties(scorecard PROPERTIES LABELS unit TIMEOUT 300)
# docs/results.md's scorecard tables must be what scorecard_md.py makes of the committed json.
add_test(NAME scorecard.results_page
  COMMAND ${Python3_EXECUTABLE} scripts/scorecard_md.py bench/results/scorecard-standard.json
          --check docs/results.md
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(scorecard.results_page PROPERTIES LABELS unit TIMEOUT 60)
