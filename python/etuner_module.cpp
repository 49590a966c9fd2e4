// The Python module `etuner`: one Runtime on torch tensors (docs/library.md, "Python").
//
//   import torch, etuner
//   rt = etuner.Runtime("smallcnn", input=(1, 28, 28), classes=10, policy="immediate")
//   first_id = rt.add_labeled(images, labels, now_s=0.0)
//   record = rt.advance(0.0)              # None, or the round's record as a dict
//   labels, confidence, version, lag = rt.predict(images)
//
// Tensors cross as torch tensors (the casters of torch/extension.h, from python3-torch's
// libtorch_python, which shares libtorch with the library). The C++ Runtime trusts its
// inputs, so every shape, dtype and label range is checked here, before it reaches it.
#include <torch/extension.h>

#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "etuner/device_profile.h"
#include "etuner/error.h"
#include "etuner/meter.h"
#include "etuner/model.h"
#include "etuner/presets.h"
#include "etuner/runtime.h"
#include "etuner/train_config.h"

namespace py = pybind11;
using namespace etuner;

namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw ConfigError(message);
}

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// A dict of JSON values (policy params, train settings) as nlohmann::json, through Python's
// json module: whatever it cannot encode is a ValueError naming the argument.
nlohmann::json to_json(const py::object& obj, const char* what) {
  if (obj.is_none()) return nlohmann::json::object();
  require(py::isinstance<py::dict>(obj), std::string(what) + ": expected a dict");
  std::string text;
  try {
    text = py::module_::import("json").attr("dumps")(obj).cast<std::string>();
  } catch (const py::error_already_set& e) {
    throw ConfigError(std::string(what) + ": not JSON-encodable (" + e.what() + ")");
  }
  return nlohmann::json::parse(text);
}

// The `train` dict: TrainConfig's fields by name; an unknown key is an error, not ignored.
tuning::TrainConfig train_config(const nlohmann::json& j) {
  tuning::TrainConfig t;
  for (const auto& [key, v] : j.items()) {
    const std::string where = "train." + key;
    try {
      if (key == "lr")
        t.lr = v.get<double>();
      else if (key == "momentum")
        t.momentum = v.get<double>();
      else if (key == "weight_decay")
        t.weight_decay = v.get<double>();
      else if (key == "batch_size")
        t.batch_size = v.get<int>();
      else if (key == "epochs_per_round")
        t.epochs_per_round = v.get<int>();
      else if (key == "replay_samples")
        t.replay_samples = v.get<int>();
      else if (key == "replay_buffer")
        t.replay_buffer = v.get<int>();
      else if (key == "optimizer") {
        const auto s = v.get<std::string>();
        require(s == "sgd" || s == "adam", where + ": expected \"sgd\" or \"adam\"");
        t.optimizer = s == "adam" ? tuning::OptimizerKind::kAdam : tuning::OptimizerKind::kSgd;
      } else if (key == "replay_policy") {
        const auto s = v.get<std::string>();
        require(s == "reservoir" || s == "class_balanced",
                where + ": expected \"reservoir\" or \"class_balanced\"");
        t.replay_policy = s == "class_balanced" ? tuning::ReplayPolicy::kClassBalanced
                                                : tuning::ReplayPolicy::kReservoir;
      } else
        throw ConfigError(where +
                          ": unknown key (known: lr, momentum, weight_decay, "
                          "batch_size, epochs_per_round, replay_samples, "
                          "replay_buffer, optimizer, replay_policy)");
    } catch (const nlohmann::json::exception&) {
      throw ConfigError(where + ": wrong type " + std::string(v.type_name()));
    }
  }
  require(t.lr > 0, "train.lr: must be > 0");
  require(t.batch_size >= 1 && t.epochs_per_round >= 1,
          "train: batch_size and epochs_per_round must be >= 1");
  require(t.replay_samples >= 0 && t.replay_buffer >= 0, "train: replay sizes must be >= 0");
  return t;
}

