# The data module: loaders (test_data.cpp) and shifts (test_data_shifts.cpp).
etuner_test(data LIBS etuner_data SOURCES test_data.cpp test_data_shifts.cpp)
