// egeria: plasticity-guided freezing, after Egeria (Wang, Sun, Chen, Lai, Chowdhury, "Egeria:
// Efficient DNN Training with Knowledge-Guided Layer Freezing", EuroSys 2023).
// Published: a reference model (an int8-quantized copy of the training model, refreshed
// periodically, run asynchronously on spare CPUs) gives each layer's "training plasticity":
// the loss between the layer's activations in the training and in the reference model on
// the same inputs. Egeria tracks each layer's plasticity over evaluations and, once the
// front-most active layer's plasticity has stopped changing (its trend flattened), freezes
// it; frozen layers' outputs are cached (with prefetching) to skip their forward passes.
// What we implement: the reference is a lagging full-precision snapshot of the working
// model, refreshed at each measurement (round starts), so plasticity is how far a block's
// output on a fixed probe moved during the last round, relative to its size
// (`FreezeSignals::plasticity`, measured by the runtime only for freezers that need it).
// Per trainable block an exponential moving average (weight `smoothing` on the newest value)
// smooths the noisy per-round plasticity; the trend is converged when the average changed by
// less than `tolerance` (relative) at `patience` consecutive measurements. Then the front-most
// trainable block freezes: one block per check, front to back, as in Egeria. The head always
// trains; frozen prefixes are served from the round's activation cache.
// Simplified: a lagging snapshot instead of a quantized one (no int8 kernels in LibTorch 1.13
// CPU for every zoo block), run synchronously (its cost is fine-tuning time), measured once
// per round; no prefetching. Continual-stream adaptation (ours): with `unfreeze_on_change`
// (default) the runtime's scenario-change detector (the one lazytune reads) unfreezes every
// block, as for autofreeze; `false` is the published behaviour (no unfreezing).
// Defaults (ours, chosen before any run, not tuned on the benchmark streams): smoothing 0.5,
// tolerance 0.1, patience 2.
#include <algorithm>
#include <cmath>
#include <vector>

#include "etuner/fields.h"
#include "freeze/freezers.h"

namespace etuner::freeze {
namespace {

struct EgeriaParams {
  double smoothing = 0.5;
  double tolerance = 0.1;
  int patience = 2;
  bool unfreeze_on_change = true;
  int max_frozen = -1;  // -1 = every block may freeze (the head still trains)
};

EgeriaParams parse_egeria(const nlohmann::json& j) {
  Fields f(j, "egeria");
  EgeriaParams p;
  p.smoothing = std::clamp(f.get("smoothing", p.smoothing), 0.0, 1.0);
  p.tolerance = f.get("tolerance", p.tolerance);
  p.patience = std::max(1, f.get("patience", p.patience));
  p.unfreeze_on_change = f.get("unfreeze_on_change", p.unfreeze_on_change);
  p.max_frozen = f.get("max_frozen", p.max_frozen);
  f.finish();  // unknown parameters are errors that list the valid ones
  return p;
}

class Egeria final : public policy::Freezer {
 public:
  explicit Egeria(EgeriaParams p) : p_(p) {}

  policy::FreezePlan decide(const policy::FreezeSignals& s) override {
    avg_.resize(s.num_blocks, std::nan(""));
    streak_.resize(s.num_blocks, 0);
    if (s.drift && p_.unfreeze_on_change) {
      std::fill(avg_.begin(), avg_.end(), std::nan(""));
      std::fill(streak_.begin(), streak_.end(), 0);
      return unfreeze_all(s, false);
    }
    const int limit = frozen_limit(p_.max_frozen, s.num_blocks);
    const int prefix = current_prefix(s, p_.max_frozen);
    if (static_cast<int>(s.plasticity.size()) != s.num_blocks)
      return policy::FreezePlan::at(prefix).because("kept");
    for (int b = prefix; b < s.num_blocks; ++b) track(b, s.plasticity[b]);
    if (prefix < limit && streak_[prefix] >= p_.patience)
      return policy::FreezePlan::at(prefix + 1).because("plasticity converged");
    return policy::FreezePlan::at(prefix).because("kept");
  }

  policy::FreezeNeeds needs() const override {
    return policy::FreezeNeeds{}.with_plasticity().with_drift(p_.unfreeze_on_change);
  }

 private:
  // The smoothed plasticity of block b and its run of converged measurements.
  void track(int b, double plasticity) {
    const double old = avg_[b];
    if (std::isnan(old)) {
      avg_[b] = plasticity;
      streak_[b] = 0;
      return;
    }
    avg_[b] = (1 - p_.smoothing) * old + p_.smoothing * plasticity;
    const double change = old > 0 ? std::abs(avg_[b] - old) / old : (avg_[b] > 0 ? 1.0 : 0.0);
    streak_[b] = change < p_.tolerance ? streak_[b] + 1 : 0;
  }

  EgeriaParams p_;
  std::vector<double> avg_;
  std::vector<int> streak_;
};

}  // namespace

std::unique_ptr<policy::Freezer> make_egeria(const nlohmann::json& params) {
  return std::make_unique<Egeria>(parse_egeria(params));
}

}  // namespace etuner::freeze
