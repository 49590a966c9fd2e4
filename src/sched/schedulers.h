// Factories of the built-in schedulers; the table in builtin.cpp lists them by name.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>

#include "etuner/policy.h"

namespace etuner::sched {

std::unique_ptr<policy::Scheduler> make_immediate(const nlohmann::json& params);
std::unique_ptr<policy::Scheduler> make_catchup(const nlohmann::json& params);
std::unique_ptr<policy::Scheduler> make_never(const nlohmann::json& params);
std::unique_ptr<policy::Scheduler> make_lazytune(const nlohmann::json& params);
// Peer baselines (docs/peers.md).
std::unique_ptr<policy::Scheduler> make_periodic(const nlohmann::json& params);
std::unique_ptr<policy::Scheduler> make_ekya(const nlohmann::json& params);
std::unique_ptr<policy::Scheduler> make_oracle(const nlohmann::json& params);

}  // namespace etuner::sched
