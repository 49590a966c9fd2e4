// etuner bench --seeds: every policy over several timelines (stream seeds), compared seed by
// seed against the baseline policy, because one timeline's accuracy differences between
// policies are within its noise.
#include <filesystem>
#include <optional>
#include <set>

#include <spdlog/spdlog.h>

#include "etuner/error.h"
#include "etuner/fields.h"
#include "etuner/harness.h"
#include "harness/paired.h"
#include "harness/results.h"

namespace etuner::harness {
namespace {

// The costs compared as ratios to the baseline's.
constexpr const char* kRatioFields[] = {"finetune_seconds", "finetune_energy_joules",
                                        "modeled_finetune_seconds",
                                        "modeled_finetune_energy_joules", "train_flops"};

void check_seeds(const std::vector<int>& seeds) {
  if (seeds.empty()) throw ConfigError("--seeds: at least one seed");
  std::set<int> seen;
  for (int s : seeds) {
    if (s < 0) throw ConfigError("--seeds: a seed must be >= 0 (got " + std::to_string(s) + ")");
    if (!seen.insert(s).second)
      throw ConfigError("--seeds: seed " + std::to_string(s) + " is listed twice");
  }
}

BenchOptions seed_options(const BenchOptions& o, int seed, int64_t pretrain_seed) {
  BenchOptions s = o;
  if (s.overrides.is_null()) s.overrides = nlohmann::json::object();
  s.overrides.merge_patch({{"seed", seed}, {"pretrain", {{"seed", pretrain_seed}}}});
  s.out_dir = seed_dir(o.out_dir, seed);
  return s;
}

std::vector<double> over_seeds(const std::vector<nlohmann::json>& runs, const std::string& policy,
                               const char* field, double scale = 1) {
  std::vector<double> out;
  for (const auto& r : runs) out.push_back(scale * r["policies"][policy][field].get<double>());
  return out;
}

nlohmann::json or_null(const std::optional<double>& x) {
  return x ? nlohmann::json(*x) : nlohmann::json(nullptr);
}

nlohmann::json delta_json(const PairedDelta& d) {
  nlohmann::json interval = nullptr;
  if (d.ci95_half_width) interval = {d.mean - *d.ci95_half_width, d.mean + *d.ci95_half_width};
  return {{"per_seed", d.per_seed},
          {"mean", d.mean},
          {"sd", or_null(d.sd)},
          {"ci95_half_width", or_null(d.ci95_half_width)},
          {"ci95", interval}};
}

nlohmann::json ratio_json(const RatioSeries& r) {
  auto per_seed = nlohmann::json::array();
  for (const auto& x : r.per_seed) per_seed.push_back(or_null(x));
  return {{"per_seed", per_seed}, {"mean", or_null(r.mean)}};
}

nlohmann::json policy_over_seeds(const std::vector<nlohmann::json>& runs, const std::string& policy,
                                 const std::string& baseline) {
  const auto acc = over_seeds(runs, policy, "avg_inference_accuracy");
  nlohmann::json j;
  j["avg_inference_accuracy"] = {{"per_seed", acc}, {"mean", mean_of(acc)}};
  const auto lag = over_seeds(runs, policy, "mean_lag_samples");
  j["mean_lag_samples"] = {{"per_seed", lag}, {"mean", mean_of(lag)}};
  j["delta_vs_baseline_pp"] =
      delta_json(paired_delta(over_seeds(runs, policy, "avg_inference_accuracy", 100),
                              over_seeds(runs, baseline, "avg_inference_accuracy", 100)));
  for (const char* f : kRatioFields)
    j["ratio_vs_baseline"][f] =
        ratio_json(ratio_series(over_seeds(runs, policy, f), over_seeds(runs, baseline, f)));
  j["energy_source"] = runs.front()["policies"][policy]["energy_source"];
  return j;
}

nlohmann::json seeds_json(const BenchOptions& o, const std::vector<int>& seeds,
                          int64_t pretrain_seed, const std::vector<nlohmann::json>& runs) {
  const auto& baseline = o.policies.front();
  nlohmann::json j = {{"schema_version", kResultsSchemaVersion}, {"command", o.command},
                      {"stream", runs.front()["stream"]},        {"seeds", seeds},
                      {"pretrain_seed", pretrain_seed},          {"baseline", baseline},
                      {"results", nlohmann::json::array()}};
  for (int s : seeds)  // relative to seeds.json, so an output directory can move
    j["results"].push_back("seed-" + std::to_string(s) + "/results.json");
  for (const auto& p : o.policies) j["policies"][p] = policy_over_seeds(runs, p, baseline);
  return j;
}

}  // namespace

std::string seed_dir(const std::string& out_dir, int seed) {
  return out_dir + "/seed-" + std::to_string(seed);
}

nlohmann::json run_seeds(const BenchOptions& o, const std::vector<int>& seeds) {
  check_seeds(seeds);
  check_bench_options(o);
  const auto spec = load_spec_with(o.stream_path, o.data_root, o.overrides);
  // pretrain.seed defaults to the stream's seed: pinned to what the spec resolves to, every
  // seed deploys the one model a plain bench of the spec would, and only the timeline changes.
  const auto pretrain_seed = static_cast<int64_t>(stream::pretrain_seed(spec));
  std::vector<nlohmann::json> runs;
  for (size_t i = 0; i < seeds.size(); ++i) {
    if (!o.quiet) spdlog::info("seed {} ({}/{})", seeds[i], i + 1, seeds.size());
    runs.push_back(run_bench(seed_options(o, seeds[i], pretrain_seed)));
  }
  auto j = seeds_json(o, seeds, pretrain_seed, runs);
  std::filesystem::create_directories(o.out_dir);
  write_json_file(o.out_dir + "/seeds.json", j);
  return j;
}

}  // namespace etuner::harness