// A zoo name, else a TorchScript file; either must map `shape` to `classes` logits.
std::unique_ptr<model::BlockModel> load_model(const std::string& name,
                                              const model::InputShape& shape) {
  const auto zoo = model::zoo_names();
  std::unique_ptr<model::BlockModel> m;
  if (std::find(zoo.begin(), zoo.end(), name) != zoo.end())
    m = model::make(name, shape);
  else if (model::is_torchscript_file(name))
    m = model::load_torchscript(name);
  else
    throw ConfigError("model '" + name + "': neither a zoo model (" + join(zoo) +
                      ") nor a TorchScript file");
  model::check_output_width(*m, shape);
  return m;
}

struct Options {
  std::string model;
  model::InputShape shape;
  std::string policy = "etuner";
  nlohmann::json params, train;
  std::optional<int> threads;
  uint64_t seed = 1;
  std::string protocol = "instant";
  std::string profile = "cpu-2core";
  std::string meter = "auto";
};

runtime::Runtime make_runtime(const Options& o) {
  require(o.protocol == "instant" || o.protocol == "realtime",
          "protocol '" + o.protocol + "': expected \"instant\" or \"realtime\"");
  require(o.meter == "auto" || o.meter == "modeled",
          "meter '" + o.meter + "': expected \"auto\" or \"modeled\"");
  require(!o.threads || *o.threads >= 1, "threads: must be >= 1");
  policy::check_params(o.params);
  auto policy = policy::make(o.policy, o.params);
  runtime::RuntimeConfig cfg;
  cfg.train = train_config(o.train);
  cfg.protocol = o.protocol == "realtime" ? Protocol::kRealtime : Protocol::kInstant;
  cfg.profile = device_profile(o.profile);
  cfg.seed = o.seed;
  for (int c = 0; c < o.shape.num_classes; ++c) cfg.known_classes.push_back(c);
  // Process-wide, as torch.set_num_threads is: Python's torch shares these threads.
  if (o.threads) torch::set_num_threads(*o.threads);
  // A fresh zoo model is reproducible from the seed (torch's global generator, which Python's
  // torch shares).
  torch::manual_seed(o.seed);
  auto m = load_model(o.model, o.shape);
  auto meter = o.meter == "modeled" ? meter::make_modeled(cfg.profile) : meter::detect(cfg.profile);
  return runtime::Runtime(std::move(m), std::move(policy), cfg, std::move(meter));
}

// One Runtime for Python. The C++ core is single-threaded: calls release the GIL while
// they compute and take `mu_`, so Python threads may share a Runtime.
class PyRuntime {
 public:
  explicit PyRuntime(const Options& o) : shape_(o.shape), rt_(make_runtime(o)) {}

  int64_t add_labeled(const torch::Tensor& images, const torch::Tensor& labels, double now_s) {
    auto x = checked_images(images, "add_labeled: images");
    require(x.size(0) >= 1, "add_labeled: images: empty batch (N = 0)");
    auto y = checked_labels(labels, x.size(0));
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(mu_);
    step_time(now_s, "add_labeled");
    return rt_.add_labeled(x, y, now_s);
  }

