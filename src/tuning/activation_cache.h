// Frozen-prefix activation cache: a sample seen again (the next epoch, or a replayed sample in
// a later round) skips the frozen prefix's forward pass. Entries are keyed by a sample id, so
// a cache that outlives a round (the runtime's) serves replayed samples across rounds.
// Valid only while the prefix's weights stay as they were: any change of the prefix forgets
// everything (`use_prefix`), and so does `reset`. Memory-bounded: past the budget the oldest
// entries make room (never one used in the same call), and a budget too small for one row
// caches nothing.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <unordered_map>
#include <vector>

namespace etuner::tuning {

class ActivationCache {
 public:
  // Prefix outputs of the rows at `positions` (int64 indices into the ids of the call).
  using Compute = std::function<torch::Tensor(const torch::Tensor& positions)>;

  explicit ActivationCache(double budget_mb) : budget_bytes_(budget_mb * 1024 * 1024) {}

  // The frozen prefix the next outputs belong to; a different one forgets everything (the
  // blocks that trained meanwhile changed, and a prefix never changes without a call here).
  void use_prefix(int prefix);
  // Forget everything (e.g. the model's weights were restored from another copy).
  void reset();

  // Prefix outputs for the samples with these ids, in order. Ids < 0 are never cached.
  torch::Tensor get(const std::vector<int64_t>& ids, const Compute& compute);

  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  void allocate(const torch::Tensor& sample_out);
  int64_t free_slot();  // a slot to overwrite, or -1 when every slot served this call
  void store(const std::vector<int64_t>& ids, const std::vector<int64_t>& missing,
             const torch::Tensor& fresh);

  double budget_bytes_;
  int prefix_ = -1;
  int64_t capacity_ = -1;  // rows that fit the budget; -1 until the first output is seen
  torch::Tensor store_;
  std::unordered_map<int64_t, int64_t> slot_of_;  // sample id -> row of store_
  std::vector<int64_t> id_in_slot_;               // -1 = free
  std::vector<int64_t> used_in_call_;             // the call that last read or wrote a slot
  int64_t next_victim_ = 0;                       // oldest-first eviction, round robin
  int64_t call_ = 0;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

}  // namespace etuner::tuning
