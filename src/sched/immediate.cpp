// immediate: the baseline ETuner must beat. A full round for every arriving labeled batch,
// as soon as the device is free; batches that queued up while a round ran get one round each.
#include "etuner/fields.h"
#include "sched/schedulers.h"

namespace etuner::sched {
namespace {

class Immediate final : public policy::Scheduler {
 public:
  policy::RoundDecision decide(const policy::ScheduleSignals& s) override {
    policy::RoundDecision d;
    if (s.pending_batches == 0) return d;
    d.run = true;
    d.take_samples = s.oldest_batch_samples;
    d.reason = "batch arrived";
    return d;
  }
  policy::SignalNeeds needs() const override { return {}; }
};

}  // namespace

// No parameters: any key is an error (a typo must not pass silently).
std::unique_ptr<policy::Scheduler> make_immediate(const nlohmann::json& params) {
  Fields(params, "immediate").finish();
  return std::make_unique<Immediate>();
}

}  // namespace etuner::sched
