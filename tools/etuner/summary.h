// The comparison table printed after a bench run.
#pragma once
#include <nlohmann/json.hpp>
#include <ostream>

namespace etuner::cli {
void print_summary(const nlohmann::json& results, std::ostream& out);
}  // namespace etuner::cli
