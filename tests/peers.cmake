etuner_test(peers LIBS etuner_policy SOURCES test_peer_policies.cpp)
etuner_test(peer_signals LIBS etuner_runtime etuner_policy SOURCES test_peer_signals.cpp)
