etuner_test(core_policies LIBS etuner_policy SOURCES test_core_policies.cpp)
