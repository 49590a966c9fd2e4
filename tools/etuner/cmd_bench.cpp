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

struct BenchFlags {
  harness::BenchOptions o;
  std::string policies = "immediate,never";
  std::string overrides;
  std::string params;
  bool report = false;
};

}  // namespace

void add_bench_command(CLI::App& app) {
  auto flags = std::make_shared<BenchFlags>();
  auto* cmd = app.add_subcommand("bench", "replay a stream against policies and write results");
  cmd->add_option("--stream", flags->o.stream_path, "stream spec (JSON)")->required();
  cmd->add_option("--policies", flags->policies, "comma-separated policies (presets or sched+freezer)");
  cmd->add_option("--out", flags->o.out_dir, "output directory")->capture_default_str();
  cmd->add_option("--data", flags->o.data_root, "dataset root, overrides the spec's data.root");
  cmd->add_option("--model", flags->o.model_path, "TorchScript model file, overrides the spec's model");
  cmd->add_option("--threads", flags->o.threads, "LibTorch threads (default: all cores)");
  cmd->add_option("--device", flags->o.device, "cpu or cuda")->capture_default_str();
  cmd->add_option("--cache-mb", flags->o.cache_mb, "frozen-prefix activation cache budget (MB)")
      ->capture_default_str();
  cmd->add_option("--set", flags->overrides,
                  "JSON merged into the spec, e.g. '{\"train\":{\"lr\":0.001}}'");
  cmd->add_option("--params", flags->params,
                  "policy parameters per scheduler/freezer, e.g. '{\"lazytune\":{\"max_merge\":8}}'");
  cmd->add_flag("--quiet", flags->o.quiet, "no progress on stderr");
  cmd->add_flag("--report", flags->report, "also write OUT/report.html (see `etuner report`)");
  cmd->callback([flags]() {
    flags->o.policies = split_commas(flags->policies);
    flags->o.overrides = parse_json_flag("--set", flags->overrides);
    flags->o.policy_params = parse_json_flag("--params", flags->params);
    flags->o.command = command_line();
    const auto results = harness::run_bench(flags->o);
    print_summary(results, std::cout);
    std::cout << "results: " << flags->o.out_dir << "/results.json\n";
    if (flags->report) std::cout << "report: " << report::write_report(flags->o.out_dir) << "\n";
  });
}

}  // namespace etuner::cli
