# Structure and style checks that run with the suite: the code's format (.clang-format).
add_test(NAME hygiene.format COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/check_format.sh)
set_tests_properties(hygiene.format PROPERTIES LABELS unit)

# The dependency rule: every #include against the module table (cmake/modules.txt), and the
# check itself failing, with a message, on each kind of break.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME hygiene.includes
  COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/check_includes.py)
add_test(NAME hygiene.includes_rejects
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check_includes_test.sh ${Python3_EXECUTABLE})
set_tests_properties(hygiene.includes hygiene.includes_rejects PROPERTIES LABELS unit)
