// autofreeze: gradient-norm based freezing, after AutoFreeze (Liu, Agarwal, Venkataraman,
// "AutoFreeze: Automatically Freezing Model Blocks to Accelerate Fine-tuning", arXiv
// 2102.01386, 2021), of the FreezeOut family (Brock et al., arXiv 1706.04983, 2017: freeze
// layers front to back as training proceeds).
// Published: at every evaluation interval AutoFreeze accumulates each block's gradient
// norm, computes its rate of change since the previous interval, and freezes the blocks at
// the front whose rate is below a percentile of all trainable blocks' rates (the median
// matched an SVCCA-based ideal best); frozen blocks' activations are cached.
// What we implement: the runtime reports, at every epoch start, each unit's mean per-step
// gradient L2 norm since the previous check (`FreezeSignals::grad_norms`, the head last).
// Per trainable unit the rate is |g_prev - g_now| / g_prev; the threshold is the
// `percentile`-th percentile (nearest rank) of the trainable units' rates, head included
// (the head never freezes, so the last trainable block always has a peer to rank against).
// The frozen prefix grows over the front blocks whose rate is at or below it, in order.
// Continual-stream adaptation (ours): AutoFreeze fine-tunes once on a fixed data set and
// never unfreezes. Here, with `unfreeze_on_change` (default), the runtime's scenario-change
// detector (the one lazytune reads) unfreezes every block, so the comparison with simfreeze
// isolates the freezing rule; `unfreeze_on_change: false` is the published behaviour.
// Defaults: percentile 50 (the paper's median), unfreeze on change, every block may freeze.
#include <algorithm>
#include <cmath>
#include <vector>

#include "etuner/fields.h"
#include "freeze/freezers.h"

namespace etuner::freeze {
namespace {

struct AutoParams {
  double percentile = 50;
  bool unfreeze_on_change = true;
  int max_frozen = -1;  // -1 = every block may freeze (the head still trains)
};

AutoParams parse_auto(const nlohmann::json& j) {
  Fields f(j, "autofreeze");
  AutoParams p;
  p.percentile = std::clamp(f.get("percentile", p.percentile), 0.0, 100.0);
  p.unfreeze_on_change = f.get("unfreeze_on_change", p.unfreeze_on_change);
  p.max_frozen = f.get("max_frozen", p.max_frozen);
  f.finish();  // unknown parameters are errors that list the valid ones
  return p;
}

// Nearest-rank percentile of non-empty `v`.
double percentile_of(std::vector<double> v, double pct) {
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(pct / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

class AutoFreeze final : public policy::Freezer {
 public:
  explicit AutoFreeze(AutoParams p) : p_(p) {}

  policy::FreezePlan decide(const policy::FreezeSignals& s) override {
    if (s.drift && p_.unfreeze_on_change) {
      prev_.clear();
      return unfreeze_all(s, false);
    }
    const int limit = frozen_limit(p_.max_frozen, s.num_blocks);
    int prefix = current_prefix(s, p_.max_frozen);
    const auto rates = change_rates(s, prefix);
    if (!rates.empty()) {
      std::vector<double> known;
      for (double r : rates)
        if (!std::isnan(r)) known.push_back(r);
      const double cut = known.empty() ? -1 : percentile_of(known, p_.percentile);
      while (prefix < limit && !std::isnan(rates[prefix]) && rates[prefix] <= cut) ++prefix;
    }
    if (!s.grad_norms.empty()) prev_ = s.grad_norms;
    return policy::FreezePlan::at(prefix).because(
        prefix > s.frozen_prefix ? "gradient norms settled" : "kept");
  }

  policy::FreezeNeeds needs() const override {
    return policy::FreezeNeeds{}.with_grad_norms().with_drift(p_.unfreeze_on_change);
  }

 private:
  // Per unit: the rate of change of its gradient norm; NaN where unknown or frozen. Empty
  // without two measurements of the same units.
  std::vector<double> change_rates(const policy::FreezeSignals& s, int prefix) const {
    const size_t units = static_cast<size_t>(s.num_blocks) + 1;
    if (s.grad_norms.size() != units || prev_.size() != units) return {};
    std::vector<double> rates(units, std::nan(""));
    for (size_t u = prefix; u < units; ++u)
      if (prev_[u] > 0 && s.grad_norms[u] > 0)
        rates[u] = std::abs(prev_[u] - s.grad_norms[u]) / prev_[u];
    return rates;
  }

  AutoParams p_;
  std::vector<double> prev_;
};

}  // namespace

std::unique_ptr<policy::Freezer> make_autofreeze(const nlohmann::json& params) {
  return std::make_unique<AutoFreeze>(parse_auto(params));
}

}  // namespace etuner::freeze
