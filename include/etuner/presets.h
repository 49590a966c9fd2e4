// Named policies: a scheduler, a freezer and adaptation options under one name.
//
//   auto p = etuner::policy::make("immediate");            // a preset
//   auto q = etuner::policy::make("lazytune+simfreeze");   // <scheduler>+<freezer>
//
// Presets are rows of a table (src/policy/presets.cpp); docs/algorithms.md describes them.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "etuner/policy.h"

namespace etuner::policy {

// A registered preset ("immediate", "never", ...) or "<scheduler>+<freezer>".
// Throws ConfigError listing the valid names. `params` holds parameters per component, keyed
// by scheduler or freezer name (e.g. {"lazytune": {"max_merge": 8}}): a component reads its
// own entry, so one object serves every policy of a bench run.
Policy make(const std::string& name, const nlohmann::json& params = nlohmann::json::object());
// Throws ConfigError unless every key of `params` names a registered scheduler or freezer, or
// is "adapt" (AdaptOptions' numbers).
void check_params(const nlohmann::json& params);
std::vector<std::string> preset_names();
std::string preset_help(const std::string& name);

}  // namespace etuner::policy
