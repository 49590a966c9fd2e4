etuner_test(harness LIBS etuner_harness SOURCES test_harness.cpp test_seeds.cpp)
