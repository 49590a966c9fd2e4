etuner_test(runtime LIBS etuner_runtime SOURCES test_runtime.cpp)
