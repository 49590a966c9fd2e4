// never: no fine-tuning at all; the pretrained model serves the whole stream.
#include "etuner/fields.h"
#include "sched/schedulers.h"

namespace etuner::sched {
namespace {

class Never final : public policy::Scheduler {
 public:
  policy::RoundDecision decide(const policy::ScheduleSignals&) override { return {}; }
  policy::SignalNeeds needs() const override { return {}; }
};

}  // namespace

// No parameters: any key is an error (a typo must not pass silently).
std::unique_ptr<policy::Scheduler> make_never(const nlohmann::json& params) {
  Fields(params, "never").finish();
  return std::make_unique<Never>();
}

}  // namespace etuner::sched
