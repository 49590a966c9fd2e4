# The CLI's contract: errors are a message and exit code 2 (usage, data) or 3 (device);
# help works.
function(etuner_cli_test name expected_rc)
  add_test(NAME cli.${name}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/expect_rc.sh ${expected_rc} $<TARGET_FILE:etuner> ${ARGN})
  set_tests_properties(cli.${name} PROPERTIES LABELS unit)
endfunction()

etuner_cli_test(help 0 --help)
etuner_cli_test(missing_stream_file 2 bench --stream /nonexistent/spec.json)
etuner_cli_test(unknown_flag 2 bench --stream x.json --frobnicate)
etuner_cli_test(unknown_policy 2 bench --stream ${PROJECT_SOURCE_DIR}/bench/streams/fmnist-ni.json --policies immediate,nope)
etuner_cli_test(bad_set_json 2 bench --stream ${PROJECT_SOURCE_DIR}/bench/streams/fmnist-ni.json --set {oops)
etuner_cli_test(unknown_spec_field 2 bench --stream ${PROJECT_SOURCE_DIR}/bench/streams/fmnist-ni.json --set [=[{"train":{"lrr":1}}]=])
etuner_cli_test(unknown_params_component 2 bench --stream ${PROJECT_SOURCE_DIR}/bench/streams/fmnist-ni.json --params [=[{"lazytun":{"max_merge":8}}]=])
etuner_cli_test(unknown_params_field 2 bench --stream ${PROJECT_SOURCE_DIR}/bench/streams/fmnist-ni.json --policies etuner --params [=[{"lazytune":{"max_merg":8}}]=])
etuner_cli_test(missing_data 2 bench --stream ${PROJECT_SOURCE_DIR}/bench/streams/fmnist-ni.json --data /nonexistent/fmnist --policies never)
etuner_cli_test(meters 0 meters)
# Assumes no visible CUDA device (CI has none); with one, --device cuda is valid.
etuner_cli_test(device_unavailable 3 bench --stream ${PROJECT_SOURCE_DIR}/bench/streams/fmnist-ni.json --policies never --device cuda --out ${CMAKE_CURRENT_BINARY_DIR}/cli-device)
etuner_cli_test(bad_seeds 2 bench --stream ${PROJECT_SOURCE_DIR}/bench/streams/fmnist-ni.json --seeds 1,x)
