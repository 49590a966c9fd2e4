// Policies decide, mechanics act. A Scheduler says when to run a fine-tuning round and how
// much to train; a Freezer says which blocks train. Both see plain signals and return plain
// decisions; src/tuning applies them. Neither links torch.
//
//   etuner::policy::RoundDecision d = scheduler.decide(signals);
//   etuner::policy::FreezePlan plan = freezer.decide(freeze_signals);
//
// This header is the interface the runtime reads; named presets are in etuner/presets.h.
// Register a new scheduler in src/sched/builtin.cpp, a freezer in src/freeze/builtin.cpp,
// a preset in src/policy/presets.cpp. The harness never branches on a policy's name.
#pragma once
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace etuner::policy {

constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

// A retraining configuration a scheduler asks the runtime to try briefly (micro-profiling,
// e.g. ekya) before it decides: a copy of the working model trains `data_fraction` of the
// round's samples for `epochs`, then is scored on pending samples held out from that.
struct ProfileCandidate {
  int epochs = 0;               // 0 = the stream's train.epochs_per_round
  double replay_fraction = 1;   // of the stream's train.replay_samples
  double data_fraction = 0.25;  // share of fresh and replayed samples the trial trains on
};

// What a trial measured; `epochs` and `replay_samples` are the candidate resolved against
// the stream's settings, ready to go into a RoundDecision.
struct ProfileResult {
  ProfileCandidate candidate;
  int epochs = 0;
  int replay_samples = 0;
  double gain = kUnknown;   // held-out accuracy after the trial minus before (fraction)
  double cost_samples = 0;  // sample passes of the full round: epochs x (pending + replay)
  double trial_s = 0;       // measured time of the trial (decision overhead)
};

// What the runtime measures for the scheduler. Signals it was not asked for stay kUnknown.
struct ScheduleSignals {
  double now_s = 0;
  int pending_samples = 0;  // labeled samples not trained on yet
  int pending_batches = 0;
  int oldest_batch_samples = 0;  // size of the oldest pending batch
  int64_t seen_samples = 0;      // labeled samples received so far
  int rounds_run = 0;
  double last_round_end_s = 0;
  int requests_since_round = 0;
  bool new_classes = false;       // the newest labeled batch has a label never seen before
  bool drift = false;             // a scenario change was detected since the last round
  bool label_space_grew = false;  // some labeled batch so far held a class new to the model
  double newest_batch_accuracy = kUnknown;  // deployed model on the newest batch, before training
  double recent_accuracy = kUnknown;        // running mean of test-then-train accuracy
  // Test-then-train readings so far: a scheduler that follows the readings one by one knows
  // a new one from this, wherever they come from (a pass per batch or a round's scores).
  int64_t accuracy_readings = 0;
  // Label-free and free: the mean confidence of the answers given since the last labeled
  // batch, and its running mean over earlier gaps (EMA 0.7/0.3, like recent_accuracy).
  double newest_answer_confidence = kUnknown;
  double recent_answer_confidence = kUnknown;
  double last_round_gain = kUnknown;  // held-out accuracy after minus before the last round
  // Standard error of that gain: two accuracies on a few dozen samples each (binomial), so a
  // gain of a few points is often noise.
  double last_round_gain_se = kUnknown;
  int oracle_scenario = -1;  // the true scenario index; only oracle-style peers may read it
  std::vector<ProfileResult> profile;  // trials the last decision asked for (else empty)
};

// Which signals a scheduler reads: the runtime only pays for those.
struct SignalNeeds {
  bool test_then_train = false;  // newest_batch_accuracy, recent_accuracy, new_classes
  bool holdout_gain = false;     // last_round_gain
  bool drift = false;            // drift from labels and from inference inputs
  // Test-then-train read from a round's first epoch over its fresh samples instead of a pass
  // per labeled batch: no extra FLOPs, but a batch's accuracy is known only once a round
  // trains on it, and each score is prequential (after the round's earlier steps).
  bool test_then_train_from_rounds = false;
  // Versions kept by scenario, for RoundDecision::recall (0: none kept).
  int shelf_versions = 0;
  bool answer_confidence = false;  // newest_answer_confidence, recent_answer_confidence
  SignalNeeds& with_test_then_train(bool v = true) { return test_then_train = v, *this; }
  SignalNeeds& with_test_then_train_from_rounds(bool v = true) {
    return test_then_train_from_rounds = v, *this;
  }
  SignalNeeds& with_holdout_gain(bool v = true) { return holdout_gain = v, *this; }
  SignalNeeds& with_shelf_versions(int n) { return shelf_versions = n, *this; }
  SignalNeeds& with_answer_confidence(bool v = true) { return answer_confidence = v, *this; }
  SignalNeeds& with_drift(bool v = true) { return drift = v, *this; }
};

struct [[nodiscard]] RoundDecision {
  bool run = false;
  int take_samples = 0;     // pending samples to train on (oldest first); 0 = all pending
  int drop_samples = 0;     // pending samples to retire untrained (they still enter replay)
  int epochs = 0;           // 0 = the stream's train.epochs_per_round
  int replay_samples = -1;  // -1 = the stream's train.replay_samples
  // Before training: if the requests just began a scenario a shelved version served before
  // (SignalNeeds::shelf_versions), start from that version instead of the last one.
  bool recall = false;
  // The scheduler reads the newest classes as still being learned (lazytune's class phase):
  // the runtime passes it to the freezer for this round's checks (FreezeSignals).
  bool learning_new_classes = false;
  std::string reason;
  // Non-empty: try these first. The runtime runs the trials (metered as decision overhead)
  // and asks again at once with `ScheduleSignals::profile` filled; `run` is then ignored.
  std::vector<ProfileCandidate> profile;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual RoundDecision decide(const ScheduleSignals& s) = 0;
  virtual SignalNeeds needs() const = 0;
};

struct FreezeSignals {
  int num_blocks = 0;
  int frozen_prefix = 0;           // blocks [0, frozen_prefix) are frozen now
  std::vector<double> similarity;  // per block, CKA of its output now vs the previous check
  int similarity_steps = 0;        // SGD steps trained between those two checks
  // Per unit (blocks, then the head): mean L2 norm of the unit's gradient per step since the
  // previous check; 0 for frozen blocks; empty if not asked for or no step ran since.
  std::vector<double> grad_norms;
  // Per block: squared distance of its output on a fixed probe from a lagging reference
  // copy of the model (taken at the previous measurement), relative to the reference's
  // squared norm; 0 for frozen blocks. Round starts only; empty if not asked for.
  std::vector<double> plasticity;
  bool drift = false;        // scenario change detected since the last check
  bool new_classes = false;  // a labeled batch since the last check held a class new to the model
  bool learning_new_classes = false;  // this round's RoundDecision::learning_new_classes
  bool round_start = false;           // first check of a round
  int round = 0;
  int epoch = 0;
};

// A plan: `return FreezePlan::at(prefix).measuring().because("kept");`
struct [[nodiscard]] FreezePlan {
  int frozen_prefix = 0;
  bool measure_similarity = false;  // compute `similarity` before the next check
  std::string reason;               // recorded per round (rounds.csv `freeze_reason`)
  static FreezePlan at(int prefix) {
    FreezePlan p;
    p.frozen_prefix = prefix;
    return p;
  }
  FreezePlan& measuring(bool v = true) { return measure_similarity = v, *this; }
  FreezePlan& because(std::string why) { return reason = std::move(why), *this; }
};

// Which signals a freezer reads beyond `similarity` (asked for per plan): the runtime only
// pays for those.
struct FreezeNeeds {
  bool grad_norms = false;  // FreezeSignals::grad_norms
  bool plasticity = false;  // FreezeSignals::plasticity
  bool drift = false;       // run the change detector even if the scheduler does not read it
  int probe_samples = 32;   // CKA probe size: each measured check forwards it once
  FreezeNeeds& with_grad_norms(bool v = true) { return grad_norms = v, *this; }
  FreezeNeeds& with_plasticity(bool v = true) { return plasticity = v, *this; }
  FreezeNeeds& with_drift(bool v = true) { return drift = v, *this; }
  FreezeNeeds& with_probe_samples(int n) { return probe_samples = n, *this; }
};

class Freezer {
 public:
  virtual ~Freezer() = default;
  virtual FreezePlan decide(const FreezeSignals& s) = 0;
  virtual FreezeNeeds needs() const { return {}; }
};

// Label-free adaptation from the inference stream: the plain value an adapter
// (etuner/adapt.h, src/adapt/) returns, applied by the runtime's adaptation part.
// Parameters: `--params '{"bn": {"bn_chunk": 30}}'`, or `{"adapt": {...}}` for whichever
// adapter a policy has (docs/algorithms.md).
struct AdaptOptions {
  bool bn_adapt = false;           // refresh BatchNorm statistics from recent requests
  bool pseudo_labels = false;      // train on confident predictions of recent requests
  double pseudo_threshold = 0.95;  // minimum confidence of a pseudo-label
  int bn_chunk = 10;               // requests answered between two adaptation steps
  int bn_images = 0;               // newest answered inputs a step reads (0 = the whole chunk)
  double bn_alpha = 0.2;           // share of the way a step moves the statistics
  // Statistics from the pass that answered the requests (no second pass) where the model
  // can tally them (zoo models) and a step reads its whole chunk (bn_images 0).
  bool bn_fused = false;
  // EATA-style test-time adaptation (adapter `eata`): per chunk of answered requests, one SGD
  // step on the BatchNorm affine parameters minimizing the entropy of confident,
  // non-redundant answers, with a Fisher penalty anchored at the deployed version.
  bool entropy_steps = false;
  double entropy_lr = 0.001;
  double entropy_margin = 0.4;     // x ln(classes): answers with more entropy are left out
  double redundancy_margin = 0.4;  // |cos| to the running mean answer at or above: redundant
  double fisher_weight = 2000;     // 0: no anti-forgetting term
  int reset_every = 0;             // steps between resets to the deployed weights (0: never)
  AdaptOptions& with_bn(bool v = true) { return bn_adapt = v, *this; }
  AdaptOptions& with_entropy_steps(bool v = true) { return entropy_steps = v, *this; }
  AdaptOptions& with_pseudo_labels(bool v = true) { return pseudo_labels = v, *this; }
};

struct Policy {
  std::string name;
  std::string description;
  std::string scheduler_name;
  std::string freezer_name;
  std::string adapter_name = "none";  // src/adapt/builtin.cpp lists them
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<Freezer> freezer;
  AdaptOptions adapt;

  // The runtime runs its scenario-change detector when either policy reads its verdict.
  bool needs_change_detector() const { return scheduler->needs().drift || freezer->needs().drift; }
};

}  // namespace etuner::policy
