// Runtime: serves the current model version, buffers labeled samples, asks the policies,
// runs rounds on a working copy and publishes new versions.
//
//   etuner::runtime::Runtime rt(std::move(model), etuner::policy::make("immediate"), cfg, meter);
//   rt.add_labeled(x, y, now_s);                 // a labeled batch arrives
//   if (auto r = rt.advance(now_s)) ...          // maybe a round ran (r: its record)
//   auto p = rt.predict(images);                 // answered by the deployed version
//
// The core is single-threaded and deterministic. Under the realtime protocol a round's new
// version is deployed only once its modeled duration has passed in stream time; requests
// arriving meanwhile are answered by the previous version.
#pragma once
#include <torch/torch.h>

#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "etuner/device_profile.h"
#include "etuner/meter.h"
#include "etuner/model.h"
#include "etuner/policy.h"
#include "etuner/stream.h"

namespace etuner::tuning {
class ActivationCache;
}

namespace etuner::runtime {

struct RuntimeConfig {
  stream::TrainConfig train;
  std::string mode = "instant";  // instant | realtime
  DeviceProfile profile;
  torch::Device device = torch::kCPU;
  uint64_t seed = 1;
  double cache_mb = 256;
  bool verify_cache = false;       // recompute every cached activation and check it (tests)
  std::string checkpoint_dir;      // "" = no checkpoints
  std::vector<int> known_classes;  // classes the deployed model was trained on
};

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
  bool discarded = false;  // loss went NaN/inf: the last good version keeps serving
  int64_t cache_hits = 0;  // sample passes whose frozen-prefix output came from the cache
  std::string reason;
};

struct Totals {
  double finetune_s = 0;  // rounds + decision overhead, measured
  double decision_s = 0;  // signals and policy decisions, measured
  // Modeled device seconds of fine-tuning: rounds, profiling trials and decision passes.
  double modeled_s = 0;
  double finetune_j = 0;
  double inference_j = 0;
  double inference_s = 0;
  int rounds = 0;
  int drifts = 0;              // scenario changes detected (labels or requests)
  double similarity_s = 0;     // CKA probes inside rounds (already in finetune_s)
  double adapt_s = 0;          // BatchNorm adaptation and pseudo-labels (already in decision_s)
  int64_t pseudo_labeled = 0;  // pseudo-labeled samples trained on
  int64_t samples_trained = 0;
  int64_t cache_hits = 0;  // sample passes served from the frozen-prefix cache
  double train_flops = 0;
  // Forward passes run to decide (test-then-train, CKA and plasticity probes, BatchNorm
  // adaptation): work a device does for fine-tuning that no round counts.
  double decision_flops = 0;
};

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

// Label-free scenario-change detection from inference inputs (src/runtime/drift_monitor.cpp).
//   monitor.observe(request_images);        // as requests are answered
//   bool change = monitor.end_gap();        // when the next labeled batch arrives
class DriftMonitor {
 public:
  // `min_window`: the fewest requests a test sees. Gaps smaller than that are tested together
  // with the gaps before them (the shortest run of recent gaps holding `min_window`), so the
  // detector's power does not fall with the request rate; 30 is the gap size `z_threshold`
  // was calibrated on (docs/algorithms.md).
  explicit DriftMonitor(double z_threshold = 6, int min_reference = 16, int max_reference = 256,
                        int min_window = 30)
      : z_threshold_(z_threshold),
        min_reference_(min_reference),
        max_reference_(max_reference),
        min_window_(min_window) {}
  void observe(const torch::Tensor& images);
  bool end_gap();
  double last_score() const { return last_score_; }

 private:
  double score(const torch::Tensor& window) const;
  void retire_old_gaps();
  double z_threshold_;
  int min_reference_, max_reference_, min_window_;
  torch::Tensor gap_,
      ref_;  // per-image features: this gap's, and the reference since the last change
  std::deque<torch::Tensor> window_;  // the recent gaps under test, oldest first
  double last_score_ = 0;
};

