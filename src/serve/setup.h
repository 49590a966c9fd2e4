// What `etuner serve` runs: the model, its input spec, training settings and the identity a
// restart must match, built from the flags (ServeConfig) alone.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "etuner/harness.h"
#include "etuner/model.h"
#include "etuner/runtime.h"
#include "etuner/serve.h"
#include "etuner/stream.h"
#include "serve/request.h"

namespace etuner::serve {

struct Task {
  std::unique_ptr<model::BlockModel> model;  // version 0: pretrained, loaded or freshly initialised
  InputSpec input;
  runtime::RuntimeConfig runtime;  // training settings and known classes (the engine sets the rest)
  harness::LabeledSamples replay;  // pretraining samples for the replay buffer (may be empty)
  std::string identity;            // model name and shape, recorded in the store
};

// Throws ConfigError for inconsistent flags, ModelError/IoError for what they name.
Task build_task(const ServeConfig& cfg);

// cfg.policy_params parsed (an empty object when ""). Throws ConfigError for invalid JSON or a
// key no scheduler or freezer reads.
nlohmann::json policy_params(const ServeConfig& cfg);

// Throws ConfigError naming the first invalid ServeConfig field.
void validate(const ServeConfig& cfg);

}  // namespace etuner::serve
