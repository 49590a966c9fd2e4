// simfreeze: freeze the longest prefix of blocks whose representation stopped changing.
// At every check the runtime measures, per block, linear CKA between its output on a fixed
// probe now and at the previous check. A block has converged when, for `patience` consecutive
// checks, its CKA stayed at or above `threshold`; optionally (`decay` < 1, off by default:
// it buys accuracy with most of the savings, docs/algorithms.md) also its drift per training
// step (1 - CKA over the steps between the checks) must have fallen to `decay` of the fastest
// it drifted since it last started training: at a small learning rate a block still learning
// steadily drifts little per check, but not less than it did. The frozen prefix grows to
// the longest run of converged blocks from the input side (a block after a trainable one
// keeps training: its input still moves). The prefix only grows within a scenario; a detected
// change unfreezes every block, because a shift of the inputs moves the earliest representations
// first and a frozen prefix would serve stale features to everything after it. New classes unfreeze
// the back of the prefix (`new_class_keep`), and `class_max_frozen` (off by default) caps the
// prefix while the scheduler reads them as still being learned. The head always trains.
#include <algorithm>
#include <vector>

#include "etuner/fields.h"
#include "freeze/freezers.h"

namespace etuner::freeze {
namespace {

struct SimParams {
  double threshold = 0.999;
  int patience = 2;
  int max_frozen = -1;          // -1 = every block may freeze (the head still trains)
  double new_class_keep = 0.5;  // share of the frozen prefix kept when new classes arrive
  double decay = 1;  // drift per step relative to its peak since training (re)started; 1 = off
  int probe_samples = 32;  // CKA probe size: enough for a stable n x n Gram matrix
  // While the scheduler reads new classes as still being learned, the prefix holds at most
  // this many blocks (-1 = off): CKA on the new classes' samples says little about whether a
  // block should train for them (docs/notebook/2026-12-07-class-increments.md).
  int class_max_frozen = -1;
  // Converged checks a block needs to freeze again after a change, and at deployment (0 =
  // `patience`). The first check after a change spans the change round itself, a full-epoch
  // round on the new scenario's data: a block that held its representation through that
  // has little to learn from the scenario. Off by default: it cost fmnist-ni's contrast
  // scenario 1.7-5.3 points (docs/algorithms.md, "Refreezing from the change round's check").
  int change_checks = 0;
  // The CKA a block's first check after a change must reach for the head start to count
  // (0 = `threshold`); a block that held less firmly needs `patience` checks.
  double change_threshold = 0;
};

SimParams parse(const nlohmann::json& j) {
  Fields f(j, "simfreeze");
  SimParams p;
  p.threshold = f.get("threshold", p.threshold);
  p.patience = std::max(1, f.get("patience", p.patience));
  p.max_frozen = f.get("max_frozen", p.max_frozen);
  p.new_class_keep = std::clamp(f.get("new_class_keep", p.new_class_keep), 0.0, 1.0);
  p.decay = std::max(0.0, f.get("decay", p.decay));
  p.probe_samples = std::max(2, f.get("probe_samples", p.probe_samples));
  p.class_max_frozen = f.get("class_max_frozen", p.class_max_frozen);
  p.change_checks = std::max(0, f.get("change_checks", p.change_checks));
  p.change_threshold = f.get("change_threshold", p.change_threshold);
  f.finish();  // unknown parameters are errors that list the valid ones
  return p;
}

class SimFreeze final : public policy::Freezer {
 public:
  explicit SimFreeze(SimParams p) : p_(p) {}

  policy::FreezePlan decide(const policy::FreezeSignals& s) override {
    track(s.num_blocks);
    peak_rate_.resize(s.num_blocks, 0.0);
    if (s.drift) return unfreeze(s);
    if (s.new_classes) return make_room(s);
    count(s);
    const int most = max_frozen(s);
    const int limit = frozen_limit(most, s.num_blocks);
    int prefix = current_prefix(s, most);
    while (prefix < limit && streak_[prefix] >= p_.patience) ++prefix;
    policy::FreezePlan plan{prefix, prefix < s.num_blocks, ""};
    plan.reason = prefix > s.frozen_prefix   ? "converged blocks frozen"
                  : prefix < s.frozen_prefix ? "new classes still learned: blocks reopened"
                                             : "kept";
    return plan;
  }

