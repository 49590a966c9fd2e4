// Streams: a JSON scenario spec replayed as a deterministic timeline of labeled batches and
// inference requests. docs/streams.md documents every field.
//
//   auto spec = etuner::stream::load_spec("bench/streams/fmnist-ni.json");
//   auto splits = etuner::data::load(spec.data.source, spec.data.root);
//   auto timeline = etuner::stream::build_timeline(spec, splits);
//   for (const auto& e : timeline.events) ...   // ordered by time_s
//
// Labeled samples come from the training split, never from the pretraining samples;
// requests from the test split; both carry their scenario's shift.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "etuner/data.h"
#include "etuner/device_profile.h"
#include "etuner/train_config.h"

namespace etuner::stream {

struct DataConfig {
  std::string source = "fashion-mnist";  // or "manifest": a recorded stream (root: the file)
  std::string root;                      // "" = the source's default
  int num_classes = 0;                   // manifest only: labels are 0..num_classes-1
  int batch_size = 32;                   // manifest only: labeled rows per labeled batch
};

// How images reach the model (docs/models.md, "Inputs"): etuner's images are floats in
// [0, 1]; a model trained on normalized inputs gets (x - mean[c]) / std[c] in front of its
// first unit. A size other than the stream's (height x width, 0 = the data's own) is resized
// (bilinear) or rejected, by size_mismatch.
struct InputConfig {
  std::vector<double> mean;     // one per channel; empty = none
  std::vector<double> std_dev;  // "std" in the spec
  int height = 0;
  int width = 0;
  std::string size_mismatch = "reject";  // reject | resize
};

struct PretrainConfig {
  std::vector<int> classes;  // empty = all classes
  int64_t seed = -1;         // -1 = the stream's seed; a tuning copy pins it to share the model
  int samples = 10000;
  int epochs = 15;
  double lr = 0.05;
  int batch_size = 64;
};

// How rounds train lives with training (etuner/train_config.h); a spec carries one.
using TrainConfig = tuning::TrainConfig;

struct ProtocolConfig {
  Protocol mode = Protocol::kInstant;
  std::string device = "cpu-2core";
  double batch_interval_s = 10;  // stream seconds between labeled batches
};

struct ScenarioSpec {
  std::string name;
  std::string shift = "none";
  int severity = 0;
  std::vector<int> classes;          // labeled samples' classes; empty = all
  std::vector<int> request_classes;  // requests' classes; empty = classes
  int labeled_batches = 10;
  int batch_size = 32;
  int requests_per_batch = 40;  // requests arriving before each labeled batch
};

struct StreamSpec {
  std::string name;
  uint64_t seed = 1;
  std::string model = "smallcnn";
  DataConfig data;
  PretrainConfig pretrain;
  TrainConfig train;
  ProtocolConfig protocol;
  InputConfig input;
  std::vector<ScenarioSpec> scenarios;  // empty for a manifest stream (its rows name them)
  nlohmann::json json;                  // the spec as read (with overrides applied)
};

// Throws ConfigError naming the field.
StreamSpec parse_spec(const nlohmann::json& j);
StreamSpec load_spec(const std::string& path);

enum class EventKind { kLabeled, kRequest };

struct Event {
  EventKind kind;
  double time_s;
  int scenario;
  int index;  // into Timeline::batches or Timeline::requests
};

struct LabeledBatch {
  torch::Tensor images;  // float [B,C,H,W] in [0,1], shifted
  torch::Tensor labels;  // int64 [B]
};

struct Requests {
  torch::Tensor images;  // float [R,C,H,W] in [0,1], shifted
  torch::Tensor labels;  // int64 [R]: ground truth, for scoring only; -1 = unlabeled, unscored
};

struct ScenarioSpan {
  std::string name;
  double start_s;
  double end_s;
};

struct Timeline {
  std::vector<Event> events;  // ordered by time_s
  std::vector<LabeledBatch> batches;
  Requests requests;
  std::vector<ScenarioSpan> spans;
  int num_classes = 0;
  double end_s = 0;
};

// The seed of everything pretraining draws (samples, initial weights, batch order):
// pretrain.seed, or the stream's seed when it is -1. The model cache is keyed by it, so
// nothing in pretraining may depend on the stream's own seed.
uint64_t pretrain_seed(const StreamSpec& spec);

// The pretraining samples: indices into splits.train (seeded, from pretrain.classes).
std::vector<int64_t> pretrain_indices(const StreamSpec& spec, const data::Dataset& train);

// The classes the deployed model was pretrained on: pretrain.classes, or all of them.
std::vector<int> pretrain_classes(const StreamSpec& spec, int num_classes);

Timeline build_timeline(const StreamSpec& spec, const data::Splits& splits);

// The data set of a generated stream, at the size spec.input asks for (resized or
// rejected); ConfigError for a manifest stream (it has no data set).
data::Splits load_data(const StreamSpec& spec);

// A recorded stream's timeline (data.source "manifest", data.root the file): every row is a
// request answered at its time (scored when it has a label); labeled rows then also join
// labeled batches of data.batch_size, arriving with their last row; a batch that a scenario
// change or the end closes early arrives at that scenario's (or the stream's) last row. Each
// run of rows with one scenario name is a scenario.
Timeline manifest_timeline(const StreamSpec& spec, const data::Manifest& manifest);
Timeline manifest_timeline(const StreamSpec& spec);  // loads data.root first

}  // namespace etuner::stream
