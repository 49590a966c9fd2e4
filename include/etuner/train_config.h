// How a round trains: the optimizer, batch, epochs and replay. Parsed from a stream spec's
// `train` section (docs/streams.md) or set in code; modes are enums once parsed.
//
//   etuner::tuning::TrainConfig t;
//   t.lr = 0.005;
//   t.replay_policy = etuner::tuning::ReplayPolicy::kClassBalanced;
#pragma once
#include <string>

namespace etuner::tuning {

enum class OptimizerKind { kSgd, kAdam };
// reservoir: every seen sample equally likely to be kept; class_balanced: every seen class
// gets an equal share of the buffer (new classes displace the largest ones).
enum class ReplayPolicy { kReservoir, kClassBalanced };

struct TrainConfig {
  OptimizerKind optimizer = OptimizerKind::kSgd;
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  int batch_size = 32;
  int epochs_per_round = 3;
  int replay_samples = 256;  // replayed per round, drawn from the replay buffer
  int replay_buffer = 2000;  // reservoir of seen samples (seeded with pretraining samples)
  ReplayPolicy replay_policy = ReplayPolicy::kReservoir;
};

inline const char* to_string(OptimizerKind k) { return k == OptimizerKind::kAdam ? "adam" : "sgd"; }
inline const char* to_string(ReplayPolicy p) {
  return p == ReplayPolicy::kClassBalanced ? "class_balanced" : "reservoir";
}

}  // namespace etuner::tuning
