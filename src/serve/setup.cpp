#include "serve/setup.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>

#include "etuner/error.h"
#include "etuner/harness.h"
#include "etuner/policy.h"
#include "etuner/presets.h"

namespace etuner::serve {
namespace {

// By content, whatever the file's name; an existing file that is not TorchScript is an
// error, not a zoo name.
bool is_torchscript(const std::string& m) {
  if (model::is_torchscript_file(m)) return true;
  if (!m.empty() && std::filesystem::exists(m))
    throw ModelError("--model: '" + m +
                     "' is not a TorchScript archive (torch.jit.script(model).save(path) writes "
                     "one; a torch.save() state dict does not): see docs/models.md");
  return false;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw ConfigError(message);
}

std::string identity_of(const std::string& model, const InputSpec& s) {
  return nlohmann::json{{"model", model},
                        {"channels", s.channels},
                        {"height", s.height},
                        {"width", s.width},
                        {"classes", s.num_classes}}
      .dump();
}

Task from_flags(const ServeConfig& cfg) {
  Task t;
  t.input = {cfg.channels, cfg.height, cfg.width, cfg.classes};
  torch::manual_seed(cfg.seed);  // a fresh zoo model is reproducible from the flags
  t.model = is_torchscript(cfg.model)
                ? model::load_torchscript(cfg.model)
                : model::make(cfg.model, {cfg.channels, cfg.height, cfg.width, cfg.classes});
  t.runtime.known_classes.resize(cfg.classes);
  std::iota(t.runtime.known_classes.begin(), t.runtime.known_classes.end(), 0);
  t.identity = identity_of(cfg.model, t.input);
  return t;
}

Task from_spec(const ServeConfig& cfg) {
  // A zoo name replaces the spec's model; a TorchScript file is used as the deployed model.
  nlohmann::json overrides = nullptr;
  if (!cfg.model.empty() && !is_torchscript(cfg.model)) overrides = {{"model", cfg.model}};
  const auto spec = harness::load_spec_with(cfg.stream_spec, cfg.data_root, overrides);
  const auto splits = data::load(spec.data.source, spec.data.root);
  const auto& images = splits.train.images;
  Task t;
  t.input = {static_cast<int>(images.size(1)), static_cast<int>(images.size(2)),
             static_cast<int>(images.size(3)), splits.train.num_classes()};
  harness::PretrainOptions po;
  po.model_path = is_torchscript(cfg.model) ? cfg.model : "";
  po.quiet = cfg.quiet;
  t.model = harness::pretrained_model(spec, splits, po);
  t.runtime = harness::runtime_config(spec, t.input.num_classes);
  t.replay = harness::pretrain_replay(spec, splits);
  t.identity = identity_of(po.model_path.empty() ? spec.model : cfg.model, t.input);
  return t;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

nlohmann::json policy_params(const ServeConfig& cfg) {
  if (cfg.policy_params.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(cfg.policy_params, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    throw ConfigError(
        "--params: expected a JSON object keyed by scheduler or freezer name, e.g. "
        "'{\"lazytune\": {\"max_merge\": 8}}' (got '" +
        cfg.policy_params + "')");
  policy::check_params(j);
  return j;
}

void validate(const ServeConfig& cfg) {
  require(!cfg.data_dir.empty(), "--data-dir: required (it holds the samples and checkpoints)");
  require(cfg.stream_spec.empty() != (cfg.classes == 0),
          "give exactly one of --stream-spec or --classes N");
  require(cfg.classes >= 0, "--classes: must be >= 1");
  require(cfg.channels >= 1 && cfg.height >= 1 && cfg.width >= 1,
          "--input: channels, height and width must be >= 1");
  require(cfg.port >= 0 && cfg.port <= 65535, "--port: must be 0..65535");
  require(cfg.max_inflight >= 1, "--max-inflight: must be >= 1");
  require(cfg.max_body_bytes >= 1024, "--max-body-kb: must be >= 1");
  require(cfg.max_connections >= 1, "--max-connections: must be >= 1");
  require(cfg.request_timeout_s > 0, "--request-timeout: must be > 0");
  require(cfg.max_stored_samples >= 1, "--max-stored-samples: must be >= 1");
  require(cfg.max_store_bytes >= (int64_t(1) << 16), "--max-store-mb: must be >= 1");
  require(cfg.insecure || !cfg.auth_token.empty() || is_loopback(cfg.host),
          "--host " + cfg.host +
              ": other machines could reach it; give --token-file (or --insecure to allow it "
              "without authentication)");
  require(cfg.batch_samples >= 1, "--batch-samples: must be >= 1");
  require(cfg.max_queue_samples >= cfg.batch_samples,
          "--max-queue-samples: must be >= --batch-samples");
  require(cfg.batch_wait_s >= 0, "--batch-wait: must be >= 0");
  require(cfg.adapt_publish_s >= 0, "--adapt-publish-s: must be >= 0");
  require(cfg.torch_threads >= 1, "--threads: must be >= 1");
  require(cfg.trainer_nice >= 0 && cfg.trainer_nice <= 19, "--trainer-nice: must be 0..19");
  require(cfg.device == "cpu" || cfg.device == "cuda",
          "--device: must be cpu or cuda (got '" + cfg.device + "')");
  if (cfg.device == "cuda" && !torch::cuda::is_available())
    throw DeviceError(
        "--device cuda: this LibTorch build has no CUDA device (it was built without CUDA, or "
        "none is visible)");
  // A typo in the policy or its parameters fails here, before the data directory is touched.
  policy::make(cfg.policy, policy_params(cfg));
}

Task build_task(const ServeConfig& cfg) {
  validate(cfg);
  Task t = cfg.stream_spec.empty() ? from_flags(cfg) : from_spec(cfg);
  t.model->set_training(false);
  return t;
}

}  // namespace etuner::serve
