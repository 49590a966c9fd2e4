// periodic: retrain on a fixed cadence, the simplest "when to tune" rule in deployed
// continual-learning systems and the usual periodic-retraining baseline (e.g. the fixed
// retraining windows of Ekya, Bhardwaj et al., NSDI 2022, without its profiler; and the
// "retrain every k batches" baselines of the edge continual-learning literature).
// What we implement: a round on everything pending once `every_batches` labeled batches are
// pending or, when `every_s` > 0, once `every_s` seconds of stream time have passed since the
// last round ended (and something is pending). Every round trains all blocks (use the
// `periodic` preset, or `periodic+<freezer>`) at the stream's epochs and replay.
// Simplified: no trigger on the inference load or on drift; the cadence is fixed per run.
// Defaults (chosen before any run, not tuned on the benchmark streams): every 4 batches,
// i.e. a quarter of immediate's rounds at the same data.
#include <algorithm>

#include "etuner/fields.h"
#include "sched/schedulers.h"

namespace etuner::sched {
namespace {

struct PeriodicParams {
  int every_batches = 4;
  double every_s = 0;  // > 0: a time cadence instead of a batch count
};

PeriodicParams parse_periodic(const nlohmann::json& j) {
  Fields f(j, "periodic");
  PeriodicParams p;
  p.every_batches = std::max(1, f.get("every_batches", p.every_batches));
  p.every_s = f.get("every_s", p.every_s);
  f.finish();  // unknown parameters are errors that list the valid ones
  return p;
}

class Periodic final : public policy::Scheduler {
 public:
  explicit Periodic(PeriodicParams p) : p_(p) {}

  policy::RoundDecision decide(const policy::ScheduleSignals& s) override {
    policy::RoundDecision d;
    if (s.pending_batches == 0) return d;
    if (p_.every_s > 0) {
      if (s.now_s - s.last_round_end_s < p_.every_s) return d;
      d.reason = "period elapsed";
    } else {
      if (s.pending_batches < p_.every_batches) return d;
      d.reason = std::to_string(s.pending_batches) + " batches pending";
    }
    d.run = true;  // take_samples 0: everything pending
    return d;
  }

  policy::SignalNeeds needs() const override { return {}; }

 private:
  PeriodicParams p_;
};

}  // namespace

std::unique_ptr<policy::Scheduler> make_periodic(const nlohmann::json& params) {
  return std::make_unique<Periodic>(parse_periodic(params));
}

}  // namespace etuner::sched
