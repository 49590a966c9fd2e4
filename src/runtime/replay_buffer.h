#pragma once
#include <torch/torch.h>

#include <random>
#include <utility>
#include <vector>

namespace etuner::runtime {

// A fixed-capacity buffer of seen labeled samples, replayed in rounds: a reservoir, or
// class-balanced (src/runtime/replay_buffer.cpp says how).
class ReplayBuffer {
 public:
  ReplayBuffer(int capacity, uint64_t seed, bool class_balanced = false)
      : capacity_(capacity), class_balanced_(class_balanced), rng_(seed) {}
  // `first_id`: the id of x's first sample, the others following (-1: no ids).
  void add(const torch::Tensor& x, const torch::Tensor& y, int64_t first_id = -1);
  // `n` samples drawn uniformly without replacement (fewer if the buffer holds fewer); `ids`,
  // if given, receives their ids (-1 where none was given).
  std::pair<torch::Tensor, torch::Tensor> sample(int n, std::vector<int64_t>* ids = nullptr);
  int64_t size() const { return filled_; }
  // Samples of class `c` held now.
  int64_t held(int64_t c) const { return c < static_cast<int64_t>(held_.size()) ? held_[c] : 0; }

 private:
  int64_t reservoir_slot();
  int64_t balanced_slot(int64_t label);
  int64_t random_slot_of(int64_t label);
  int capacity_;
  bool class_balanced_;
  std::mt19937_64 rng_;
  torch::Tensor x_, y_;
  std::vector<int64_t> slot_label_;            // label per filled slot
  std::vector<int64_t> slot_id_;               // sample id per filled slot
  std::vector<int64_t> held_, seen_of_class_;  // per class: in the buffer, seen so far
  int64_t filled_ = 0;
  int64_t seen_ = 0;
};

}  // namespace etuner::runtime
