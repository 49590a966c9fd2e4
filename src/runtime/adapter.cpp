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

void copy_all(const std::vector<torch::Tensor>& from, std::vector<torch::Tensor> to) {
  for (size_t k = 0; k < to.size() && k < from.size(); ++k) to[k].copy_(from[k]);
}

}  // namespace

Adapter::Adapter(policy::AdaptOptions options, std::shared_ptr<model::BlockModel> deployed,
                 Ledger& ledger)
    : options_(options),
      ledger_(ledger),
      deployed_(deployed),
      serving_(std::move(deployed)),
      entropy_(options) {}

void Adapter::calibrate(const torch::Tensor& x) {
  if (!options_.entropy_steps) return;
  entropy_.estimate_fisher(*deployed_, x);
  ledger_.count_adaptation_step(x.size(0));
}

// The first adaptation step copies the deployed version: it is immutable once published.
void Adapter::make_serving_copy() {
  if (serving_ != deployed_) return;
  serving_ = std::shared_ptr<model::BlockModel>(deployed_->clone());
  if (options_.entropy_steps) entropy_.attach(*serving_);
}

bool Adapter::fused() {
  if (!options_.bn_adapt || !options_.bn_fused || options_.bn_images > 0) return false;
  if (can_tally_ < 0) can_tally_ = deployed_->can_tally() ? 1 : 0;
  return can_tally_ == 1;
}

// The tallying pass runs on the serving copy: the deployed version is shared and immutable.
torch::Tensor Adapter::answer(const torch::Tensor& x) {
  if (!fused()) return serving_->forward(x);
  make_serving_copy();
  serving_->set_tallying(true);
  auto logits = serving_->forward(x);
  serving_->set_tallying(false);
  return logits;
}

int64_t Adapter::chunk(int64_t remaining) const {
  if (!active()) return remaining;
  const int64_t waiting = bn_waiting_.defined() ? bn_waiting_.size(0) : 0;
  return std::max<int64_t>(1, options_.bn_chunk - waiting);
}

void Adapter::after_answer(const torch::Tensor& x, const Prediction& p, int gaps_since_change) {
  if (options_.bn_adapt || options_.entropy_steps) gather(x);
  if (options_.pseudo_labels && gaps_since_change >= kPseudoQuietGaps) keep_confident(x, p);
}

// A step reads `bn_chunk` answered inputs, gathered across calls: with 12 requests per gap a
// step per call would read 10 and then 2, and 2 images' statistics are noise.
void Adapter::gather(const torch::Tensor& x) {
  make_serving_copy();
  bn_waiting_ = bn_waiting_.defined() ? torch::cat({bn_waiting_, x}) : x;
  if (bn_waiting_.size(0) >= options_.bn_chunk) {
    step(newest(bn_waiting_, options_.bn_images));
    bn_waiting_ = torch::Tensor();
  }
  recent_x_ = keep_last(recent_x_, x, kRecent);
}

// Statistics first, then (eata) the entropy step on the statistics just updated.
void Adapter::step(const torch::Tensor& x) {
  ledger_.count_adaptation();
  if (fused()) {
    ledger_.count_tallied_values(tuning::apply_batchnorm_tallies(*serving_, options_.bn_alpha));
  } else if (options_.bn_adapt) {
    tuning::adapt_batchnorm(*serving_, x, options_.bn_alpha);
    ledger_.profile_once(*serving_, x);
    ledger_.count_decision_pass(Ledger::Decision::kBatchNorm, x.size(0));
  }
  if (!options_.entropy_steps) return;
  entropy_.step(*serving_, x);
  ledger_.count_adaptation_step(x.size(0));
  if (options_.reset_every > 0 && entropy_.steps() % options_.reset_every == 0) {
    serving_ = deployed_;  // RDumb: back to the deployed weights, statistics included
    make_serving_copy();
  }
}

// The fused path's deploy runs no pass: the trained blocks' statistics move half-way toward
// the previous answering copy's, which followed the same requests through nearly the same
// weights (a round moves them little). Tallies since the last step were the previous copy's:
// the chunk starts again.
void Adapter::blend_statistics(model::BlockModel& previous, int kept) {
  torch::NoGradGuard no_grad;
  for (int u = kept; u < serving_->num_units(); ++u) {
    const auto from = previous.unit_buffers(u), to = serving_->unit_buffers(u);
    for (size_t k = 0; k < to.size() && k < from.size(); ++k)
      if (to[k].is_floating_point()) to[k].add_((from[k] - to[k]) * kDeployAlpha);
  }
  bn_waiting_ = torch::Tensor();
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
// requests before the version answers (with fused statistics, toward the previous copy's).
void Adapter::refresh(std::shared_ptr<model::BlockModel> deployed, int kept_prefix) {
  auto previous = serving_;
  deployed_ = std::move(deployed);
  serving_ = deployed_;
  if (!options_.bn_adapt || !recent_x_.defined()) return;
  ledger_.begin_decide();
  serving_ = std::shared_ptr<model::BlockModel>(deployed_->clone());
  const int kept = std::min(kept_prefix, serving_->num_blocks());
  {
    torch::NoGradGuard no_grad;
    for (int u = 0; u < kept; ++u) {
      copy_all(previous->unit_buffers(u), serving_->unit_buffers(u));
      copy_all(previous->unit_norm_parameters(u), serving_->unit_norm_parameters(u));
    }
  }
  if (options_.entropy_steps) entropy_.attach(*serving_);
  if (fused()) {
    blend_statistics(*previous, kept);
  } else if (kept < serving_->num_blocks()) {
    const auto x = newest(recent_x_, options_.bn_images);
    tuning::adapt_batchnorm(*serving_, x, kDeployAlpha, kept);
    ledger_.count_decision_pass(Ledger::Decision::kBatchNorm, x.size(0));
  }
  ledger_.end_adapt();
}

void Adapter::restore(std::shared_ptr<model::BlockModel> deployed) {
  deployed_ = serving_ = std::move(deployed);
  bn_waiting_ = torch::Tensor();
  if (!active()) return;
  make_serving_copy();
  tuning::reset_batchnorm_tallies(*serving_);  // a chunk starts again
}

std::pair<torch::Tensor, torch::Tensor> Adapter::pseudo_batch(int max_n) {
  if (!options_.pseudo_labels || !pseudo_x_.defined() || max_n <= 0) return {};
  const int64_t n = std::min<int64_t>(max_n, pseudo_x_.size(0));
  auto x = pseudo_x_.slice(0, pseudo_x_.size(0) - n), y = pseudo_y_.slice(0, pseudo_y_.size(0) - n);
  forget_pseudo();
  return {x, y};
}

}  // namespace etuner::runtime
