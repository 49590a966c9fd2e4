# docs/walkthrough.md, run as written on a generated model and folder of images.
add_executable(script_model script_model.cpp)
target_link_libraries(script_model PRIVATE ${TORCH_LIBRARIES})
target_compile_options(script_model PRIVATE -Wall -Wextra)
target_precompile_headers(script_model REUSE_FROM etuner_torch_pch)
if(ETUNER_SERVE)
  add_test(NAME walkthrough
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/walkthrough_check.sh $<TARGET_FILE:etuner>
            $<TARGET_FILE:script_model> ${CMAKE_SOURCE_DIR})
  set_tests_properties(walkthrough PROPERTIES LABELS unit TIMEOUT 300)
endif()
