#include "etuner/tuning.h"

namespace etuner::tuning {

void apply_plan(model::BlockModel& m, const policy::FreezePlan& plan) {
  const int prefix = std::clamp(plan.frozen_prefix, 0, m.num_blocks());
  for (int u = 0; u < m.num_units(); ++u) {
    const bool frozen = u < prefix;
    for (auto& p : m.unit_parameters(u)) {
      p.set_requires_grad(!frozen);
      if (frozen && p.grad().defined()) p.mutable_grad().reset();
    }
    m.set_unit_training(u, !frozen);
  }
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(model::BlockModel& m,
                                                        const OptimizerConfig& cfg) {
  if (cfg.kind == OptimizerKind::kAdam)
    return std::make_unique<torch::optim::Adam>(
        m.parameters(), torch::optim::AdamOptions(cfg.lr).weight_decay(cfg.weight_decay));
  return std::make_unique<torch::optim::SGD>(
      m.parameters(),
      torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum).weight_decay(cfg.weight_decay));
}

}  // namespace etuner::tuning
