// The entropy steps of adapter `eata` (src/adapt/eata.cpp says what they are): one SGD step
// on the answering copy's BatchNorm affine parameters per chunk of answered requests. Owns
// the optimizer, the Fisher weights, the anchor and the running mean answer.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "etuner/model.h"
#include "etuner/policy.h"

namespace etuner::runtime {

class EntropyStep {
 public:
  explicit EntropyStep(const policy::AdaptOptions& options) : options_(options) {}

  // Fisher weights of the norm parameters from in-distribution inputs (the pretraining
  // samples), EATA's way: squared gradients of the cross-entropy against the model's own
  // predictions, averaged over the samples. Only the first call counts.
  void estimate_fisher(model::BlockModel& m, const torch::Tensor& x);
  // The answering copy changed (a new version, or a reset): its norm parameters are the new
  // anchor, and the optimizer starts afresh on them.
  void attach(model::BlockModel& serving);
  // One step on `x` (already answered). Returns how many inputs the loss used (0: none was
  // confident and new enough, and nothing changed).
  int64_t step(model::BlockModel& serving, const torch::Tensor& x);
  int steps() const { return steps_; }

 private:
  torch::Tensor select(const torch::Tensor& probs, const torch::Tensor& entropy);
  torch::Tensor fisher_penalty() const;

  policy::AdaptOptions options_;
  std::vector<torch::Tensor> params_, anchor_, fisher_;
  std::unique_ptr<torch::optim::SGD> opt_;
  torch::Tensor mean_probs_;  // running mean of the answers used (redundancy filter)
  int steps_ = 0;
};

}  // namespace etuner::runtime
