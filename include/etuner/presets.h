// Named policies: a scheduler, a freezer and adaptation options under one name.
//
//   auto p = etuner::policy::make("immediate");            // a preset
//   auto q = etuner::policy::make("lazytune+simfreeze");   // <scheduler>+<freezer>
//   auto r = etuner::policy::make("periodic+none+bn");     // <scheduler>+<freezer>+<adapter>
//
// Presets are rows of a table (src/policy/presets.cpp); docs/algorithms.md describes them.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "etuner/policy.h"

namespace etuner::policy {

// A registered preset ("immediate", "never", ...), "<scheduler>+<freezer>" (adapter none) or
// "<scheduler>+<freezer>+<adapter>".
// Throws ConfigError listing the valid names. `params` holds parameters per component, keyed
// by scheduler, freezer or adapter name (e.g. {"lazytune": {"max_merge": 8}}; "adapt" holds
// numbers for whichever adapter a policy has): a component reads its
// own entry, so one object serves every policy of a bench run.
Policy make(const std::string& name, const nlohmann::json& params = nlohmann::json::object());
// Throws ConfigError unless every key of `params` names a registered scheduler, freezer or
// adapter, or
// is "adapt" (AdaptOptions' numbers).
void check_params(const nlohmann::json& params);
std::vector<std::string> preset_names();
std::string preset_help(const std::string& name);

}  // namespace etuner::policy