  py::object advance(double now_s) {
    std::optional<runtime::RoundRecord> r;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      step_time(now_s, "advance");
      // Training needs autograd even when called inside `with torch.no_grad():`.
      torch::AutoGradMode grad(true);
      r = rt_.advance(now_s);
    }
    return r ? py::object(record_dict(*r)) : py::none();
  }

  py::object predict(const torch::Tensor& images) {
    auto x = checked_images(images, "predict: images");
    runtime::Prediction p;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      p = rt_.predict(x);
    }
    return py::module_::import("etuner").attr("Prediction")(p.labels, p.confidence, p.version,
                                                            p.lag_samples);
  }

  void seed_replay(const torch::Tensor& images, const torch::Tensor& labels) {
    auto x = checked_images(images, "seed_replay: images");
    auto y = checked_labels(labels, x.size(0));
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(mu_);
    rt_.seed_replay(x, y);
  }

  py::dict take_consumed() {
    std::lock_guard<std::mutex> lock(mu_);
    const auto c = rt_.take_consumed();
    py::dict d;
    d["trained"] = c.trained;
    d["retired"] = c.retired;
    d["quarantined"] = c.quarantined;
    return d;
  }

  int version() const {
    return locked([&] { return rt_.version(); });
  }
  int num_blocks() const {
    return locked([&] { return rt_.num_blocks(); });
  }
  double next_deploy_s() const {
    return locked([&] { return rt_.next_deploy_s(); });
  }
  std::string energy_source() const {
    return locked([&] { return rt_.energy_source(); });
  }
  std::string policy_name() const {
    return locked([&] { return rt_.policy().name; });
  }
  py::dict totals() const {
    return totals_dict(locked([&] { return rt_.totals(); }));
  }

 private:
  template <class F>
  auto locked(F f) const -> decltype(f()) {
    std::lock_guard<std::mutex> lock(mu_);
    return f();
  }

  // Stream time never goes back: the realtime protocol and the schedulers compare it.
  void step_time(double now_s, const char* call) {
    require(std::isfinite(now_s), std::string(call) + ": now_s must be finite");
    require(now_s >= last_now_s_, std::string(call) + ": now_s " + num(now_s) +
                                      " is earlier than the last call's " + num(last_now_s_) +
                                      " (stream time never goes back)");
    last_now_s_ = now_s;
  }

  // [N, C, H, W] floating point in the constructor's shape, as a float32 CPU copy (the
  // runtime keeps pending samples, so a caller reusing its buffer cannot change them).
  torch::Tensor checked_images(const torch::Tensor& x, const std::string& what) const {
    const std::vector<int64_t> want = {shape_.channels, shape_.height, shape_.width};
    require(x.dim() == 4 && x.sizes().slice(1).vec() == want,
            what + ": expected shape [N, " + std::to_string(want[0]) + ", " +
                std::to_string(want[1]) + ", " + std::to_string(want[2]) + "], got " +
                c10::str(x.sizes()));
    require(x.is_floating_point(),
            what + ": expected a floating-point tensor (values in [0, 1]), got " +
                std::string(c10::toString(x.scalar_type())));
    return x.detach().to(torch::kCPU, torch::kFloat, false, /*copy=*/true).contiguous();
  }

  torch::Tensor checked_labels(const torch::Tensor& y, int64_t n) const {
    require(y.dim() == 1 && y.size(0) == n, "labels: expected shape [" + std::to_string(n) +
                                                "] (one per image), got " + c10::str(y.sizes()));
    require(
        !y.is_floating_point() && !y.is_complex() && y.scalar_type() != torch::kBool,
        "labels: expected an integer tensor, got " + std::string(c10::toString(y.scalar_type())));
    auto out = y.detach().to(torch::kCPU, torch::kLong, false, /*copy=*/true);
    if (n > 0) {
      const auto lo = out.min().item<int64_t>(), hi = out.max().item<int64_t>();
      require(lo >= 0 && hi < shape_.num_classes, "labels: expected classes 0.." +
                                                      std::to_string(shape_.num_classes - 1) +
                                                      ", got " + std::to_string(lo < 0 ? lo : hi));
    }
    return out;
  }

  static py::dict record_dict(const runtime::RoundRecord& r) {
    py::dict d;
    d["round"] = r.round;
    d["start_s"] = r.start_s;
    d["end_s"] = r.end_s;
    d["fresh_samples"] = r.fresh_samples;
    d["replay_samples"] = r.replay_samples;
    d["samples"] = r.samples;
    d["steps"] = r.steps;
    d["epochs"] = r.epochs;
    d["frozen_prefix"] = r.frozen_prefix;
    d["frozen_mask"] = r.frozen_mask;
    d["wall_s"] = r.wall_s;
    d["modeled_s"] = r.modeled_s;
    d["energy_j"] = r.energy_j;
    d["train_flops"] = r.train_flops;
    d["loss"] = r.loss;
    d["discarded"] = r.discarded;
    d["cache_hits"] = r.cache_hits;
    d["reason"] = r.reason;
    d["freeze_reason"] = r.freeze_reason;
    return d;
  }

  static py::dict totals_dict(const runtime::Totals& t) {
    py::dict d;
    d["rounds"] = t.rounds;
    d["finetune_s"] = t.finetune_s;
    d["decision_s"] = t.decision_s;
    d["modeled_s"] = t.modeled_s;
    d["modeled_j"] = t.modeled_j;
    d["finetune_j"] = t.finetune_j;
    d["inference_j"] = t.inference_j;
    d["inference_s"] = t.inference_s;
    d["drifts"] = t.drifts;
    d["similarity_s"] = t.similarity_s;
    d["adapt_s"] = t.adapt_s;
    d["adapt_steps"] = t.adapt_steps;
    d["pseudo_labeled"] = t.pseudo_labeled;
    d["samples_trained"] = t.samples_trained;
    d["cache_hits"] = t.cache_hits;
    d["train_flops"] = t.train_flops;
    d["decision_flops"] = t.decision_flops;
    return d;
  }

  model::InputShape shape_;
  runtime::Runtime rt_;
  mutable std::mutex mu_;
  double last_now_s_ = -std::numeric_limits<double>::infinity();
};

