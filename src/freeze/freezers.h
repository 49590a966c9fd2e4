// Factories of the built-in freezers; the table in builtin.cpp lists them by name.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>

#include "etuner/policy.h"

namespace etuner::freeze {

std::unique_ptr<policy::Freezer> make_none(const nlohmann::json& params);
std::unique_ptr<policy::Freezer> make_simfreeze(const nlohmann::json& params);
// Peer baselines (docs/peers.md).
std::unique_ptr<policy::Freezer> make_egeria(const nlohmann::json& params);
std::unique_ptr<policy::Freezer> make_autofreeze(const nlohmann::json& params);

}  // namespace etuner::freeze