// What the runtime keeps to measure the peer baselines' signals: gradient norms (autofreeze)
// and plasticity against a lagging reference copy (egeria); src/runtime/runtime_peer_signals.cpp.
struct PeerProbes {
  std::vector<torch::Tensor> grad_sum;  // per unit: per-step gradient norms, summed
  int grad_steps = 0;
  torch::Tensor probe;  // fixed since the last change
  // Block outputs on the probe at the previous measurement: what a lagging reference copy
  // of the model would compute, kept instead of the copy (no clone, no second forward).
  std::vector<torch::Tensor> reference;
};

class Runtime {
 public:
  Runtime(std::unique_ptr<model::BlockModel> model, policy::Policy policy, RuntimeConfig cfg,
          std::unique_ptr<meter::Meter> meter);

  // Seeds the replay buffer (e.g. with pretraining samples the device ships with).
  void seed_replay(const torch::Tensor& x, const torch::Tensor& y);

  Prediction predict(const torch::Tensor& images);
  void add_labeled(const torch::Tensor& x, const torch::Tensor& y, double now_s);
  // Deploys a finished round whose time has come, then asks the scheduler (if the device is
  // free) and runs the round it decides on.
  std::optional<RoundRecord> advance(double now_s, int oracle_scenario = -1);

  int version() const { return version_; }
  // The deployed version's model, immutable once published (serve clones it per version).
  std::shared_ptr<const model::BlockModel> deployed() const { return deployed_; }
  // When a trained version is due to be deployed (infinity if none is waiting).
  double next_deploy_s() const;
  const Totals& totals() const { return totals_; }
  const policy::Policy& policy() const { return policy_; }
  int num_blocks() const { return working_->num_blocks(); }
  // The meter's source now (a measured backend may have fallen back during the run).
  std::string energy_source() const { return meter_->source(); }

 private:
  struct Pending {
    torch::Tensor x, y;
    double accuracy = policy::kUnknown;  // test-then-train, before any training on it
    int64_t first_id = 0;                // sample ids: first_id .. first_id + rows - 1
  };
  void deploy_if_ready(double now_s);
  policy::ScheduleSignals signals(double now_s, int oracle_scenario) const;
  RoundRecord run_round(const policy::RoundDecision& d, double now_s);
  // The taken samples, oldest first; `first_id`, if given, receives the first one's id (the
  // others follow).
  std::pair<torch::Tensor, torch::Tensor> take_pending(int take, int drop,
                                                       int64_t* first_id = nullptr);
  // `n` consecutive sample ids, the first returned.
  int64_t new_ids(int64_t n);
  int choose_prefix(int round, int epoch);
  double observe_batch(const torch::Tensor& x, const torch::Tensor& y);
  void note_classes(const torch::Tensor& y);
  void detect_change();
  void adapt_from_requests(const torch::Tensor& x, const Prediction& p);
  void profile_once(const torch::Tensor& x);
  void refresh_serving();
  void measure_similarity(policy::FreezeSignals& s);
  void verify_probe_prefix(const std::vector<torch::Tensor>& outs, int from);
  std::pair<torch::Tensor, torch::Tensor> pseudo_batch(int max_n);
  // Mean test-then-train accuracy of the batches a round will train on, and over how many samples.
  std::pair<double, int> pending_accuracy(int take, int drop) const;
  void begin_decide();
  void end_decide(double* also_s = nullptr);
  // A decision's forward pass of `images` through units [from_unit, to_unit) (-1: to the
  // last unit): counted into decision_flops and modeled device seconds.
  void count_decision_pass(int64_t images, int from_unit = 0, int to_unit = -1);
  // On CUDA, waits for queued kernels so a meter window ends after its work, not after its
  // launches; a no-op on the CPU.
  void sync_device() const;
  // An optimizer over `m`'s trainable parameters with the stream's settings.
  std::unique_ptr<torch::optim::Optimizer> new_optimizer(model::BlockModel& m) const;
  void run_request_chunk(const torch::Tensor& x, Prediction& out);
  // Peer baselines (runtime_peer_signals.cpp, runtime_profile.cpp).
  void measure_peer_signals(policy::FreezeSignals& s);
  std::function<void(model::BlockModel&)> grad_observer();
  policy::RoundDecision profile_then_decide(const policy::RoundDecision& d, double now_s,
                                            int oracle_scenario);
  std::vector<policy::ProfileResult> run_trials(const std::vector<policy::ProfileCandidate>& c);

