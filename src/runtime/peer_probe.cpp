#include "runtime/peer_probe.h"

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

}  // namespace

std::vector<double> PeerProbe::mean_norms() const {
  std::vector<double> out(grad_sum_.size(), 0.0);
  for (size_t u = 0; u < out.size(); ++u)
    if (grad_sum_[u].defined()) out[u] = grad_sum_[u].item<double>() / grad_steps_;
  return out;
}

std::function<void(model::BlockModel&)> PeerProbe::grad_observer() {
  if (!needs_.grad_norms) return {};
  return [this](model::BlockModel& m) { observe_gradients(m); };
}

void PeerProbe::observe_gradients(model::BlockModel& m) {
  torch::NoGradGuard no_grad;
  grad_sum_.resize(m.num_units());
  for (int u = 0; u < m.num_units(); ++u) {
    torch::Tensor sq;
    for (const auto& p : m.unit_parameters(u))
      if (p.grad().defined()) {
        auto g = p.grad().pow(2).sum();
        sq = sq.defined() ? sq + g : g;
      }
    if (!sq.defined()) continue;  // frozen: no gradient
    auto& acc = grad_sum_[u];
    acc = acc.defined() ? acc + sq.sqrt() : sq.sqrt();
  }
  ++grad_steps_;
}

void PeerProbe::before_check(model::BlockModel& m, const torch::Tensor& fresh, int frozen_prefix,
                             policy::FreezeSignals& s) {
  if (s.drift) {  // a change: new probe and reference, gradients of the old scenario dropped
    grad_sum_.clear();
    grad_steps_ = 0;
    probe_ = torch::Tensor();
    reference_.clear();
    return;
  }
  if (needs_.grad_norms && grad_steps_ > 0) {
    s.grad_norms = mean_norms();
    grad_sum_.clear();
    grad_steps_ = 0;
  }
  if (needs_.plasticity && s.round_start) measure_plasticity(m, fresh, frozen_prefix, s);
}

void PeerProbe::measure_plasticity(model::BlockModel& m, const torch::Tensor& fresh,
                                   int frozen_prefix, policy::FreezeSignals& s) {
  ledger_.begin_probe();
  if (!probe_.defined() && fresh.defined())
    probe_ = fresh.slice(0, 0, std::min(kPlasticityProbe, fresh.size(0)));
  if (probe_.defined()) {
    auto now = tuning::block_outputs(m, probe_, frozen_prefix);
    // Every block's output, the frozen ones included, from the probe itself.
    ledger_.count_decision_pass(Ledger::Decision::kProbe, probe_.size(0), 0, m.num_blocks());
    if (reference_.size() == now.size()) {
      s.plasticity.assign(now.size(), 0.0);
      for (size_t b = frozen_prefix; b < now.size(); ++b)
        s.plasticity[b] = relative_distance(now[b], reference_[b]);
    }
    reference_ = std::move(now);
  }
  ledger_.end_probe();
}

}  // namespace etuner::runtime
