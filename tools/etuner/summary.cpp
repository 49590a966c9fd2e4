#include "summary.h"

#include <fmt/format.h>

namespace etuner::cli {
namespace {

constexpr const char* kLagLegend =
    "lag: labeled samples that had arrived and the answering version had not consumed, "
    "mean over requests";

std::string ratio(const nlohmann::json& p, const nlohmann::json* base, const char* key) {
  if (!base || (*base)[key].get<double>() <= 0) return "-";
  return fmt::format("{:.2f}x", p[key].get<double>() / (*base)[key].get<double>());
}

std::string mean_ratio(const nlohmann::json& ratios, const char* key) {
  const auto& mean = ratios[key]["mean"];
  return mean.is_null() ? "-" : fmt::format("{:.2f}x", mean.get<double>());
}

// "+0.42 +- 1.10": the mean paired difference and its 95% interval's half-width (one seed
// has no interval).
std::string mean_delta(const nlohmann::json& d) {
  const double mean = d["mean"].get<double>();
  if (d["ci95_half_width"].is_null()) return fmt::format("{:+.2f}", mean);
  return fmt::format("{:+.2f} +- {:.2f}", mean, d["ci95_half_width"].get<double>());
}

}  // namespace

void print_seeds_summary(const nlohmann::json& s, std::ostream& out) {
  out << fmt::format(
      "stream {} | seeds {} | baseline {} | one deployed model "
      "(pretrain seed {})\n",
      s["stream"].get<std::string>(), s["seeds"].dump(), s["baseline"].get<std::string>(),
      s["pretrain_seed"].get<int64_t>());
  out << fmt::format("{:<14} {:>8} {:>18} {:>7} {:>7} {:>9} {:>9} {:>7}\n", "policy", "mean acc",
                     "vs base pp (95%)", "tune s", "tune J", "modeled s", "source", "lag");
  for (auto it = s["policies"].begin(); it != s["policies"].end(); ++it) {
    const auto& p = it.value();
    const auto& r = p["ratio_vs_baseline"];
    out << fmt::format(
        "{:<14} {:>7.2f}% {:>18} {:>7} {:>7} {:>9} {:>9} {:>7.1f}\n", it.key(),
        100 * p["avg_inference_accuracy"]["mean"].get<double>(),
        mean_delta(p["delta_vs_baseline_pp"]), mean_ratio(r, "finetune_seconds"),
        mean_ratio(r, "finetune_energy_joules"), mean_ratio(r, "modeled_finetune_seconds"),
        p["energy_source"].get<std::string>(), p["mean_lag_samples"]["mean"].get<double>());
  }
  out << kLagLegend << " and seeds\n";
}

void print_summary(const nlohmann::json& r, std::ostream& out) {
  const auto& ps = r["policies"];
  const nlohmann::json* base = ps.contains("immediate") ? &ps["immediate"] : nullptr;
  out << fmt::format("stream {} | model {} | protocol {} | device profile {}\n",
                     r["stream"].get<std::string>(), r["model"].get<std::string>(),
                     r["protocol"].get<std::string>(), r["device_profile"].get<std::string>());
  out << fmt::format("{:<14} {:>8} {:>7} {:>10} {:>7} {:>11} {:>7} {:>9} {:>9} {:>8} {:>7}\n",
                     "policy", "accuracy", "rounds", "tune s", "vs imm", "tune J", "vs imm",
                     "source", "modeled s", "samples", "lag");
  for (auto it = ps.begin(); it != ps.end(); ++it) {
    const auto& p = it.value();
    out << fmt::format(
        "{:<14} {:>7.2f}% {:>7} {:>10.2f} {:>7} {:>11.1f} {:>7} {:>9} {:>9} {:>8} {:>7.1f}\n",
        it.key(), 100 * p["avg_inference_accuracy"].get<double>(), p["rounds"].get<int>(),
        p["finetune_seconds"].get<double>(), ratio(p, base, "finetune_seconds"),
        p["finetune_energy_joules"].get<double>(), ratio(p, base, "finetune_energy_joules"),
        p["energy_source"].get<std::string>(), ratio(p, base, "modeled_finetune_seconds"),
        p["samples_trained"].get<int64_t>(), p["mean_lag_samples"].get<double>());
  }
  // Measured seconds move with the machine's load; the modeled ones depend on the work alone.
  if (base)
    out << fmt::format(
        "modeled s: fine-tuning work (rounds and decision passes) in seconds of "
        "the {} profile, vs immediate\n",
        r["device_profile"].get<std::string>());
  out << kLagLegend << "\n";
}

}  // namespace etuner::cli
