#include "etuner/runtime.h"

#include <chrono>
#include <limits>

#include "etuner/error.h"
#include "etuner/tuning.h"

namespace etuner::runtime {
namespace {

std::shared_ptr<model::BlockModel> snapshot(const model::BlockModel& m) {
  std::shared_ptr<model::BlockModel> s = m.clone();
  s->set_training(false);
  return s;
}

tuning::OptimizerConfig optimizer_config(const stream::TrainConfig& t) {
  return {t.optimizer, t.lr, t.momentum, t.weight_decay};
}

}  // namespace

Runtime::Runtime(std::unique_ptr<model::BlockModel> model, policy::Policy policy,
                 RuntimeConfig cfg, std::unique_ptr<meter::Meter> meter)
    : working_(std::move(model)),
      policy_(std::move(policy)),
      cfg_(std::move(cfg)),
      meter_(std::move(meter)),
      replay_(cfg_.train.replay_buffer, cfg_.seed) {
  working_->to(cfg_.device);
  deployed_ = snapshot(*working_);
  optimizer_ = tuning::make_optimizer(*working_, optimizer_config(cfg_.train));
  for (int c : cfg_.known_classes) {
    if (c >= static_cast<int>(seen_class_.size())) seen_class_.resize(c + 1, false);
    seen_class_[c] = true;
  }
}

void Runtime::seed_replay(const torch::Tensor& x, const torch::Tensor& y) {
  replay_.add(x.to(cfg_.device), y.to(cfg_.device));
  if (flops_.unit_forward_flops.empty())
    flops_ = model::profile_flops(*working_, x.slice(0, 0, 1).to(cfg_.device));
}

Prediction Runtime::predict(const torch::Tensor& images) {
  meter_->begin("infer");
  Prediction p;
  {
    torch::NoGradGuard no_grad;
    auto probs = torch::softmax(deployed_->forward(images.to(cfg_.device)), 1);
    auto [conf, label] = probs.max(1);
    p.labels = label.cpu();
    p.confidence = conf.cpu();
  }
  p.version = version_;
  requests_since_round_ += static_cast<int>(images.size(0));
  const auto m = meter_->end("infer");
  totals_.inference_j += m.energy_j;
  totals_.inference_s += m.time_s;
  return p;
}

void Runtime::add_labeled(const torch::Tensor& x, const torch::Tensor& y, double) {
  auto xd = x.to(cfg_.device), yd = y.to(cfg_.device);
  if (flops_.unit_forward_flops.empty())
    flops_ = model::profile_flops(*working_, xd.slice(0, 0, 1));
  if (policy_.scheduler->needs().test_then_train) observe_batch(xd, yd);
  pending_.push_back({xd, yd});
  pending_samples_ += static_cast<int>(x.size(0));
  seen_samples_ += x.size(0);
}

// Test-then-train: how well the deployed model does on data it has not trained on.
void Runtime::observe_batch(const torch::Tensor& x, const torch::Tensor& y) {
  meter_->begin("decide");
  newest_accuracy_ = tuning::evaluate(*deployed_, x, y).accuracy;
  recent_accuracy_ = std::isnan(recent_accuracy_) ? newest_accuracy_
                                                  : 0.7 * recent_accuracy_ + 0.3 * newest_accuracy_;
  auto labels = y.cpu();
  new_classes_ = false;
  for (int64_t i = 0; i < labels.size(0); ++i) {
    const auto c = static_cast<size_t>(labels[i].item<int64_t>());
    if (c >= seen_class_.size()) seen_class_.resize(c + 1, false);
    if (!seen_class_[c]) new_classes_ = true;
    seen_class_[c] = true;
  }
  const auto m = meter_->end("decide");
  totals_.decision_s += m.time_s;
  totals_.finetune_s += m.time_s;
  totals_.finetune_j += m.energy_j;
}

policy::ScheduleSignals Runtime::signals(double now_s, int oracle_scenario) const {
  policy::ScheduleSignals s;
  s.now_s = now_s;
  s.pending_samples = pending_samples_;
  s.pending_batches = static_cast<int>(pending_.size());
  s.oldest_batch_samples = pending_.empty() ? 0 : static_cast<int>(pending_.front().x.size(0));
  s.seen_samples = seen_samples_;
  s.rounds_run = rounds_;
  s.last_round_end_s = last_round_end_s_;
  s.requests_since_round = requests_since_round_;
  s.new_classes = new_classes_;
  s.newest_batch_accuracy = newest_accuracy_;
  s.recent_accuracy = recent_accuracy_;
  s.oracle_scenario = oracle_scenario;
  return s;
}

double Runtime::next_deploy_s() const {
  return next_ ? next_ready_s_ : std::numeric_limits<double>::infinity();
}

void Runtime::deploy_if_ready(double now_s) {
  if (!next_ || now_s < next_ready_s_) return;
  deployed_ = std::move(next_);
  next_.reset();
  ++version_;
}

std::optional<RoundRecord> Runtime::advance(double now_s, int oracle_scenario) {
  deploy_if_ready(now_s);
  if (now_s < busy_until_s_ || pending_.empty()) return std::nullopt;
  const auto decision = policy_.scheduler->decide(signals(now_s, oracle_scenario));
  if (!decision.run && decision.drop_samples <= 0) return std::nullopt;
  if (!decision.run) {
    take_pending(0, decision.drop_samples);
    return std::nullopt;
  }
  auto record = run_round(decision, now_s);
  record.scenario = oracle_scenario;
  deploy_if_ready(now_s);  // instant protocol: the new version serves the next request
  return record;
}

// Oldest first: `drop` samples retire untrained, then `take` (0 = the rest) are trained on.
// Both enter the replay buffer; the trained ones after the round, so a round never replays
// its own fresh samples.
std::pair<torch::Tensor, torch::Tensor> Runtime::take_pending(int take, int drop) {
  std::vector<torch::Tensor> xs, ys;
  int dropped = 0;
  const int want = take > 0 ? take : pending_samples_ - drop;
  int taken = 0;
  while (!pending_.empty() && (dropped < drop || taken < want)) {
    auto b = pending_.front();
    pending_.pop_front();
    pending_samples_ -= static_cast<int>(b.x.size(0));
    if (dropped < drop) {
      dropped += static_cast<int>(b.x.size(0));
      replay_.add(b.x, b.y);
      continue;
    }
    taken += static_cast<int>(b.x.size(0));
    xs.push_back(b.x);
    ys.push_back(b.y);
  }
  if (xs.empty()) return {};
  return {torch::cat(xs), torch::cat(ys)};
}

int Runtime::choose_prefix(int round, int epoch) {
  policy::FreezeSignals s;
  s.num_blocks = working_->num_blocks();
  s.frozen_prefix = frozen_prefix_;
  s.round_start = epoch == 0;
  s.round = round;
  s.epoch = epoch;
  const auto plan = policy_.freezer->decide(s);
  frozen_prefix_ = std::clamp(plan.frozen_prefix, 0, working_->num_blocks());
  return frozen_prefix_;
}

RoundRecord Runtime::run_round(const policy::RoundDecision& d, double now_s) {
  meter_->begin("round");
  auto [fx, fy] = take_pending(d.take_samples, d.drop_samples);
  const int replay_n = d.replay_samples >= 0 ? d.replay_samples : cfg_.train.replay_samples;
  auto [rx, ry] = replay_.sample(replay_n);
  auto x = rx.defined() ? torch::cat({fx, rx}) : fx;
  auto y = ry.defined() ? torch::cat({fy, ry}) : fy;

  tuning::RoundConfig rc;
  rc.epochs = d.epochs > 0 ? d.epochs : cfg_.train.epochs_per_round;
  rc.batch_size = cfg_.train.batch_size;
  rc.cache_mb = cfg_.cache_mb;
  rc.seed = cfg_.seed * 7919 + rounds_;
  const int round = rounds_;
  auto result = tuning::run_round(*working_, *optimizer_, x, y, rc, flops_,
                                  [&](int epoch) { return choose_prefix(round, epoch); });
  if (result.finite) replay_.add(fx, fy);  // samples that broke a round are quarantined

  RoundRecord r;
  r.round = rounds_++;
  r.start_s = now_s;
  r.fresh_samples = static_cast<int>(fx.size(0));
  r.replay_samples = rx.defined() ? static_cast<int>(rx.size(0)) : 0;
  r.samples = result.samples;
  r.steps = result.steps;
  r.epochs = rc.epochs;
  r.frozen_prefix = result.frozen_prefix;
  r.frozen_mask = std::string(result.frozen_prefix, '1') +
                  std::string(working_->num_blocks() - result.frozen_prefix, '0');
  r.train_flops = result.train_flops;
  r.loss = result.loss;
  r.reason = d.reason;
  r.discarded = !result.finite;
  if (r.discarded) {
    working_->copy_from(*deployed_);  // the last good version
    optimizer_ = tuning::make_optimizer(*working_, optimizer_config(cfg_.train));
  } else {
    if (!cfg_.checkpoint_dir.empty())
      tuning::save_checkpoint(cfg_.checkpoint_dir, *working_, *optimizer_);
    next_ = snapshot(*working_);
  }
  r.modeled_s = cfg_.profile.round_seconds(r.steps, r.train_flops);
  const double duration = cfg_.mode == "realtime" ? r.modeled_s : 0.0;
  r.end_s = now_s + duration;
  next_ready_s_ = r.end_s;
  busy_until_s_ = r.end_s;
  last_round_end_s_ = r.end_s;
  requests_since_round_ = 0;
  const auto m = meter_->end("round");
  r.wall_s = m.time_s;
  r.energy_j = m.energy_j;
  totals_.finetune_s += m.time_s;
  totals_.finetune_j += m.energy_j;
  totals_.modeled_s += r.modeled_s;
  totals_.rounds += 1;
  totals_.samples_trained += r.samples;
  totals_.train_flops += r.train_flops;
  return r;
}

}  // namespace etuner::runtime
