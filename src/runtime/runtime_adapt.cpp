// Label-free adaptation from the inference stream. Causal by construction: the runtime is
// never given a request's label, and a chunk of requests adapts the serving copy only after
// it has been answered, so an answer depends on earlier inputs only.
#include "etuner/runtime.h"
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

void Runtime::adapt_from_requests(const torch::Tensor& x, const Prediction& p) {
  const bool detect = policy_.needs_change_detector();
  const auto& a = policy_.adapt;
  if (!detect && !a.bn_adapt && !a.pseudo_labels) return;
  begin_decide();
  if (detect) monitor_.observe(x);
  if (a.bn_adapt) {
    if (serving_ == deployed_) serving_ = std::shared_ptr<model::BlockModel>(deployed_->clone());
    // A step reads `bn_chunk` answered inputs, gathered across calls: with 12 requests per
    // gap a step per call would read 10 and then 2, and 2 images' statistics are noise.
    bn_waiting_ = bn_waiting_.defined() ? torch::cat({bn_waiting_, x}) : x;
    if (bn_waiting_.size(0) >= a.bn_chunk) {
      const auto step = newest(bn_waiting_, a.bn_images);
      tuning::adapt_batchnorm(*serving_, step, a.bn_alpha);
      profile_once(step);
      count_decision_pass(step.size(0));
      bn_waiting_ = torch::Tensor();
    }
    recent_x_ = keep_last(recent_x_, x, kRecent);
  }
  if (a.pseudo_labels && gaps_since_change_ >= kPseudoQuietGaps) {
    auto keep = p.confidence.ge(a.pseudo_threshold).nonzero().squeeze(1).to(x.device());
    if (keep.numel() > 0) {
      pseudo_x_ = keep_last(pseudo_x_, x.index_select(0, keep), kPseudoCap);
      pseudo_y_ = keep_last(pseudo_y_, p.labels.to(x.device()).index_select(0, keep), kPseudoCap);
    }
  }
  end_decide(&totals_.adapt_s);
}

// A new version was deployed. Blocks frozen through its whole round are the previous
// version's, so their adapted statistics carry over exactly; the trained blocks' statistics
// come from training batches (fresh and replayed, several scenarios) and move half-way
// toward the recent requests before the version answers.
void Runtime::refresh_serving() {
  auto previous = serving_;
  serving_ = deployed_;
  if (!policy_.adapt.bn_adapt || !recent_x_.defined()) return;
  begin_decide();
  serving_ = std::shared_ptr<model::BlockModel>(deployed_->clone());
  const int kept = std::min(round_min_prefix_, serving_->num_blocks());
  torch::NoGradGuard no_grad;
  for (int u = 0; u < kept; ++u) {
    auto from = previous->unit_buffers(u), to = serving_->unit_buffers(u);
    for (size_t k = 0; k < to.size(); ++k) to[k].copy_(from[k]);
  }
  if (kept < serving_->num_blocks()) {
    const auto x = newest(recent_x_, policy_.adapt.bn_images);
    tuning::adapt_batchnorm(*serving_, x, kDeployAlpha, kept);
    count_decision_pass(x.size(0));
  }
  end_decide(&totals_.adapt_s);
}

// Up to max_n confident answers, newest first; they are used once.
std::pair<torch::Tensor, torch::Tensor> Runtime::pseudo_batch(int max_n) {
  if (!policy_.adapt.pseudo_labels || !pseudo_x_.defined() || max_n <= 0) return {};
  const int64_t n = std::min<int64_t>(max_n, pseudo_x_.size(0));
  auto x = pseudo_x_.slice(0, pseudo_x_.size(0) - n), y = pseudo_y_.slice(0, pseudo_y_.size(0) - n);
  pseudo_x_ = pseudo_y_ = torch::Tensor();
  return {x, y};
}

}  // namespace etuner::runtime
