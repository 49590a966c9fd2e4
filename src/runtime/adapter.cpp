#include "runtime/adapter.h"

#include "etuner/tuning.h"

namespace etuner::runtime {
namespace {

constexpr double kDeployAlpha = 0.5;  // a new version starts half-way to recent requests
constexpr int64_t kRecent = 20;       // answered inputs kept for that refresh
constexpr int64_t kPseudoCap = 128;   // confident answers waiting for a round
constexpr int kPseudoQuietGaps = 2;   // no pseudo-labels this soon after a change

// The newest `n` rows (all of them when n is 0 or more than there are).
torch::Tensor newest(const torch::Tensor& x, int64_t n) {
  return n > 0 && x.size(0) > n ? x.slice(0, x.size(0) - n) : x;
}

torch::Tensor keep_last(const torch::Tensor& a, const torch::Tensor& b, int64_t n) {
  return newest(a.defined() ? torch::cat({a, b}) : b, n);
}

}  // namespace

Adapter::Adapter(policy::AdaptOptions options, std::shared_ptr<model::BlockModel> deployed,
                 Ledger& ledger)
    : options_(options), ledger_(ledger), deployed_(deployed), serving_(std::move(deployed)) {}

int64_t Adapter::chunk(int64_t remaining) const {
  if (!active()) return remaining;
  const int64_t waiting = bn_waiting_.defined() ? bn_waiting_.size(0) : 0;
  return std::max<int64_t>(1, options_.bn_chunk - waiting);
}

void Adapter::after_answer(const torch::Tensor& x, const Prediction& p, int gaps_since_change) {
  if (options_.bn_adapt) step_batchnorm(x);
  if (options_.pseudo_labels && gaps_since_change >= kPseudoQuietGaps) keep_confident(x, p);
}

// A step reads `bn_chunk` answered inputs, gathered across calls: with 12 requests per gap a
// step per call would read 10 and then 2, and 2 images' statistics are noise.
void Adapter::step_batchnorm(const torch::Tensor& x) {
  if (serving_ == deployed_) serving_ = std::shared_ptr<model::BlockModel>(deployed_->clone());
  bn_waiting_ = bn_waiting_.defined() ? torch::cat({bn_waiting_, x}) : x;
  if (bn_waiting_.size(0) >= options_.bn_chunk) {
    const auto step = newest(bn_waiting_, options_.bn_images);
    tuning::adapt_batchnorm(*serving_, step, options_.bn_alpha);
    ledger_.profile_once(*serving_, step);
    ledger_.count_decision_pass(step.size(0));
    bn_waiting_ = torch::Tensor();
  }
  recent_x_ = keep_last(recent_x_, x, kRecent);
}

void Adapter::keep_confident(const torch::Tensor& x, const Prediction& p) {
  auto keep = p.confidence.ge(options_.pseudo_threshold).nonzero().squeeze(1).to(x.device());
  if (keep.numel() == 0) return;
  pseudo_x_ = keep_last(pseudo_x_, x.index_select(0, keep), kPseudoCap);
  pseudo_y_ = keep_last(pseudo_y_, p.labels.to(x.device()).index_select(0, keep), kPseudoCap);
}

// Blocks frozen through the new version's whole round are the previous version's, so their
// adapted statistics carry over exactly; the trained blocks' statistics come from training
// batches (fresh and replayed, several scenarios) and move half-way toward the recent
// requests before the version answers.
void Adapter::refresh(std::shared_ptr<model::BlockModel> deployed, int kept_prefix) {
  auto previous = serving_;
  deployed_ = std::move(deployed);
  serving_ = deployed_;
  if (!options_.bn_adapt || !recent_x_.defined()) return;
  ledger_.begin_decide();
  serving_ = std::shared_ptr<model::BlockModel>(deployed_->clone());
  const int kept = std::min(kept_prefix, serving_->num_blocks());
  torch::NoGradGuard no_grad;
  for (int u = 0; u < kept; ++u) {
    auto from = previous->unit_buffers(u), to = serving_->unit_buffers(u);
    for (size_t k = 0; k < to.size(); ++k) to[k].copy_(from[k]);
  }
  if (kept < serving_->num_blocks()) {
    const auto x = newest(recent_x_, options_.bn_images);
    tuning::adapt_batchnorm(*serving_, x, kDeployAlpha, kept);
    ledger_.count_decision_pass(x.size(0));
  }
  ledger_.end_adapt();
}

std::pair<torch::Tensor, torch::Tensor> Adapter::pseudo_batch(int max_n) {
  if (!options_.pseudo_labels || !pseudo_x_.defined() || max_n <= 0) return {};
  const int64_t n = std::min<int64_t>(max_n, pseudo_x_.size(0));
  auto x = pseudo_x_.slice(0, pseudo_x_.size(0) - n), y = pseudo_y_.slice(0, pseudo_y_.size(0) - n);
  forget_pseudo();
  return {x, y};
}

}  // namespace etuner::runtime
