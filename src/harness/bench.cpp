// etuner bench: the same timeline, the same pretrained model, every policy in turn.
#include <filesystem>
#include <iostream>
#include <thread>

#include "etuner/presets.h"
#include "etuner/error.h"
#include "etuner/fields.h"
#include "etuner/harness.h"
#include "etuner/meter.h"
#include "harness/progress.h"
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

// No checkpoint_dir: nothing resumes a bench, so it writes no checkpoints (serve keeps
// durable, versioned ones of its own).
runtime::RuntimeConfig bench_runtime_config(const stream::StreamSpec& spec, const BenchOptions& o,
                                            int num_classes) {
  auto c = runtime_config(spec, num_classes);
  c.device = pick_device(o.device);
  c.cache_mb = o.cache_mb;
  return c;
}

Progress progress_printer(const std::string& policy, bool quiet) {
  if (quiet) return nullptr;
  auto reporter = std::make_shared<ProgressReporter>(policy, "events");
  return [reporter](size_t done, size_t total) {
    if (done % 50 == 0 || done == total) reporter->update(done, total);
  };
}

bool is_manifest(const stream::StreamSpec& spec) { return spec.data.source == "manifest"; }

// The deployed model, checked against the stream: one sample of its size must give one
// score per class (a head for other classes, or the wrong input size, is a ModelError).
std::unique_ptr<model::BlockModel> deployed_model(const stream::StreamSpec& spec,
                                                  const data::Splits& splits,
                                                  const stream::Timeline& tl,
                                                  const BenchOptions& o) {
  PretrainOptions po;
  po.device = o.device;
  po.model_path = o.model_path;
  po.quiet = o.quiet;
  auto m = pretrained_model(spec, splits, po);
  const auto& x = tl.requests.images;
  if (x.defined()) {
    m->to(torch::kCPU);
    model::check_output_width(*m, {static_cast<int>(x.size(1)), static_cast<int>(x.size(2)),
                                   static_cast<int>(x.size(3)), tl.num_classes});
    m->to(torch::Device(o.device));
  }
  return m;
}

// The last deployed version, for a user to pick up (not a checkpoint: nothing resumes from it).
void save_model(const model::BlockModel& m, const std::string& path) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  m.save(path);
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
  data::Splits splits;  // none for a recorded stream
  stream::Timeline tl;
  if (is_manifest(spec)) {
    tl = stream::manifest_timeline(spec);
  } else {
    splits = stream::load_data(spec);
    tl = stream::build_timeline(spec, splits);
  }
  const auto base = deployed_model(spec, splits, tl, o);
  const auto replayed = pretrain_replay(spec, splits);
  std::filesystem::create_directories(o.out_dir);

  std::vector<PolicyRun> runs;
  nlohmann::json policies = nlohmann::json::object();
  std::string source;
  for (const auto& name : o.policies) {
    auto cfg = bench_runtime_config(spec, o, tl.num_classes);
    runtime::Runtime rt(base->clone(), policy::make(name, o.policy_params), cfg,
                        meter::detect(cfg.profile));
    if (replayed.x.defined()) rt.seed_replay(replayed.x, replayed.y);
    torch::manual_seed(spec.seed);
    runs.push_back(replay(rt, tl, progress_printer(name, o.quiet)));
    source = rt.energy_source();
    policies[name] = policy_summary(runs.back(), spec, tl, source);
    if (o.save_models) save_model(*rt.deployed(), o.out_dir + "/models/" + name + ".pt");
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
