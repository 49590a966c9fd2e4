etuner_test(model LIBS etuner_model SOURCES test_model.cpp)
