# etuner serve: parsing, the store, the API end to end on loopback (in process), and the crash
# test, which runs the real CLI and kills it with SIGKILL, and the power-loss test.
#
# Registered like etuner_test() (tests/CMakeLists.txt) but with a "serve." prefix on the
# discovered names, so `ctest -R serve` selects this module's tests (the suites keep their
# CamelCase names); the crash and power-loss tests (~1 min each on 2 cores) are labeled
# integration, not unit.
if(NOT ETUNER_SERVE)  # built without serve (-DETUNER_SERVE=OFF)
  return()
endif()

function(etuner_serve_test name label)
  add_executable(test_${name} ${ARGN})
  target_link_libraries(test_${name} PRIVATE GTest::gtest_main etuner_serve)
  # White-box tests may read their module's private headers (src/<module>/*.h).
  target_include_directories(test_${name}
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(test_${name} PRIVATE -Wall -Wextra)
  target_precompile_headers(test_${name} REUSE_FROM etuner_torch_pch)
  gtest_discover_tests(test_${name}
    TEST_PREFIX serve.
    PROPERTIES LABELS ${label} TIMEOUT 300
    ENVIRONMENT "ETUNER_SOURCE_DIR=${PROJECT_SOURCE_DIR};ETUNER_BINARY_DIR=${PROJECT_BINARY_DIR}"
    DISCOVERY_TIMEOUT 120)
endfunction()

etuner_serve_test(serve unit test_serve_parse.cpp test_serve_store.cpp test_serve_api.cpp)
etuner_serve_test(serve_crash integration test_serve_crash.cpp)
target_compile_definitions(test_serve_crash PRIVATE ETUNER_EXE="$<TARGET_FILE:etuner>")
add_dependencies(test_serve_crash etuner)

# The power-loss test runs the CLI under an LD_PRELOAD shim that keeps only what was fsynced
# (tests/powercut/preload.cpp); 12 cuts here (~25 s), 200 with `make powercut-long`.
add_library(etuner_powercut SHARED powercut/preload.cpp powercut/shadow.cpp)
target_compile_options(etuner_powercut PRIVATE -Wall -Wextra)
etuner_serve_test(serve_powercut integration test_serve_powercut.cpp powercut/shadow.cpp)
target_compile_definitions(test_serve_powercut PRIVATE ETUNER_EXE="$<TARGET_FILE:etuner>"
  ETUNER_POWERCUT_LIB="$<TARGET_FILE:etuner_powercut>")
add_dependencies(test_serve_powercut etuner etuner_powercut)

# The CLI's contract for serve: bad flags are a message and exit code 2.
foreach(case
    "missing_data_dir|serve --model tiny --classes 10"
    "classes_and_spec|serve --model tiny --classes 10 --stream-spec x.json --data-dir /tmp/x"
    "bad_input_shape|serve --model tiny --classes 10 --input 1x28 --data-dir /tmp/x"
    "two_policies|serve --model tiny --classes 10 --policies immediate,never --data-dir /tmp/x"
    "unknown_policy|serve --model tiny --classes 10 --policies nope --data-dir /tmp/etuner-serve-cli-policy"
    "bad_port|serve --model tiny --classes 10 --port 70000 --data-dir /tmp/x"
    "public_host_without_token|serve --model tiny --classes 10 --host 0.0.0.0 --data-dir /tmp/x"
    "missing_token_file|serve --model tiny --classes 10 --token-file /nonexistent --data-dir /tmp/x"
    "bad_params|serve --model tiny --classes 10 --params {bad --data-dir /tmp/etuner-serve-cli-params"
    # A file that is no TorchScript archive is an error, not a zoo name, whatever its suffix.
    "model_file_not_torchscript|serve --model ${CMAKE_CURRENT_SOURCE_DIR}/expect_rc.sh --classes 10 --data-dir /tmp/etuner-serve-cli-model")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 case_name)
  list(GET parts 1 case_args)
  separate_arguments(case_args)
  add_test(NAME serve.cli_${case_name}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/expect_rc.sh 2 $<TARGET_FILE:etuner> ${case_args})
  set_tests_properties(serve.cli_${case_name} PROPERTIES LABELS unit)
endforeach()

# An unavailable device is exit code 3 (README, "Exit codes"); CI has no CUDA device.
add_test(NAME serve.cli_device_cuda_without_cuda
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/expect_rc.sh 3 $<TARGET_FILE:etuner> serve --model tiny
          --classes 10 --device cuda --data-dir /tmp/etuner-serve-cli-cuda)
set_tests_properties(serve.cli_device_cuda_without_cuda PROPERTIES LABELS unit)
