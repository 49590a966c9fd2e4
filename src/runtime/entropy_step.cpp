#include "runtime/entropy_step.h"

#include <cmath>

namespace etuner::runtime {
namespace {

constexpr double kMomentum = 0.9;     // EATA's SGD momentum
constexpr double kMeanDecay = 0.9;    // running mean answer: 0.9 old + 0.1 new (EATA)
constexpr int64_t kFisherBatch = 64;  // inputs per Fisher backward pass

// EATA's confidence bound: `margin` x ln(classes).
double entropy_bound(double margin, int64_t classes) {
  return margin * std::log(static_cast<double>(classes));
}

// Only the norm parameters take gradients in the answering copy (it is the adapter's own).
void train_only_norms(model::BlockModel& m) {
  for (auto& p : m.parameters()) p.set_requires_grad(false);
  for (auto& p : m.norm_parameters()) p.set_requires_grad(true);
}

}  // namespace

void EntropyStep::estimate_fisher(model::BlockModel& m, const torch::Tensor& x) {
  auto params = m.norm_parameters();
  if (!fisher_.empty() || params.empty() || x.size(0) == 0) return;  // the first samples win
  std::vector<bool> grads;
  for (auto& p : params) grads.push_back(p.requires_grad()), p.set_requires_grad(true);
  std::vector<torch::Tensor> fisher;
  for (auto& p : params) fisher.push_back(torch::zeros_like(p));
  m.set_training(false);
  for (int64_t i = 0; i < x.size(0); i += kFisherBatch) {
    const auto logits = m.forward(x.slice(0, i, std::min(i + kFisherBatch, x.size(0))));
    const auto loss = torch::nn::functional::cross_entropy(logits, logits.argmax(1).detach());
    const auto g = torch::autograd::grad({loss}, params);
    for (size_t k = 0; k < g.size(); ++k) fisher[k] += g[k].detach().pow(2);
  }
  const double batches = std::ceil(static_cast<double>(x.size(0)) / kFisherBatch);
  for (auto& f : fisher) f /= batches;
  for (size_t k = 0; k < params.size(); ++k) params[k].set_requires_grad(grads[k]);
  fisher_ = std::move(fisher);
}

void EntropyStep::attach(model::BlockModel& serving) {
  train_only_norms(serving);
  params_ = serving.norm_parameters();
  anchor_.clear();
  for (const auto& p : params_) anchor_.push_back(p.detach().clone());
  opt_ = params_.empty()
             ? nullptr
             : std::make_unique<torch::optim::SGD>(
                   params_, torch::optim::SGDOptions(options_.entropy_lr).momentum(kMomentum));
}

torch::Tensor EntropyStep::select(const torch::Tensor& probs, const torch::Tensor& entropy) {
  auto keep = entropy.lt(entropy_bound(options_.entropy_margin, probs.size(1)));
  if (mean_probs_.defined()) {
    const auto cos = torch::cosine_similarity(mean_probs_.unsqueeze(0), probs, 1);
    keep = keep.logical_and(cos.abs().lt(options_.redundancy_margin));
  }
  return keep.nonzero().squeeze(1);
}

torch::Tensor EntropyStep::fisher_penalty() const {
  auto total = torch::zeros({}, params_.front().options());
  if (options_.fisher_weight <= 0 || fisher_.size() != params_.size()) return total;
  for (size_t k = 0; k < params_.size(); ++k)
    total = total + (fisher_[k] * (params_[k] - anchor_[k]).pow(2)).sum();
  return options_.fisher_weight * total;
}

int64_t EntropyStep::step(model::BlockModel& serving, const torch::Tensor& x) {
  if (!opt_) return 0;
  serving.set_training(false);  // statistics come from the bn step, not from this batch
  const auto log_probs = torch::log_softmax(serving.forward(x), 1);
  const auto p = log_probs.exp();
  const auto entropy = -(p * log_probs).sum(1);
  const auto probs = p.detach();
  const auto rows = select(probs, entropy.detach());
  if (rows.numel() == 0) return 0;
  const double margin = entropy_bound(options_.entropy_margin, probs.size(1));
  const auto e = entropy.index_select(0, rows);
  const auto weight = torch::exp(margin - e.detach());  // more confident, more weight
  const auto loss = (e * weight).mean() + fisher_penalty();
  opt_->zero_grad();
  loss.backward();
  opt_->step();
  const auto used = probs.index_select(0, rows).mean(0);
  mean_probs_ = mean_probs_.defined() ? kMeanDecay * mean_probs_ + (1 - kMeanDecay) * used : used;
  ++steps_;
  return rows.numel();
}

}  // namespace etuner::runtime
