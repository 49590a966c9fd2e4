// Parsing of stream specs: strict (unknown keys are errors) and every message names its field.
#include "etuner/error.h"
#include "etuner/fields.h"
#include "etuner/stream.h"

namespace etuner::stream {
namespace {

void check(bool ok, const std::string& field, const std::string& what) {
  if (!ok) throw ConfigError(field + ": " + what);
}

DataConfig parse_data(const nlohmann::json& j) {
  DataConfig d;
  if (j.is_null()) return d;
  Fields f(j, "data");
  d.source = f.get("source", d.source);
  d.root = f.get("root", d.root);
  d.num_classes = f.get("num_classes", d.num_classes);
  d.batch_size = f.get("batch_size", d.batch_size);
  f.finish();
  check(d.num_classes >= 0, "data.num_classes", "must be >= 0");
  check(d.batch_size > 0, "data.batch_size", "must be > 0");
  check(d.source != "manifest" || !d.root.empty(), "data.root",
        "a manifest stream needs its manifest file");
  return d;
}

PretrainConfig parse_pretrain(const nlohmann::json& j) {
  PretrainConfig p;
  if (j.is_null()) return p;
  Fields f(j, "pretrain");
  p.classes = f.get("classes", p.classes);
  p.seed = f.get<int64_t>("seed", p.seed);
  p.samples = f.get("samples", p.samples);
  p.epochs = f.get("epochs", p.epochs);
  p.lr = f.get("lr", p.lr);
  p.batch_size = f.get("batch_size", p.batch_size);
  f.finish();
  check(p.samples > 0, "pretrain.samples", "must be > 0");
  check(p.epochs >= 0, "pretrain.epochs", "must be >= 0");
  check(p.lr > 0, "pretrain.lr", "must be > 0");
  check(p.batch_size > 0, "pretrain.batch_size", "must be > 0");
  return p;
}

// Strings become enums here, at the edge; the rest of the code compares enums.
tuning::OptimizerKind parse_optimizer(const std::string& s) {
  if (s == "sgd") return tuning::OptimizerKind::kSgd;
  if (s == "adam") return tuning::OptimizerKind::kAdam;
  throw ConfigError("train.optimizer: must be sgd or adam (got '" + s + "')");
}

tuning::ReplayPolicy parse_replay_policy(const std::string& s) {
  if (s == "reservoir") return tuning::ReplayPolicy::kReservoir;
  if (s == "class_balanced") return tuning::ReplayPolicy::kClassBalanced;
  throw ConfigError("train.replay_policy: must be reservoir or class_balanced (got '" + s + "')");
}

Protocol parse_mode(const std::string& s) {
  if (s == "instant") return Protocol::kInstant;
  if (s == "realtime") return Protocol::kRealtime;
  throw ConfigError("protocol.mode: must be instant or realtime (got '" + s + "')");
}

TrainConfig parse_train(const nlohmann::json& j) {
  TrainConfig t;
  if (j.is_null()) return t;
  Fields f(j, "train");
  t.optimizer = parse_optimizer(f.get("optimizer", std::string(tuning::to_string(t.optimizer))));
  t.lr = f.get("lr", t.lr);
  t.momentum = f.get("momentum", t.momentum);
  t.weight_decay = f.get("weight_decay", t.weight_decay);
  t.batch_size = f.get("batch_size", t.batch_size);
  t.epochs_per_round = f.get("epochs_per_round", t.epochs_per_round);
  t.replay_samples = f.get("replay_samples", t.replay_samples);
  t.replay_buffer = f.get("replay_buffer", t.replay_buffer);
  t.replay_policy =
      parse_replay_policy(f.get("replay_policy", std::string(tuning::to_string(t.replay_policy))));
  f.finish();
  check(t.lr > 0, "train.lr", "must be > 0");
  check(t.batch_size > 0, "train.batch_size", "must be > 0");
  check(t.epochs_per_round > 0, "train.epochs_per_round", "must be > 0");
  check(t.replay_samples >= 0, "train.replay_samples", "must be >= 0");
  check(t.replay_buffer >= 0, "train.replay_buffer", "must be >= 0");
  return t;
}

ProtocolConfig parse_protocol(const nlohmann::json& j) {
  ProtocolConfig p;
  if (j.is_null()) return p;
  Fields f(j, "protocol");
  p.mode = parse_mode(f.get("mode", std::string(to_string(p.mode))));
  p.device = f.get("device", p.device);
  p.batch_interval_s = f.get("batch_interval_s", p.batch_interval_s);
  f.finish();
  check(p.batch_interval_s > 0, "protocol.batch_interval_s", "must be > 0");
  return p;
}

InputConfig parse_input(const nlohmann::json& j) {
  InputConfig in;
  if (j.is_null()) return in;
  Fields f(j, "input");
  in.mean = f.get("mean", in.mean);
  in.std_dev = f.get("std", in.std_dev);
  const auto size = f.get("size", std::vector<int>{});
  in.size_mismatch = f.get("size_mismatch", in.size_mismatch);
  f.finish();
  check(size.empty() || (size.size() == 2 && size[0] > 0 && size[1] > 0), "input.size",
        "must be [height, width], both > 0");
  if (!size.empty()) in.height = size[0], in.width = size[1];
  check(in.mean.size() == in.std_dev.size(), "input.mean",
        "needs as many values as input.std (one per channel)");
  for (double s : in.std_dev) check(s > 0, "input.std", "every value must be > 0");
  check(in.size_mismatch == "reject" || in.size_mismatch == "resize", "input.size_mismatch",
        "must be reject or resize");
  return in;
}

ScenarioSpec parse_scenario(const nlohmann::json& j, size_t i) {
  const std::string path = "scenarios[" + std::to_string(i) + "]";
  ScenarioSpec s;
  Fields f(j, path);
  s.name = f.get("name", "scenario" + std::to_string(i));
  s.shift = f.get("shift", s.shift);
  s.severity = f.get("severity", s.severity);
  s.classes = f.get("classes", s.classes);
  s.request_classes = f.get("request_classes", s.request_classes);
  s.labeled_batches = f.get("labeled_batches", s.labeled_batches);
  s.batch_size = f.get("batch_size", s.batch_size);
  s.requests_per_batch = f.get("requests_per_batch", s.requests_per_batch);
  f.finish();
  check(s.severity >= 0 && s.severity <= 5, path + ".severity", "must be 0..5");
  check(s.labeled_batches > 0, path + ".labeled_batches", "must be > 0");
  check(s.batch_size > 0, path + ".batch_size", "must be > 0");
  check(s.requests_per_batch >= 0, path + ".requests_per_batch", "must be >= 0");
  return s;
}

}  // namespace

StreamSpec parse_spec(const nlohmann::json& j) {
  StreamSpec s;
  Fields f(j, "stream");
  s.name = f.require<std::string>("name");
  s.seed = f.get<uint64_t>("seed", s.seed);
  s.model = f.get("model", s.model);
  s.data = parse_data(f.child("data"));
  s.pretrain = parse_pretrain(f.child("pretrain"));
  s.train = parse_train(f.child("train"));
  s.protocol = parse_protocol(f.child("protocol"));
  s.input = parse_input(f.child("input"));
  f.get<std::string>("description", "");
  const auto& sc = f.child("scenarios");
  f.finish();
  if (s.data.source == "manifest") {  // the manifest's rows name its scenarios
    check(sc.is_null(), "stream.scenarios", "a manifest stream takes its scenarios from its rows");
    s.json = j;
    return s;
  }
  check(sc.is_array() && !sc.empty(), "stream.scenarios", "must be a non-empty array");
  for (size_t i = 0; i < sc.size(); ++i) s.scenarios.push_back(parse_scenario(sc[i], i));
  s.json = j;
  return s;
}

StreamSpec load_spec(const std::string& path) { return parse_spec(read_json_file(path)); }

}  // namespace etuner::stream
