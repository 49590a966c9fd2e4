# Structure and style checks that run with the suite: the code's format (.clang-format).
add_test(NAME hygiene.format COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/check_format.sh)
set_tests_properties(hygiene.format PROPERTIES LABELS unit)
