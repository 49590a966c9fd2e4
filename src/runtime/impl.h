// The runtime's composition: each part owns one concern's state and changes it in its own
// file; Runtime::Impl only passes values between them (runtime.cpp: requests and labeled
// batches; round.cpp: a round from decision to staged version).
#pragma once
#include <memory>
#include <optional>

#include "etuner/publisher.h"
#include "etuner/runtime.h"
#include "etuner/tuning.h"
#include "runtime/adapter.h"
#include "runtime/freeze_probe.h"
#include "runtime/ledger.h"
#include "runtime/peer_probe.h"
#include "runtime/pending.h"
#include "runtime/replay_buffer.h"
#include "runtime/signals.h"
#include "runtime/version_shelf.h"

namespace etuner::runtime {

// A round's training data: fresh samples (labeled, then pseudo-labeled), then replayed ones,
// each row with its sample id.
struct RoundData {
  torch::Tensor x, y;
  torch::Tensor fresh_x, fresh_y;  // the labeled fresh samples (the probes' source)
  int64_t fresh_first_id = -1;
  std::vector<int64_t> fresh_batch_rows;  // the labeled batches the fresh samples came in
  int replayed = 0;
  std::vector<int64_t> ids;
};

struct Runtime::Impl {
  Impl(std::unique_ptr<model::BlockModel> model, policy::Policy policy, RuntimeConfig cfg,
       std::unique_ptr<meter::Meter> meter);

  // runtime.cpp
  Prediction predict(const torch::Tensor& images);
  void answer_chunk(const torch::Tensor& images, Prediction& p);
  int64_t add_labeled(const torch::Tensor& x, const torch::Tensor& y);
  std::optional<RoundRecord> advance(double now_s);
  policy::ScheduleSignals schedule_signals(double now_s) const;
  policy::RoundDecision decide(double now_s);
  void deploy_if_ready(double now_s);
  void hold_device();  // realtime: the passes outside rounds hold the device
  void retire(std::vector<PendingBatch> batches);
  void shelve_on_change(const torch::Tensor& x, const torch::Tensor& y);

  // round.cpp
  void reset_working_to(model::BlockModel& version);
  bool recall_version();
  RoundRecord run_round(const policy::RoundDecision& d, double now_s);
  RoundData gather(const policy::RoundDecision& d);
  tuning::RoundResult train(RoundData& data, const policy::RoundDecision& d);
  int choose_prefix(int round, int epoch, const torch::Tensor& fresh, bool learning_new_classes);
  void finish(RoundRecord& r, const RoundData& data, double now_s);

  RuntimeConfig cfg_;
  policy::Policy policy_;
  policy::SignalNeeds needs_;  // the scheduler's, fixed for the runtime's life
  bool detect_;                // the scenario-change detector runs (a policy reads its verdict)
  std::unique_ptr<model::BlockModel> working_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  Ledger ledger_;
  Publisher publisher_;
  Pending pending_;
  ReplayBuffer replay_;
  Signals signals_;
  FreezeProbe freeze_probe_;
  PeerProbe peer_probe_;
  Adapter adapter_;
  // Frozen-prefix activations kept across rounds, keyed by sample id: a replayed sample
  // skips the frozen prefix in every round the prefix has not changed since it was cached.
  std::shared_ptr<tuning::ActivationCache> prefix_cache_;
  // Recurring scenarios: versions by scenario, and the one a recall would start from.
  std::unique_ptr<VersionShelf> shelf_;
  std::shared_ptr<model::BlockModel> recall_;
  TrueScenario true_scenario_;
  double busy_until_s_ = 0;    // realtime: the device is held until then
  double last_advance_s_ = 0;  // stream time of the last advance() (see hold_device)
  std::string last_freeze_reason_;
};

}  // namespace etuner::runtime
