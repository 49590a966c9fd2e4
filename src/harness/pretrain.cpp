// Pretraining of the deployed model, cached by content so every bench run starts from the
// same weights without paying for them again.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "etuner/error.h"
#include "etuner/harness.h"
#include "etuner/tuning.h"
#include "harness/progress.h"

namespace etuner::harness {
namespace {

// The TorchScript file to deploy, or "" for a zoo model. A file is recognised by what it
// holds, whatever its name; one that is not TorchScript is an error, not a zoo name.
std::string script_path(const stream::StreamSpec& spec, const PretrainOptions& o) {
  const std::string path = o.model_path.empty() ? spec.model : o.model_path;
  if (model::is_torchscript_file(path)) return path;
  if (std::filesystem::exists(path))
    throw ModelError("'" + path +
                     "' is not a TorchScript archive (torch.jit.script(model).save(path) writes "
                     "one; a torch.save() state dict does not): see docs/models.md");
  if (!o.model_path.empty()) throw ModelError("--model: '" + path + "' does not exist");
  return "";
}

std::unique_ptr<model::BlockModel> normalized(std::unique_ptr<model::BlockModel> m,
                                              const stream::StreamSpec& spec) {
  return model::with_normalization(std::move(m), spec.input.mean, spec.input.std_dev);
}

model::InputShape shape_of(const data::Dataset& d) {
  return {static_cast<int>(d.images.size(1)), static_cast<int>(d.images.size(2)),
          static_cast<int>(d.images.size(3)), d.num_classes()};
}

std::string cache_dir(const PretrainOptions& o) {
  if (!o.cache_dir.empty()) return o.cache_dir;
  if (const char* env = std::getenv("ETUNER_CACHE")) return env;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/etuner";
}

// Cheap content fingerprint of the pretraining images and labels.
std::string fingerprint(const torch::Tensor& x, const torch::Tensor& y) {
  auto flat = x.reshape({-1}).to(torch::kDouble);
  auto w = torch::arange(flat.numel(), torch::kDouble).remainder(9973) + 1;
  std::ostringstream s;
  s.precision(17);
  s << flat.sum().item<double>() << ":" << (flat * w).sum().item<double>() << ":"
    << (y.to(torch::kDouble) * torch::arange(y.numel(), torch::kDouble)).sum().item<double>();
  return s.str();
}

void train_epochs(model::BlockModel& m, const torch::Tensor& x, const torch::Tensor& y,
                  const stream::StreamSpec& spec, const torch::Device& dev, bool quiet) {
  const auto& p = spec.pretrain;
  auto opt = tuning::make_optimizer(m, tuning::OptimizerConfig{}.with_lr(p.lr));
  auto& sgd = static_cast<torch::optim::SGD&>(*opt);
  tuning::apply_plan(m, {});
  model::FlopsProfile none;
  none.unit_forward_flops.assign(m.num_units(), 0.0);
  ProgressReporter progress("pretrain", "epochs");
  const auto xd = x.to(dev), yd = y.to(dev);  // once, not a host-to-device copy per epoch
  for (int e = 0; e < p.epochs; ++e) {
    // Cosine annealing: a short schedule that converges without tuning per model.
    const double lr = 0.5 * p.lr * (1 + std::cos(M_PI * e / std::max(1, p.epochs)));
    for (auto& g : sgd.param_groups()) static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
    tuning::RoundConfig rc;
    rc.epochs = 1;
    rc.batch_size = p.batch_size;
    rc.cache_mb = 0;
    rc.seed = stream::pretrain_seed(spec) * 31 + e;  // not the stream's seed: the cache key
    auto r = tuning::run_round(m, *opt, xd, yd, rc, none, nullptr);
    if (!r.finite) throw ModelError("pretraining diverged (loss NaN/inf): lower pretrain.lr");
    if (!quiet) progress.update(e + 1, p.epochs, "loss " + std::to_string(r.loss));
  }
  m.set_training(false);
}

}  // namespace

std::string pretrain_cache_path(const stream::StreamSpec& spec, const data::Splits& splits,
                                const PretrainOptions& o) {
  auto rows = torch::tensor(stream::pretrain_indices(spec, splits.train), torch::kLong);
  std::ostringstream key;
  key << spec.model << "|" << spec.data.source << "|" << stream::pretrain_seed(spec) << "|"
      << nlohmann::json(spec.pretrain.classes).dump() << "|" << spec.pretrain.samples << "|"
      << spec.pretrain.epochs << "|" << spec.pretrain.lr << "|" << spec.pretrain.batch_size << "|"
      << splits.train.images.sizes() << "|"
      << fingerprint(splits.train.images.index_select(0, rows),
                     splits.train.labels.index_select(0, rows));
  // Weights pretrained on a GPU differ from CPU ones (other kernels, other rounding): a CPU
  // run must not pick them up, or CPU results stop reproducing. CPU keys stay as they were.
  if (o.device != "cpu") key << "|" << o.device;
  // Likewise normalization: a model pretrained on other inputs is another model.
  if (!spec.input.mean.empty())
    key << "|" << nlohmann::json(spec.input.mean).dump()
        << nlohmann::json(spec.input.std_dev).dump();
  std::ostringstream name;
  name << spec.model << "-" << std::hex << std::hash<std::string>{}(key.str()) << ".pt";
  return cache_dir(o) + "/pretrained/" + name.str();
}

std::unique_ptr<model::BlockModel> pretrained_model(const stream::StreamSpec& spec,
                                                    const data::Splits& splits,
                                                    const PretrainOptions& o) {
  const torch::Device dev(o.device);
  if (const auto script = script_path(spec, o); !script.empty()) {
    auto m = normalized(model::load_torchscript(script), spec);
    m->to(dev);
    return m;
  }
  if (spec.data.source == "manifest")
    throw ConfigError(
        "model: a manifest stream deploys your own model (a TorchScript file as the spec's model "
        "or --model); a zoo model '" +
        spec.model + "' would need a data set to pretrain on");
  auto m = normalized(model::make(spec.model, shape_of(splits.train)), spec);
  const std::string path = pretrain_cache_path(spec, splits, o);
  if (std::filesystem::exists(path)) {
    m->load(path);
    m->to(dev);
    return m;
  }
  torch::manual_seed(stream::pretrain_seed(spec));
  m = normalized(model::make(spec.model, shape_of(splits.train)), spec);
  m->to(dev);
  auto rows = torch::tensor(stream::pretrain_indices(spec, splits.train), torch::kLong);
  train_epochs(*m, data::to_float(splits.train.images.index_select(0, rows)),
               splits.train.labels.index_select(0, rows), spec, dev, o.quiet);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  // A temp name of this process's own: two processes pretraining the same model at once
  // (parallel scorecard cells) each write their own file; the rename is atomic either way.
  const auto tmp = path + "." + std::to_string(::getpid()) + ".tmp";
  m->save(tmp);
  std::filesystem::rename(tmp, path);
  return m;
}

}  // namespace etuner::harness
