// catchup: immediate as a user on a busy device would run it. A round as soon as a labeled
// batch is pending and the device is free, on the whole queue at once (immediate trains one
// batch per round and falls behind when rounds take longer than batches take to arrive).
#include "etuner/fields.h"
#include "sched/schedulers.h"

namespace etuner::sched {
namespace {

class Catchup final : public policy::Scheduler {
 public:
  policy::RoundDecision decide(const policy::ScheduleSignals& s) override {
    policy::RoundDecision d;
    if (s.pending_batches == 0) return d;
    d.run = true;
    d.take_samples = 0;  // all pending
    d.reason = s.pending_batches > 1 ? "queue caught up" : "batch arrived";
    return d;
  }
  policy::SignalNeeds needs() const override { return {}; }
};

}  // namespace

// No parameters: any key is an error (a typo must not pass silently).
std::unique_ptr<policy::Scheduler> make_catchup(const nlohmann::json& params) {
  Fields(params, "catchup").finish();
  return std::make_unique<Catchup>();
}

}  // namespace etuner::sched
