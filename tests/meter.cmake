etuner_test(meter LIBS etuner_meter SOURCES test_meter.cpp)
