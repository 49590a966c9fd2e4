// Harness: replays a stream against policies with a virtual clock and writes results.
//
//   etuner::harness::BenchOptions o;
//   o.stream_path = "bench/streams/fmnist-ni.json";
//   o.policies = {"immediate", "never"};
//   o.out_dir = "out/fmnist-ni";
//   etuner::harness::run_bench(o);   // writes results.json, requests.csv, rounds.csv
//   etuner::harness::run_seeds(o, {1, 2, 3});  // the same per seed in seed-<S>/, and seeds.json
//
// Every policy replays the same timeline from the same pretrained model; the harness never
// looks at a policy's name.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "etuner/model.h"
#include "etuner/runtime.h"
#include "etuner/stream.h"

namespace etuner::harness {

struct BenchOptions {
  std::string stream_path;
  std::vector<std::string> policies = {"immediate", "never"};
  std::string out_dir = "out";
  std::string data_root;   // overrides the spec's data.root when not empty
  std::string model_path;  // a TorchScript file overriding the spec's model
  std::string device = "cpu";
  int threads = 0;  // 0 = all cores
  double cache_mb = 256;
  bool save_models = false;  // write each policy's last version to OUT/models/<policy>.pt
  bool quiet = false;
  std::string command;  // the command line, for provenance
  nlohmann::json overrides =
      nlohmann::json::object();  // merged into the spec (e.g. {"train":{"lr":0.001}})
  nlohmann::json policy_params = nlohmann::json::object();  // per component, see policy::make
};

// Runs the bench; returns results.json's content.
nlohmann::json run_bench(const BenchOptions& o);

// What run_bench rejects before any work: no policies, unknown policies or parameters
// (ConfigError), a device that is not there (DeviceError).
void check_bench_options(const BenchOptions& o);

// Runs the bench once per stream seed, into seed_dir(o.out_dir, seed), then writes
// o.out_dir/seeds.json: per policy, accuracy per seed, the paired difference from the first
// policy (percentage points, mean, sd, 95% t interval) and cost ratios to it. The stream's
// `seed` changes the timeline only: `pretrain.seed` is pinned to what the spec resolves to,
// so every seed deploys the model a plain run_bench would. Returns seeds.json's content.
nlohmann::json run_seeds(const BenchOptions& o, const std::vector<int>& seeds);

// Where run_seeds writes one seed's results files.
std::string seed_dir(const std::string& out_dir, int seed);

struct PretrainOptions {
  std::string device = "cpu";
  std::string model_path;  // a TorchScript file: used as deployed, not pretrained
  bool quiet = false;
  std::string cache_dir;  // "" = $ETUNER_CACHE or ~/.cache/etuner
};

// The deployed model for a stream: pretrained on the stream's pretraining set, cached by
// content (spec fields that matter + a fingerprint of the data) so bench reruns reuse it.
std::unique_ptr<model::BlockModel> pretrained_model(const stream::StreamSpec& spec,
                                                    const data::Splits& splits,
                                                    const PretrainOptions& o);

// Where pretrained_model caches the model for this spec and data.
std::string pretrain_cache_path(const stream::StreamSpec& spec, const data::Splits& splits,
                                const PretrainOptions& o);

// The runtime settings a stream asks for: its training settings, protocol, device profile and
// seed, and the classes its deployed model was pretrained on (CPU, default cache).
runtime::RuntimeConfig runtime_config(const stream::StreamSpec& spec, int num_classes);

struct LabeledSamples {
  torch::Tensor x, y;  // undefined when there are none
};

// The pretraining samples a device ships with, for the replay buffer: at most
// train.replay_buffer of them; none for a recorded stream (it has no pretraining set).
LabeledSamples pretrain_replay(const stream::StreamSpec& spec, const data::Splits& splits);

// Sets LibTorch's intra-op threads: n, or all cores when n <= 0. Returns the count used.
int set_threads(int n);

// Loads a spec, applying --data and JSON overrides.
stream::StreamSpec load_spec_with(const std::string& path, const std::string& data_root,
                                  const nlohmann::json& overrides);

}  // namespace etuner::harness
