// Frozen-prefix activation cache: within a round, a sample seen again (epochs, replay) skips
// the frozen prefix's forward pass. Memory-bounded: rows past the budget are recomputed.
// Invalidated whenever the prefix changes (reset).
#pragma once
#include <torch/torch.h>

#include <functional>
#include <vector>

namespace etuner::tuning {

class ActivationCache {
 public:
  using Compute = std::function<torch::Tensor(const torch::Tensor& rows)>;

  explicit ActivationCache(double budget_mb) : budget_bytes_(budget_mb * 1024 * 1024) {}

  // Forget everything: `rows` is the number of samples in the round.
  void reset(int64_t rows);

  // Prefix outputs for `rows` (int64 indices into the round's samples), in order.
  torch::Tensor get(const torch::Tensor& rows, const Compute& compute);

  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  void allocate(const torch::Tensor& sample_out);

  double budget_bytes_;
  int64_t rows_ = 0;
  int64_t capacity_ = -1;  // rows that fit the budget; -1 until the first output is seen
  torch::Tensor store_;
  std::vector<bool> have_;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

}  // namespace etuner::tuning
