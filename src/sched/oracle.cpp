// oracle: the practical floor for when-to-tune. It is told the true scenario index of the
// stream (`ScheduleSignals::oracle_scenario`, from the stream spec; no other policy may
// read it), so it needs no drift detector and no held-out measurement.
// Source: no published system; it is the task-aware setting of continual learning (task
// boundaries given, the assumption that "Task-Free Continual Learning", Aljundi et al.,
// CVPR 2019, removes) turned into a scheduler, as etuner issue 7 asks: it bounds what a
// scenario-change detector can reach.
// The rule (precise):
//  1. The scenario index differs from the last one seen: a change. The change round runs at
//     the first decision after a labeled batch of the new scenario has arrived (detected as
//     `seen_samples` growing past its value at the last decision of the old scenario), on
//     everything pending (the old scenario's untrained tail and the new batch) at the
//     stream's epochs and replay. Requests of the new scenario arrive before its first batch;
//     until that batch, it waits.
//  2. Within a scenario, rounds merge geometrically: after the change round the next round
//     waits for `growth` (2) pending batches, then `growth`^2 ..., up to `max_merge` (8).
//     With 10 batches per scenario: rounds at batches 1, 3 and 7; batches 8-10 train in the
//     next change round. So every labeled sample is trained on, the training is front-loaded
//     at the change, and a scenario costs about log2(n) + 1 rounds.
// An index of -1 (none given, e.g. under `serve`) is one long scenario.
// Simplified: it does not know the scenarios' lengths, so it cannot save the tail for
// one final round; under the realtime protocol a busy device can delay step 1.
#include <algorithm>
#include <climits>

#include "etuner/fields.h"
#include "sched/schedulers.h"

namespace etuner::sched {
namespace {

struct OracleParams {
  int growth = 2;     // merge factor multiplier after each round within a scenario
  int max_merge = 8;  // most batches one round within a scenario waits for
};

OracleParams parse_oracle(const nlohmann::json& j) {
  Fields f(j, "oracle");
  OracleParams p;
  p.growth = std::max(1, f.get("growth", p.growth));
  p.max_merge = std::max(1, f.get("max_merge", p.max_merge));
  f.finish();  // unknown parameters are errors that list the valid ones
  return p;
}

class Oracle final : public policy::Scheduler {
 public:
  explicit Oracle(OracleParams p) : p_(p) {}

  policy::RoundDecision decide(const policy::ScheduleSignals& s) override {
    if (s.oracle_scenario != scenario_) {
      scenario_ = s.oracle_scenario;
      boundary_seen_ = last_seen_;
      change_ = true;
    }
    last_seen_ = s.seen_samples;
    if (s.pending_batches == 0) return {};
    if (change_) {
      if (s.seen_samples <= boundary_seen_) return {};  // the new scenario's first batch is due
      change_ = false;
      merge_ = std::min(p_.growth, p_.max_merge);
      return round("scenario " + std::to_string(scenario_) + " began");
    }
    if (s.pending_batches < merge_) return {};
    merge_ = std::min(merge_ * p_.growth, p_.max_merge);
    return round("merged " + std::to_string(s.pending_batches) + " batches");
  }

  policy::SignalNeeds needs() const override { return {}; }

 private:
  static policy::RoundDecision round(const std::string& why) {
    policy::RoundDecision d;
    d.run = true;  // everything pending, the stream's epochs and replay
    d.reason = why;
    return d;
  }

  OracleParams p_;
  int scenario_ = INT_MIN;  // none seen yet: the first decision is a change
  int64_t last_seen_ = 0, boundary_seen_ = 0;
  bool change_ = false;
  int merge_ = 1;
};

}  // namespace

std::unique_ptr<policy::Scheduler> make_oracle(const nlohmann::json& params) {
  return std::make_unique<Oracle>(parse_oracle(params));
}

}  // namespace etuner::sched
