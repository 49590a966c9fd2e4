// ekya: retraining windows with a micro-profiler, after Ekya (Bhardwaj et al., "Ekya:
// Continuous Learning of Video Analytics Models on Edge Compute Servers", NSDI 2022).
// Published: time is cut into retraining windows; at each window a micro-profiler trains
// every candidate retraining configuration (epochs, frozen layers, data fraction) for a few
// epochs on a small subsample, extrapolates its accuracy, and a "thief" scheduler splits the
// GPU between inference and retraining jobs of many video streams so that the accuracy
// averaged over the window is highest.
// What we implement: a window closes once `window_batches` labeled batches are pending (or
// `window_s` seconds of stream time have passed since the last round, when > 0). The
// scheduler then asks the runtime to profile the candidates `epochs` x `replay_fractions`
// (policy::ProfileCandidate): each trains a copy of the model on `profile_fraction` of the
// round's fresh and replayed samples for its epochs and is scored on a quarter of the
// pending samples held out from every trial (src/runtime/runtime_profile.cpp; the trials
// count as fine-tuning time). It picks the candidate with the best held-out gain per
// sample pass of the full round; if none gains more than `min_gain`, the window's samples
// retire into the replay buffer untrained (our reading of "gain per cost": a retraining
// that is expected to gain nothing is not worth its cost).
// Simplified: one model and one stream, so the thief scheduler's resource split is moot;
// the profile is read as is (no accuracy-curve extrapolation); frozen layers are not a
// configuration knob here (pair it with a freezer, `ekya+<freezer>`, for that).
// Defaults (chosen before any run, not tuned on the benchmark streams): windows of 4 batches
// (as `periodic`, so the pair isolates the profiler), epochs {1, the stream's}, replay
// {1/4, all of the stream's}, trials on 1/4 of the data (Ekya profiles on a small subsample).
#include <algorithm>
#include <cmath>
#include <utility>

#include "etuner/fields.h"
#include "sched/schedulers.h"

namespace etuner::sched {
namespace {

struct EkyaParams {
  int window_batches = 4;
  double window_s = 0;               // > 0: windows of stream time instead of batch counts
  std::vector<int> epochs = {1, 0};  // 0 = the stream's epochs_per_round
  std::vector<double> replay_fractions = {0.25, 1.0};
  double profile_fraction = 0.25;
  double min_gain = 0.0;
};

EkyaParams parse_ekya(const nlohmann::json& j) {
  Fields f(j, "ekya");
  EkyaParams p;
  p.window_batches = std::max(1, f.get("window_batches", p.window_batches));
  p.window_s = f.get("window_s", p.window_s);
  p.epochs = f.get("epochs", p.epochs);
  p.replay_fractions = f.get("replay_fractions", p.replay_fractions);
  p.profile_fraction = f.get("profile_fraction", p.profile_fraction);
  p.min_gain = f.get("min_gain", p.min_gain);
  f.finish();  // unknown parameters are errors that list the valid ones
  if (p.epochs.empty() || p.replay_fractions.empty())
    throw ConfigError("ekya: epochs and replay_fractions need at least one value each");
  return p;
}

class Ekya final : public policy::Scheduler {
 public:
  explicit Ekya(EkyaParams p) : p_(std::move(p)) {}

  policy::RoundDecision decide(const policy::ScheduleSignals& s) override {
    if (s.pending_batches == 0) return {};
    if (!s.profile.empty()) return choose(s);
    if (!window_closed(s)) return {};
    policy::RoundDecision d;
    for (int e : p_.epochs)
      for (double r : p_.replay_fractions)
        d.profile.push_back({std::max(e, 0), r, p_.profile_fraction});
    d.reason = "window closed: profiling";
    return d;
  }

  policy::SignalNeeds needs() const override { return {}; }

 private:
  bool window_closed(const policy::ScheduleSignals& s) const {
    if (p_.window_s > 0) return s.now_s - s.last_round_end_s >= p_.window_s;
    return s.pending_batches >= p_.window_batches;
  }

  // The best held-out gain per sample pass; nothing that gains enough: skip the window.
  policy::RoundDecision choose(const policy::ScheduleSignals& s) const {
    const policy::ProfileResult* best = nullptr;
    for (const auto& r : s.profile) {
      if (std::isnan(r.gain) || r.gain <= p_.min_gain || r.cost_samples <= 0) continue;
      if (!best || r.gain / r.cost_samples > best->gain / best->cost_samples) best = &r;
    }
    policy::RoundDecision d;
    if (!best) {
      d.drop_samples = s.pending_samples;
      d.reason = "profiled: no configuration gains; window skipped";
      return d;
    }
    d.run = true;
    d.epochs = best->epochs;
    d.replay_samples = best->replay_samples;
    d.reason = "profiled: " + std::to_string(best->epochs) + " epochs, " +
               std::to_string(best->replay_samples) + " replayed";
    return d;
  }

  EkyaParams p_;
};

}  // namespace

std::unique_ptr<policy::Scheduler> make_ekya(const nlohmann::json& params) {
  return std::make_unique<Ekya>(parse_ekya(params));
}

}  // namespace etuner::sched
