// etuner bench: replay a stream against policies and write results.
#include <iostream>
#include <sstream>

#include "commands.h"
#include "etuner/error.h"
#include "etuner/harness.h"
#include "etuner/policy.h"
#include "etuner/report.h"
#include "summary.h"

namespace etuner::cli {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

nlohmann::json parse_json_flag(const std::string& flag, const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(flag + ": invalid JSON: " + e.what());
  }
}

int parse_seed(const std::string& item) {
  size_t used = 0;  // stays 0 when stoi throws
  int seed = 0;
  try {
    seed = std::stoi(item, &used);
  } catch (const std::logic_error&) {  // invalid_argument, out_of_range
  }
  if (item.empty() || used != item.size())
    throw ConfigError("--seeds: '" + item + "' is not an integer (expected e.g. --seeds 1,2,3)");
  return seed;
}

// "1,2,3" -> {1, 2, 3}; an empty item is an error, not a skipped seed.
std::vector<int> parse_seeds(const std::string& csv) {
  std::vector<int> seeds;
  std::stringstream in(csv + ",");  // the comma keeps a trailing empty item visible
  for (std::string item; std::getline(in, item, ',');) seeds.push_back(parse_seed(item));
  return seeds;
}

struct BenchFlags {
  harness::BenchOptions o;
  std::string policies = "immediate,never";
  std::string overrides;
  std::string params;
  std::string seeds;
  bool report = false;
};

void run_single(const BenchFlags& f) {
  const auto results = harness::run_bench(f.o);
  print_summary(results, std::cout);
  std::cout << "results: " << f.o.out_dir << "/results.json\n";
  if (f.report) std::cout << "report: " << report::write_report(f.o.out_dir) << "\n";
}

void run_sweep(const BenchFlags& f) {
  const auto seeds = parse_seeds(f.seeds);
  const auto summary = harness::run_seeds(f.o, seeds);
  print_seeds_summary(summary, std::cout);
  std::cout << "results: " << f.o.out_dir << "/seeds.json\n";
  if (!f.report) return;
  for (int s : seeds)
    std::cout << "report: " << report::write_report(harness::seed_dir(f.o.out_dir, s)) << "\n";
  std::cout << "report: " << report::write_report(f.o.out_dir) << "\n";  // the seeds page
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto flags = std::make_shared<BenchFlags>();
  auto* cmd = app.add_subcommand("bench", "replay a stream against policies and write results");
  cmd->add_option("--stream", flags->o.stream_path, "stream spec (JSON)")->required();
  cmd->add_option("--policies", flags->policies,
                  "comma-separated policies (presets or sched+freezer)");
  cmd->add_option("--out", flags->o.out_dir, "output directory")->capture_default_str();
  cmd->add_option("--data", flags->o.data_root, "dataset root, overrides the spec's data.root");
  cmd->add_option("--model", flags->o.model_path,
                  "TorchScript model file, overrides the spec's model");
  cmd->add_option("--threads", flags->o.threads, "LibTorch threads (default: all cores)");
  cmd->add_option("--device", flags->o.device, "cpu or cuda")->capture_default_str();
  cmd->add_option("--cache-mb", flags->o.cache_mb, "frozen-prefix activation cache budget (MB)")
      ->capture_default_str();
  cmd->add_flag("--save-models", flags->o.save_models,
                "write each policy's last version to OUT/models/<policy>.pt");
  cmd->add_option("--set", flags->overrides,
                  "JSON merged into the spec, e.g. '{\"train\":{\"lr\":0.001}}'");
  cmd->add_option(
      "--params", flags->params,
      "policy parameters per scheduler/freezer, e.g. '{\"lazytune\":{\"max_merge\":8}}'");
  auto* seeds = cmd->add_option("--seeds", flags->seeds,
                                "comma-separated stream seeds: one run each in OUT/seed-<S>/, "
                                "compared with the first policy in OUT/seeds.json");
  cmd->add_flag("--quiet", flags->o.quiet, "no progress on stderr");
  cmd->add_flag(
      "--report", flags->report,
      "also write OUT/report.html (with --seeds, one per OUT/seed-<S>/ and the seeds page)");
  cmd->callback([flags, seeds]() {
    flags->o.policies = split_commas(flags->policies);
    flags->o.overrides = parse_json_flag("--set", flags->overrides);
    flags->o.policy_params = parse_json_flag("--params", flags->params);
    flags->o.command = command_line();
    if (seeds->count() > 0)
      run_sweep(*flags);
    else
      run_single(*flags);
  });
}

}  // namespace etuner::cli
