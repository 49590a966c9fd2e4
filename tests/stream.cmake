etuner_test(stream LIBS etuner_stream SOURCES test_stream.cpp test_manifest.cpp)
