// Signals of the peer freezers (docs/peers.md), measured only when the freezer's needs() ask:
// - gradient norms (autofreeze): per unit, the L2 norm of its gradient after each backward
//   pass, summed on the device (no host sync per step) and averaged per check;
// - plasticity (egeria): per block, how far its output on a fixed probe moved away from a
//   lagging reference: the outputs of the model at the previous measurement, kept as tensors.
// Both run inside the round's meter window, so their cost is fine-tuning time; plasticity
// probes are also reported with the similarity probes (`similarity_seconds`).
#pragma once
#include <torch/torch.h>

#include <functional>
#include <vector>

#include "etuner/model.h"
#include "etuner/policy.h"
#include "runtime/ledger.h"

namespace etuner::runtime {

class PeerProbe {
 public:
  PeerProbe(Ledger& ledger, policy::FreezeNeeds needs) : ledger_(ledger), needs_(needs) {}

  // Called after every backward pass of a round; empty when no gradient norms are needed.
  std::function<void(model::BlockModel&)> grad_observer();
  // Fills what the freezer needs into `s` (a change drops the old scenario's measurements).
  void before_check(model::BlockModel& m, const torch::Tensor& fresh, int frozen_prefix,
                    policy::FreezeSignals& s);

 private:
  void observe_gradients(model::BlockModel& m);
  void measure_plasticity(model::BlockModel& m, const torch::Tensor& fresh, int frozen_prefix,
                          policy::FreezeSignals& s);
  std::vector<double> mean_norms() const;

  Ledger& ledger_;
  policy::FreezeNeeds needs_;
  std::vector<torch::Tensor> grad_sum_;  // per unit: per-step gradient norms, summed
  int grad_steps_ = 0;
  torch::Tensor probe_;  // fixed since the last change
  // Block outputs on the probe at the previous measurement: what a lagging reference copy
  // of the model would compute, kept instead of the copy (no clone, no second forward).
  std::vector<torch::Tensor> reference_;
};

}  // namespace etuner::runtime
