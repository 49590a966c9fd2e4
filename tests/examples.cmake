# examples/ built against the installed package, and run (tests/examples_test.sh). It
# compiles two programs against the torch headers: about a minute on 2 cores.
if(NOT ETUNER_INSTALL)
  return()
endif()
add_test(NAME examples.install_build_run
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/examples_test.sh ${PROJECT_BINARY_DIR}
          ${PROJECT_SOURCE_DIR} "${CMAKE_GENERATOR}" ${CMAKE_CXX_COMPILER}
          "${CMAKE_CXX_COMPILER_LAUNCHER}")
set_tests_properties(examples.install_build_run PROPERTIES LABELS integration TIMEOUT 900)

# etuner under another project (add_subdirectory): configure only, a few seconds.
add_test(NAME examples.add_subdirectory
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/add_subdirectory_test.sh ${PROJECT_SOURCE_DIR}
          ${PROJECT_BINARY_DIR}/add-subdirectory-test "${CMAKE_GENERATOR}")
set_tests_properties(examples.add_subdirectory PROPERTIES LABELS unit TIMEOUT 300)
