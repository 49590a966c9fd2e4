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
// arriving meanwhile are answered by the previous version. The parts it composes live in
// src/runtime/ (impl.h lists them).
#pragma once
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etuner/device_profile.h"
#include "etuner/meter.h"
#include "etuner/model.h"
#include "etuner/policy.h"
#include "etuner/runtime_records.h"
#include "etuner/train_config.h"

namespace etuner::runtime {

struct RuntimeConfig {
  tuning::TrainConfig train;
  Protocol protocol = Protocol::kInstant;
  DeviceProfile profile;
  torch::Device device = torch::kCPU;
  uint64_t seed = 1;
  double cache_mb = 256;
  // The reference path of the activation cache and of the CKA probe's kept prefix output:
  // recompute every reused activation and throw if it differs (slow; tests and debugging).
  bool verify_cache = false;
  std::string checkpoint_dir;      // "" = no checkpoints
  std::vector<int> known_classes;  // classes the deployed model was trained on
};

// The true scenario now, from whoever replays the stream (the harness). Only oracle-style
// peers read it, and round records carry it for reports; -1 when unknown.
using TrueScenario = std::function<int()>;

class Runtime {
 public:
  Runtime(std::unique_ptr<model::BlockModel> model, policy::Policy policy, RuntimeConfig cfg,
          std::unique_ptr<meter::Meter> meter);
  ~Runtime();
  Runtime(Runtime&&) noexcept;
  Runtime& operator=(Runtime&&) noexcept;

  // Seeds the replay buffer (e.g. with pretraining samples the device ships with).
  void seed_replay(const torch::Tensor& x, const torch::Tensor& y);
  void set_true_scenario(TrueScenario source);

  Prediction predict(const torch::Tensor& images);
  // A labeled batch arrives. Returns the id of its first sample; the others follow in order.
  // Rounds report which ids they trained and retired (take_consumed).
  int64_t add_labeled(const torch::Tensor& x, const torch::Tensor& y, double now_s);
  // Deploys a finished round whose time has come, then asks the scheduler (if the device is
  // free) and runs the round it decides on.
  std::optional<RoundRecord> advance(double now_s);
  // Labeled samples consumed since the last call: trained by a round, or retired untrained
  // by a scheduler's decision (with or without a round).
  Consumed take_consumed();

  int version() const;
  // The deployed version's model, immutable once published (serve clones it per version).
  std::shared_ptr<const model::BlockModel> deployed() const;
  // What answers requests now: the deployed version, or its copy that the policy's adapter
  // keeps following the answered requests (serve commits this one).
  std::shared_ptr<const model::BlockModel> answering() const;
  // When a trained version is due to be deployed (infinity if none is waiting).
  double next_deploy_s() const;
  const Totals& totals() const;
  const policy::Policy& policy() const;
  int num_blocks() const;
  // The meter's source now (a measured backend may have fallen back during the run).
  std::string energy_source() const;

  struct Impl;  // src/runtime/impl.h

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace etuner::runtime
