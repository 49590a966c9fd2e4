// none: every block trains, always.
#include "etuner/fields.h"
#include "freeze/freezers.h"

namespace etuner::freeze {
namespace {

class None final : public policy::Freezer {
 public:
  policy::FreezePlan decide(const policy::FreezeSignals&) override { return {}; }
};

}  // namespace

// No parameters: any key is an error (a typo must not pass silently).
std::unique_ptr<policy::Freezer> make_none(const nlohmann::json& params) {
  Fields(params, "none").finish();
  return std::make_unique<None>();
}

}  // namespace etuner::freeze
