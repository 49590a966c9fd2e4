// etuner bench: the same timeline, the same pretrained model, every policy in turn.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "etuner/presets.h"
#include "etuner/error.h"
#include "etuner/fields.h"
#include "etuner/harness.h"
#include "etuner/meter.h"
#include "harness/replay.h"
#include "harness/results.h"

namespace etuner::harness {
namespace {

torch::Device pick_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw DeviceError("--device cuda: no CUDA device is visible to this LibTorch build");
    return torch::kCUDA;
  }
  throw ConfigError("--device: must be cpu or cuda (got '" + name + "')");
}

std::vector<int> pretrain_classes(const stream::StreamSpec& spec, int num_classes) {
  if (!spec.pretrain.classes.empty()) return spec.pretrain.classes;
  std::vector<int> all(num_classes);
  for (int c = 0; c < num_classes; ++c) all[c] = c;
  return all;
}

runtime::RuntimeConfig runtime_config(const stream::StreamSpec& spec, const BenchOptions& o,
                                      const data::Splits& splits, const std::string& policy) {
  runtime::RuntimeConfig c;
  c.train = spec.train;
  c.protocol = spec.protocol.mode;
  c.profile = device_profile(spec.protocol.device);
  c.device = pick_device(o.device);
  c.seed = spec.seed;
  c.cache_mb = o.cache_mb;
  c.checkpoint_dir = o.out_dir + "/checkpoints/" + policy;
  c.known_classes = pretrain_classes(spec, splits.train.num_classes());
  return c;
}

Progress progress_printer(const std::string& policy, bool quiet) {
  if (quiet || !isatty(2)) return nullptr;
  return [policy](size_t done, size_t total) {
    if (done % 50 == 0 || done == total)
      std::cerr << "\r" << policy << ": " << done << "/" << total << " events" << std::flush;
    if (done == total) std::cerr << "\n";
  };
}

void seed_replay(runtime::Runtime& rt, const stream::StreamSpec& spec, const data::Splits& splits) {
  auto rows = stream::pretrain_indices(spec, splits.train);
  rows.resize(std::min<size_t>(rows.size(), spec.train.replay_buffer));
  auto idx = torch::tensor(rows, torch::kLong);
  rt.seed_replay(data::to_float(splits.train.images.index_select(0, idx)),
                 splits.train.labels.index_select(0, idx));
}

}  // namespace

int set_threads(int n) {
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  return n;
}

stream::StreamSpec load_spec_with(const std::string& path, const std::string& data_root,
                                  const nlohmann::json& overrides) {
  auto j = read_json_file(path);
  if (!overrides.is_null()) j.merge_patch(overrides);
  if (!data_root.empty()) j["data"]["root"] = data_root;
  return stream::parse_spec(j);
}

void check_bench_options(const BenchOptions& o) {
  if (o.policies.empty()) throw ConfigError("--policies: at least one policy");
  policy::check_params(o.policy_params);
  for (const auto& p : o.policies) policy::make(p, o.policy_params);  // fail fast, before any work
  pick_device(o.device);  // likewise: a missing CUDA device is a DeviceError, not a pretrain crash
}

nlohmann::json run_bench(const BenchOptions& o) {
  check_bench_options(o);
  const int threads = set_threads(o.threads);
  const auto spec = load_spec_with(o.stream_path, o.data_root, o.overrides);
  const auto splits = data::load(spec.data.source, spec.data.root);
  const auto tl = stream::build_timeline(spec, splits);
  PretrainOptions po;
  po.device = o.device;
  po.model_path = o.model_path;
  po.quiet = o.quiet;
  const auto base = pretrained_model(spec, splits, po);
  std::filesystem::create_directories(o.out_dir);

  std::vector<PolicyRun> runs;
  nlohmann::json policies = nlohmann::json::object();
  std::string source;
  for (const auto& name : o.policies) {
    auto cfg = runtime_config(spec, o, splits, name);
    runtime::Runtime rt(base->clone(), policy::make(name, o.policy_params), cfg,
                        meter::detect(cfg.profile));
    seed_replay(rt, spec, splits);
    torch::manual_seed(spec.seed);
    runs.push_back(replay(rt, tl, progress_printer(name, o.quiet)));
    source = rt.energy_source();
    policies[name] = policy_summary(runs.back(), spec, tl, source);
  }
  RunContext ctx{o.command, o.device, threads, o.model_path.empty() ? spec.model : o.model_path,
                 base->num_blocks()};
  auto results = results_json(spec, tl, ctx, policies);
  write_json_file(o.out_dir + "/results.json", results);
  write_requests_csv(o.out_dir + "/requests.csv", runs);
  write_rounds_csv(o.out_dir + "/rounds.csv", runs);
  return results;
}

}  // namespace etuner::harness
