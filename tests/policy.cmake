etuner_test(policy LIBS etuner_policy SOURCES test_policy.cpp)
