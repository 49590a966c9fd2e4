# scripts/scorecard.py (issue 20's scorecard) on a tiny generated suite: the card's structure,
# its statistics against the cells' results, skipping done cells and redoing a removed one.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME scorecard
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/scorecard_test.py
          $<TARGET_FILE:etuner> ${PROJECT_SOURCE_DIR})
set_tests_properties(scorecard PROPERTIES LABELS unit TIMEOUT 120)
