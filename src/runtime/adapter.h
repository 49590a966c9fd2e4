// The label-free axis: what answers requests (the deployed version, or a copy of it whose
// BatchNorm statistics, and with `eata` its BatchNorm affine parameters, follow the answered
// requests) and confident answers kept as pseudo-labels. Causal by construction: the runtime is
// never given a request's label, and a chunk of requests adapts the serving copy only after it has
// been answered.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <utility>

#include "etuner/model.h"
#include "etuner/policy.h"
#include "etuner/runtime_records.h"
#include "runtime/entropy_step.h"
#include "runtime/ledger.h"

namespace etuner::runtime {

class Adapter {
 public:
  Adapter(policy::AdaptOptions options, std::shared_ptr<model::BlockModel> deployed,
          Ledger& ledger);

  bool active() const {
    return options_.bn_adapt || options_.pseudo_labels || options_.entropy_steps;
  }
  model::BlockModel& serving() { return *serving_; }
  std::shared_ptr<const model::BlockModel> serving_model() const { return serving_; }
  // The serving version's logits for x: the answering pass. With fused statistics it also
  // tallies the requests' BatchNorm statistics, which the next step applies.
  torch::Tensor answer(const torch::Tensor& x);
  // How many of `remaining` requests to answer before the next adaptation step is due:
  // a step reads `bn_chunk` answered inputs, counted across calls.
  int64_t chunk(int64_t remaining) const;
  // After a chunk was answered (inside the caller's decide window).
  void after_answer(const torch::Tensor& x, const Prediction& p, int gaps_since_change);
  // A new version was deployed; the blocks [0, kept_prefix) are the previous version's.
  void refresh(std::shared_ptr<model::BlockModel> deployed, int kept_prefix);
  // A shelved version came back (recurring scenario): it answers with the statistics it had
  // when it was shelved, adapted to this scenario then; no pass.
  void restore(std::shared_ptr<model::BlockModel> deployed);
  // Up to `max_n` confident answers, newest first; they are used once.
  std::pair<torch::Tensor, torch::Tensor> pseudo_batch(int max_n);
  // In-distribution inputs (the pretraining samples): the Fisher weights of entropy steps.
  void calibrate(const torch::Tensor& x);
  // A scenario change: the old scenario's answers are no longer labels.
  void forget_pseudo() { pseudo_x_ = pseudo_y_ = torch::Tensor(); }

 private:
  void gather(const torch::Tensor& x);
  void step(const torch::Tensor& x);
  void make_serving_copy();
  bool fused();
  void blend_statistics(model::BlockModel& previous, int kept);
  void keep_confident(const torch::Tensor& x, const Prediction& p);

  policy::AdaptOptions options_;
  Ledger& ledger_;
  std::shared_ptr<model::BlockModel> deployed_;
  std::shared_ptr<model::BlockModel> serving_;  // deployed_, or its adapted copy
  torch::Tensor recent_x_;                      // last answered inputs (BN refresh on deploy)
  torch::Tensor bn_waiting_;                    // answered inputs since the last BN step
  torch::Tensor pseudo_x_, pseudo_y_;           // confident answers not trained on yet
  EntropyStep entropy_;
  int can_tally_ = -1;  // whether the model tallies BatchNorm statistics; -1: not asked yet
};

}  // namespace etuner::runtime