  std::unique_ptr<model::BlockModel> working_;
  std::shared_ptr<model::BlockModel> deployed_;  // immutable once published
  std::shared_ptr<model::BlockModel> next_;      // trained, waiting for its deploy time
  // What answers requests: deployed_, or (bn_adapt) a copy of it whose BatchNorm statistics
  // follow the answered requests. Never the working model.
  std::shared_ptr<model::BlockModel> serving_;
  double next_ready_s_ = 0;
  double busy_until_s_ = 0;
  policy::Policy policy_;
  RuntimeConfig cfg_;
  std::unique_ptr<meter::Meter> meter_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  model::FlopsProfile flops_;
  ReplayBuffer replay_;
  // Frozen-prefix activations kept across rounds, keyed by sample id: a replayed sample
  // skips the frozen prefix in every round the prefix has not changed since it was cached.
  std::shared_ptr<tuning::ActivationCache> prefix_cache_;
  int64_t next_id_ = 0;  // every labeled or pseudo-labeled sample gets an id on arrival
  std::deque<Pending> pending_;
  torch::Tensor round_fresh_;  // the fresh samples of the round in progress (probe source)
  // The CKA probe's output of the frozen prefix's last block. Dropped whenever the prefix
  // changes, so while it is defined the prefix is the one that computed it and its blocks
  // have not changed: a check then runs only the trainable blocks.
  torch::Tensor probe_prefix_;
  int pending_samples_ = 0;
  int version_ = 0;
  int rounds_ = 0;
  double last_round_end_s_ = 0;
  int requests_since_round_ = 0;
  int64_t seen_samples_ = 0;
  // Labeled samples consumed (taken or dropped: seen_samples_ - pending_samples_) when the
  // staged version's round started, and when the answering version's did: lag_samples.
  int64_t next_consumed_ = 0, serving_consumed_ = 0;
  std::vector<bool> seen_class_;
  bool new_classes_ = false;
  bool label_space_grew_ = false;
  double newest_accuracy_ = policy::kUnknown;
  double recent_accuracy_ = policy::kUnknown;
  int frozen_prefix_ = 0;
  int round_min_prefix_ = 0;  // blocks frozen through the whole last round
  // Drift: detected changes wait here until a round (scheduler) and a check (freezer) see them.
  DriftMonitor monitor_;
  bool drift_sched_ = false, drift_freeze_ = false, new_classes_freeze_ = false;
  int gaps_since_change_ = 1 << 20;
  // Held-out gain: test-then-train accuracy of the batches a round trained on (before it) and
  // of the first batch after it, i.e. on data neither version trained on.
  double round_before_acc_ = policy::kUnknown;
  int round_before_n_ = 0;  // samples behind round_before_acc_
  bool gain_open_ = false;
  int gain_version_ = 0;  // the version the open gain measures
  double last_gain_ = policy::kUnknown;
  double last_gain_se_ = policy::kUnknown;
  // Similarity probe: fixed recent samples, and the block outputs at the previous check.
  torch::Tensor probe_;
  std::vector<torch::Tensor> probe_prev_;  // centered Gram matrix per block at the last check
  int64_t steps_trained_ = 0;              // SGD steps of every round so far
  int64_t steps_at_probe_ = 0;             // steps_trained_ when probe_prev_ was measured
  bool measure_next_ = false;
  // Answered requests (inputs, predicted labels, confidence): BN adaptation and pseudo-labels.
  torch::Tensor recent_x_;             // last answered inputs (BN refresh on deploy)
  torch::Tensor bn_waiting_;           // answered inputs since the last BN step
  torch::Tensor pseudo_x_, pseudo_y_;  // confident answers not trained on yet
  Totals totals_;
  PeerProbes peer_;
};

}  // namespace etuner::runtime
