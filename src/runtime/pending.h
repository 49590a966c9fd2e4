// Labeled samples waiting for a round, oldest first, each batch with its sample ids and its
// test-then-train accuracy; the ids a round or a decision consumed, for whoever keeps the
// samples (serve's store marks exactly those).
#pragma once
#include <torch/torch.h>

#include <deque>
#include <utility>
#include <vector>

#include "etuner/runtime_records.h"

namespace etuner::runtime {

struct PendingBatch {
  torch::Tensor x, y;
  double accuracy = 0;   // test-then-train, before any training on it (NaN: not measured)
  int64_t first_id = 0;  // sample ids: first_id .. first_id + rows - 1
  int64_t rows() const { return x.size(0); }
};

// What a round takes: the retired batches (oldest, untrained) and the fresh samples to train.
struct Taken {
  std::vector<PendingBatch> retired;
  torch::Tensor x, y;
  int64_t first_id = -1;            // the fresh samples' ids are consecutive from here
  std::vector<int64_t> batch_rows;  // how the fresh samples arrived, oldest batch first
};

class Pending {
 public:
  // `n` consecutive sample ids, the first returned. Every sample the runtime trains on or
  // replays gets one (labeled, seeded, pseudo-labeled): the activation cache's key.
  int64_t new_ids(int64_t n);
  void add(PendingBatch b);
  // Oldest first: `drop` samples retire untrained, then `take` (0 = the rest) are taken;
  // whole batches, so a round may take a little more than `take`.
  Taken take(int take, int drop);
  // The oldest batches holding at least `n` samples retire untrained; the rest stay pending.
  std::vector<PendingBatch> retire_oldest(int n);
  // Mean test-then-train accuracy of the batches `take(take, drop)` would train on, and the
  // number of samples it was measured on.
  std::pair<double, int> accuracy_of(int take, int drop) const;

  // The ids of a round's fresh samples, once the round's fate is known.
  void record_trained(int64_t first_id, int64_t n, bool quarantined);
  Consumed take_consumed();

  bool empty() const { return batches_.empty(); }
  int samples() const { return samples_; }
  int batches() const { return static_cast<int>(batches_.size()); }
  int oldest_batch_samples() const;
  int64_t seen() const { return seen_; }
  int64_t consumed() const { return seen_ - samples_; }
  // Every pending batch, oldest first (profiling trials read them).
  const std::deque<PendingBatch>& all() const { return batches_; }

 private:
  std::deque<PendingBatch> batches_;
  int samples_ = 0;
  int64_t seen_ = 0;
  int64_t next_id_ = 0;
  Consumed consumed_;
};

}  // namespace etuner::runtime
