etuner_test(tuning LIBS etuner_tuning SOURCES test_tuning.cpp)
