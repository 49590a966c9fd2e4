// Factories of the built-in freezers; the table in builtin.cpp lists them by name.
#pragma once
#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "etuner/policy.h"

namespace etuner::freeze {

// Rules every freezer shares.
// The frozen prefix may reach `max_frozen` blocks (-1: every block; the head always trains).
inline int frozen_limit(int max_frozen, int num_blocks) {
  return max_frozen < 0 ? num_blocks : std::min(max_frozen, num_blocks);
}
// The current prefix, within that limit: where a freezer's decision starts from.
inline int current_prefix(const policy::FreezeSignals& s, int max_frozen) {
  return std::clamp(s.frozen_prefix, 0, frozen_limit(max_frozen, s.num_blocks));
}
// A detected change unfreezes every block (what each freezer resets is its own).
inline policy::FreezePlan unfreeze_all(const policy::FreezeSignals& s, bool measure_similarity) {
  return {0, measure_similarity,
          s.frozen_prefix > 0 ? "change detected: all blocks unfrozen" : "change"};
}

std::unique_ptr<policy::Freezer> make_none(const nlohmann::json& params);
std::unique_ptr<policy::Freezer> make_simfreeze(const nlohmann::json& params);
// Peer baselines (docs/peers.md).
std::unique_ptr<policy::Freezer> make_egeria(const nlohmann::json& params);
std::unique_ptr<policy::Freezer> make_autofreeze(const nlohmann::json& params);

}  // namespace etuner::freeze
