// Signals of the peer freezers (docs/peers.md), measured only when the freezer's needs() ask:
// - gradient norms (autofreeze): per unit, the L2 norm of its gradient after each backward
//   pass, summed on the device (no host sync per step) and averaged per check;
// - plasticity (egeria): per block, how far its output on a fixed probe moved away from a
//   lagging reference: the outputs of the model at the previous measurement, kept as tensors.
// Both run inside the round's meter window, so their cost is fine-tuning time; plasticity
// probes are also reported with the similarity probes (`similarity_seconds`).
#include "etuner/runtime.h"
#include "etuner/tuning.h"

namespace etuner::runtime {
namespace {

constexpr int64_t kPlasticityProbe = 32;  // as the CKA probe

// Squared distance of `now` from `ref`, relative to the squared norm of `ref`.
double relative_distance(const torch::Tensor& now, const torch::Tensor& ref) {
  const double den = ref.to(torch::kDouble).pow(2).sum().item<double>();
  const double num = (now - ref).to(torch::kDouble).pow(2).sum().item<double>();
  return den > 0 ? num / den : 0.0;
}

std::vector<double> mean_norms(PeerProbes& p) {
  std::vector<double> out(p.grad_sum.size(), 0.0);
  for (size_t u = 0; u < out.size(); ++u)
    if (p.grad_sum[u].defined()) out[u] = p.grad_sum[u].item<double>() / p.grad_steps;
  return out;
}

}  // namespace

std::function<void(model::BlockModel&)> Runtime::grad_observer() {
  if (!policy_.freezer->needs().grad_norms) return {};
  return [this](model::BlockModel& m) {
    torch::NoGradGuard no_grad;
    peer_.grad_sum.resize(m.num_units());
    for (int u = 0; u < m.num_units(); ++u) {
      torch::Tensor sq;
      for (const auto& p : m.unit_parameters(u))
        if (p.grad().defined()) {
          auto g = p.grad().pow(2).sum();
          sq = sq.defined() ? sq + g : g;
        }
      if (!sq.defined()) continue;  // frozen: no gradient
      auto& acc = peer_.grad_sum[u];
      acc = acc.defined() ? acc + sq.sqrt() : sq.sqrt();
    }
    ++peer_.grad_steps;
  };
}

void Runtime::measure_peer_signals(policy::FreezeSignals& s) {
  const auto needs = policy_.freezer->needs();
  if (s.drift) {  // a change: new probe and reference, gradients of the old scenario dropped
    peer_ = PeerProbes{};
    return;
  }
  if (needs.grad_norms && peer_.grad_steps > 0) {
    s.grad_norms = mean_norms(peer_);
    peer_.grad_sum.clear();
    peer_.grad_steps = 0;
  }
  if (!needs.plasticity || !s.round_start) return;
  meter_->begin("similarity");
  if (!peer_.probe.defined() && round_fresh_.defined())
    peer_.probe = round_fresh_.slice(0, 0, std::min(kPlasticityProbe, round_fresh_.size(0)));
  if (peer_.probe.defined()) {
    auto now = tuning::block_outputs(*working_, peer_.probe, frozen_prefix_);
    count_decision_pass(peer_.probe.size(0), working_->num_blocks());
    if (peer_.reference.size() == now.size()) {
      s.plasticity.assign(now.size(), 0.0);
      for (size_t b = frozen_prefix_; b < now.size(); ++b)
        s.plasticity[b] = relative_distance(now[b], peer_.reference[b]);
    }
    peer_.reference = std::move(now);
  }
  sync_device();
  totals_.similarity_s += meter_->end("similarity").time_s;  // already inside the round's window
}

}  // namespace etuner::runtime