  // Unfreezing on a change is half the rule: the detector runs whatever the scheduler reads
  // (immediate reads nothing, and `freeze` kept a stale prefix through a contrast shift).
  policy::FreezeNeeds needs() const override {
    return policy::FreezeNeeds{}.with_drift().with_probe_samples(p_.probe_samples);
  }

 private:
  // The cap in force: `class_max_frozen` while new classes are still being learned. Streaks
  // keep counting meanwhile, so converged blocks refreeze at the first check after the phase.
  int max_frozen(const policy::FreezeSignals& s) const {
    if (!s.learning_new_classes || p_.class_max_frozen < 0) return p_.max_frozen;
    return p_.max_frozen < 0 ? p_.class_max_frozen : std::min(p_.max_frozen, p_.class_max_frozen);
  }

  // The streak a block starts from after a change: `change_checks` converged checks then
  // reach `patience`.
  int head_start() const {
    return p_.change_checks > 0 ? std::max(0, p_.patience - p_.change_checks) : 0;
  }

  // Blocks not tracked yet start as after a change: the deployed model at its first check.
  void track(int num_blocks) {
    streak_.resize(std::max<size_t>(streak_.size(), num_blocks), head_start());
    head_started_.resize(streak_.size(), head_start() > 0);
  }

  policy::FreezePlan unfreeze(const policy::FreezeSignals& s) {
    streak_.clear();
    head_started_.clear();
    track(s.num_blocks);
    std::fill(peak_rate_.begin(), peak_rate_.end(), 0.0);
    return unfreeze_all(s, true);
  }

  // New classes over the same inputs: the deep, class-specific blocks must learn features
  // for them, the early, generic ones need not (Yosinski et al. 2014: transferability falls
  // with depth). Keep the front `new_class_keep` of the prefix frozen, retrain the rest and
  // let CKA freeze it again once it settles.
  policy::FreezePlan make_room(const policy::FreezeSignals& s) {
    const int keep = static_cast<int>(p_.new_class_keep * current_prefix(s, p_.max_frozen));
    for (int b = keep; b < s.num_blocks; ++b)
      streak_[b] = 0, peak_rate_[b] = 0, head_started_[b] = false;
    const bool changed = keep < s.frozen_prefix;
    return policy::FreezePlan::at(keep).measuring().because(
        changed ? "new classes: deep frozen blocks retrain" : "kept");
  }

  // Consecutive converged checks, per block; no measurement (or no step since) is no evidence.
  void count(const policy::FreezeSignals& s) {
    if (s.similarity_steps <= 0) return;
    for (int b = 0; b < s.num_blocks; ++b) {
      const bool have = b < static_cast<int>(s.similarity.size());
      if (!have) continue;
      const bool held = converged(b, s.similarity[b], s.similarity_steps);
      const bool firm = s.similarity[b] >= std::max(p_.threshold, p_.change_threshold);
      streak_[b] = !held ? 0 : head_started_[b] && !firm ? 1 : streak_[b] + 1;
      head_started_[b] = false;  // only the first check after a change has a head start
    }
  }

  // Above the threshold, and slowed down: the drift per step, compared across checks of
  // different round sizes, at most `decay` of this block's fastest since it started training.
  bool converged(int b, double cka, int steps) {
    const double rate = std::max(0.0, 1.0 - cka) / steps;
    peak_rate_[b] = std::max(peak_rate_[b], rate);
    const bool slowed = p_.decay >= 1 || rate <= p_.decay * peak_rate_[b];
    return cka >= p_.threshold && slowed;
  }

  SimParams p_;
  std::vector<int> streak_;
  std::vector<bool> head_started_;  // per block: its streak starts ahead, until its next check
  std::vector<double>
      peak_rate_;  // per block: fastest drift per step since it last started training
};

}  // namespace

std::unique_ptr<policy::Freezer> make_simfreeze(const nlohmann::json& params) {
  return std::make_unique<SimFreeze>(parse(params));
}

}  // namespace etuner::freeze
