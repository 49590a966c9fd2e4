// none: the deployed version answers as it was trained.
#include "adapt/adapters.h"
#include "etuner/fields.h"

namespace etuner::adapt {

// No parameters: any key is an error (a typo must not pass silently).
std::unique_ptr<policy::AdaptOptions> make_none(const nlohmann::json& params) {
  Fields(params, "none").finish();
  return std::make_unique<policy::AdaptOptions>();
}

}  // namespace etuner::adapt
