etuner_test(runtime LIBS etuner_runtime etuner_policy SOURCES test_runtime.cpp)
