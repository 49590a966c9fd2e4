// What the runtime reports: an answer to requests, a round's record, the run's totals, and the
// sample ids a round consumed. Plain values; the harness writes them to results files.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace etuner::runtime {

struct Prediction {
  torch::Tensor labels;      // int64 [N]
  torch::Tensor confidence;  // float [N], max softmax probability
  int version = 0;
  // Labeled samples that had arrived when these requests were answered and that the answering
  // version had not consumed (trained on, or retired untrained by its round's decision).
  // Pending data is consumed oldest first, so this is how far the version lags the labels.
  int64_t lag_samples = 0;
};

struct RoundRecord {
  int round = 0;
  double start_s = 0;
  double end_s = 0;   // when the new version is deployed (stream time)
  int scenario = -1;  // the true scenario when the round started (for reports only)
  int fresh_samples = 0;
  int replay_samples = 0;
  int64_t samples = 0;  // sample passes
  int steps = 0;
  int epochs = 0;
  int frozen_prefix = 0;
  std::string frozen_mask;  // '1' per frozen block at round end
  double wall_s = 0;        // measured, checkpoint included
  double modeled_s = 0;     // from the device profile
  double energy_j = 0;
  double train_flops = 0;
  double loss = 0;
  bool discarded = false;     // loss went NaN/inf: the last good version keeps serving
  int64_t cache_hits = 0;     // sample passes whose frozen-prefix output came from the cache
  std::string reason;         // the scheduler's
  std::string freeze_reason;  // the freezer's, at the round's last check
};

struct Totals {
  double finetune_s = 0;  // rounds + decision overhead, measured
  double decision_s = 0;  // signals and policy decisions, measured
  // Modeled device seconds of fine-tuning: rounds, profiling trials and decision passes.
  double modeled_s = 0;
  // Modeled joules of the same work: its FLOPs x the profile's joules per FLOP above idle,
  // plus the profile's idle power x modeled_s (the device is held that long). Not
  // modeled_s x one power: dispatch-bound work costs less per second than FLOP-bound work.
  double modeled_j = 0;
  double finetune_j = 0;
  double inference_j = 0;
  double inference_s = 0;
  int rounds = 0;
  int drifts = 0;              // scenario changes detected (labels or requests)
  int recalls = 0;             // shelved versions recalled at a change (recurring scenarios)
  int64_t shelf_bytes = 0;     // most bytes the shelved versions held at once
  double similarity_s = 0;     // CKA probes inside rounds (already in finetune_s)
  double adapt_s = 0;          // BatchNorm adaptation and pseudo-labels (already in decision_s)
  int adapt_steps = 0;         // adaptation steps, one per chunk of answered requests
  int64_t pseudo_labeled = 0;  // pseudo-labeled samples trained on
  int64_t samples_trained = 0;
  int64_t cache_hits = 0;  // sample passes served from the frozen-prefix cache
  double train_flops = 0;
  // Forward passes run to decide (test-then-train, CKA and plasticity probes, BatchNorm
  // adaptation): work a device does for fine-tuning that no round counts.
  double decision_flops = 0;
  // decision_flops by what ran the passes (they sum to it): where fusing a decision into a
  // pass that runs anyway would save most (issue 20, item 2).
  struct DecisionFlops {
    double test_then_train = 0;   // accuracy of the serving version on each labeled batch
    double batchnorm = 0;         // BatchNorm statistics passes (adapter bn, refresh at deploy)
    double probes = 0;            // CKA and plasticity probes
    double adaptation_steps = 0;  // eata's entropy steps and Fisher estimate
  } decision_by_kind;
};

// Ids (as add_labeled returned them) of labeled samples consumed, oldest first.
struct Consumed {
  std::vector<int64_t> trained;      // by a round whose version was published
  std::vector<int64_t> retired;      // untrained, by a scheduler's decision (still replayed)
  std::vector<int64_t> quarantined;  // in a round whose loss went NaN/inf (never replayed)
};

}  // namespace etuner::runtime
