// The comparison table printed after a bench run.
#pragma once
#include <nlohmann/json.hpp>
#include <ostream>

namespace etuner::cli {
void print_summary(const nlohmann::json& results, std::ostream& out);

// The table printed after `bench --seeds`: means over seeds, paired against the baseline.
void print_seeds_summary(const nlohmann::json& seeds, std::ostream& out);
}  // namespace etuner::cli