PyRuntime* construct(const std::string& model, const std::vector<int>& input, int classes,
                     const std::string& policy, const py::object& params, const py::object& train,
                     std::optional<int> threads, uint64_t seed, const std::string& protocol,
                     const std::string& profile, const std::string& meter) {
  require(input.size() == 3 && input[0] >= 1 && input[1] >= 1 && input[2] >= 1,
          "input: expected (channels, height, width), each >= 1");
  require(classes >= 2, "classes: must be >= 2");
  Options o;
  o.model = model;
  o.shape = {input[0], input[1], input[2], classes};
  o.policy = policy;
  o.params = to_json(params, "params");
  o.train = to_json(train, "train");
  o.threads = threads;
  o.seed = seed;
  o.protocol = protocol;
  o.profile = profile;
  o.meter = meter;
  return new PyRuntime(o);
}

// The caller's input is wrong (as the CLI's exit code 2): ValueError, or OSError for a path.
void translate_errors() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const ConfigError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const ModelError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) {  // DeviceError and anything else of etuner's
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace

PYBIND11_MODULE(etuner, m) {
  // The tensor casters need torch's Python types: import torch before the first tensor.
  py::module_::import("torch");
  translate_errors();
  m.doc() = "etuner: continual fine-tuning of a model that keeps answering requests";
  m.attr("Prediction") =
      py::module_::import("collections")
          .attr("namedtuple")("Prediction", "labels confidence version lag_samples");
  m.def("presets", &policy::preset_names, "The registered policy presets' names.");
  m.def("zoo_models", &model::zoo_names, "The built-in models' names.");

  py::class_<PyRuntime>(m, "Runtime")
      .def(py::init(&construct), py::arg("model"), py::arg("input"), py::arg("classes"),
           py::kw_only(), py::arg("policy") = "etuner", py::arg("params") = py::none(),
           py::arg("train") = py::none(), py::arg("threads") = py::none(), py::arg("seed") = 1,
           py::arg("protocol") = "instant", py::arg("profile") = "cpu-2core",
           py::arg("meter") = "auto",
           "A model that answers requests while it fine-tunes on labeled batches.")
      .def("add_labeled", &PyRuntime::add_labeled, py::arg("images"), py::arg("labels"),
           py::arg("now_s"), "A labeled batch arrives; returns the id of its first sample.")
      .def("advance", &PyRuntime::advance, py::arg("now_s"),
           "Lets the policy decide; returns the round's record (a dict) if one ran, else None.")
      .def("predict", &PyRuntime::predict, py::arg("images"),
           "Answers with the deployed version: Prediction(labels, confidence, version, "
           "lag_samples).")
      .def("seed_replay", &PyRuntime::seed_replay, py::arg("images"), py::arg("labels"),
           "Seeds the replay buffer (e.g. with pretraining samples).")
      .def("take_consumed", &PyRuntime::take_consumed,
           "Sample ids consumed since the last call: {trained, retired, quarantined}.")
      .def_property_readonly("version", &PyRuntime::version)
      .def_property_readonly("totals", &PyRuntime::totals)
      .def_property_readonly("num_blocks", &PyRuntime::num_blocks)
      .def_property_readonly("next_deploy_s", &PyRuntime::next_deploy_s)
      .def_property_readonly("energy_source", &PyRuntime::energy_source)
      .def_property_readonly("policy", &PyRuntime::policy_name);
}
