#include "summary.h"

#include <fmt/format.h>

namespace etuner::cli {
namespace {

std::string ratio(const nlohmann::json& p, const nlohmann::json* base, const char* key) {
  if (!base || (*base)[key].get<double>() <= 0) return "-";
  return fmt::format("{:.2f}x", p[key].get<double>() / (*base)[key].get<double>());
}

}  // namespace

void print_summary(const nlohmann::json& r, std::ostream& out) {
  const auto& ps = r["policies"];
  const nlohmann::json* base = ps.contains("immediate") ? &ps["immediate"] : nullptr;
  out << fmt::format("stream {} | model {} | protocol {} | device profile {}\n",
                     r["stream"].get<std::string>(), r["model"].get<std::string>(),
                     r["protocol"].get<std::string>(), r["device_profile"].get<std::string>());
  out << fmt::format("{:<14} {:>8} {:>7} {:>10} {:>7} {:>11} {:>7} {:>9} {:>8}\n", "policy",
                     "accuracy", "rounds", "tune s", "vs imm", "tune J", "vs imm", "source",
                     "samples");
  for (auto it = ps.begin(); it != ps.end(); ++it) {
    const auto& p = it.value();
    out << fmt::format("{:<14} {:>7.2f}% {:>7} {:>10.2f} {:>7} {:>11.1f} {:>7} {:>9} {:>8}\n",
                       it.key(), 100 * p["avg_inference_accuracy"].get<double>(),
                       p["rounds"].get<int>(), p["finetune_seconds"].get<double>(),
                       ratio(p, base, "finetune_seconds"), p["finetune_energy_joules"].get<double>(),
                       ratio(p, base, "finetune_energy_joules"),
                       p["energy_source"].get<std::string>(), p["samples_trained"].get<int64_t>());
  }
}

}  // namespace etuner::cli
