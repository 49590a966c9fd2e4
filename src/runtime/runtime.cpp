#include "etuner/runtime.h"

#include <chrono>
#include <limits>
#include <numeric>

#include "etuner/error.h"
#include "etuner/tuning.h"
#include "tuning/activation_cache.h"

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

Runtime::Runtime(std::unique_ptr<model::BlockModel> model, policy::Policy policy, RuntimeConfig cfg,
                 std::unique_ptr<meter::Meter> meter)
    : working_(std::move(model)),
      policy_(std::move(policy)),
      cfg_(std::move(cfg)),
      meter_(std::move(meter)),
      replay_(cfg_.train.replay_buffer, cfg_.seed, cfg_.train.replay_policy == "class_balanced") {
  working_->to(cfg_.device);
  deployed_ = snapshot(*working_);
  serving_ = deployed_;
  optimizer_ = new_optimizer(*working_);
  if (cfg_.cache_mb > 0) prefix_cache_ = std::make_shared<tuning::ActivationCache>(cfg_.cache_mb);
  for (int c : cfg_.known_classes) {
    if (c >= static_cast<int>(seen_class_.size())) seen_class_.resize(c + 1, false);
    seen_class_[c] = true;
  }
}

std::unique_ptr<torch::optim::Optimizer> Runtime::new_optimizer(model::BlockModel& m) const {
  return tuning::make_optimizer(m, optimizer_config(cfg_.train));
}

void Runtime::sync_device() const {
  if (cfg_.device.is_cuda()) torch::cuda::synchronize();
}

void Runtime::seed_replay(const torch::Tensor& x, const torch::Tensor& y) {
  auto xd = x.to(cfg_.device);
  replay_.add(xd, y.to(cfg_.device), new_ids(x.size(0)));
  profile_once(xd);
}

// FLOPs per unit and sample, from the first input of any kind (a seed, a labeled batch or a
// request): every pass is counted from then on.
void Runtime::profile_once(const torch::Tensor& x) {
  if (flops_.unit_forward_flops.empty()) flops_ = model::profile_flops(*working_, x.slice(0, 0, 1));
}

// Requests are answered in order; with label-free adaptation on, in chunks, each answered
// before its inputs adapt the serving copy (causal: an answer depends only on earlier inputs).
// A chunk ends where an adaptation step is due: after `bn_chunk` answered requests, counted
// across calls, so a step never reads the statistics of a call's last two or three inputs.
Prediction Runtime::predict(const torch::Tensor& images) {
  const bool adapt = policy_.adapt.bn_adapt || policy_.adapt.pseudo_labels;
  const int64_t step = policy_.adapt.bn_chunk;
  Prediction p;
  std::vector<torch::Tensor> labels, conf;
  for (int64_t i = 0, n; i < images.size(0); i += n) {
    const int64_t waiting = bn_waiting_.defined() ? bn_waiting_.size(0) : 0;
    n = adapt ? std::max<int64_t>(1, step - waiting) : images.size(0);
    Prediction part;
    run_request_chunk(images.slice(0, i, std::min(i + n, images.size(0))), part);
    labels.push_back(part.labels);
    conf.push_back(part.confidence);
  }
  p.labels = labels.empty() ? torch::empty({0}, torch::kLong) : torch::cat(labels);
  p.confidence = conf.empty() ? torch::empty({0}) : torch::cat(conf);
  p.version = version_;
  p.lag_samples = seen_samples_ - serving_consumed_;
  requests_since_round_ += static_cast<int>(images.size(0));
  return p;
}

void Runtime::run_request_chunk(const torch::Tensor& images, Prediction& p) {
  meter_->begin("infer");
  auto x = images.to(cfg_.device);
  {
    torch::NoGradGuard no_grad;
    auto probs = torch::softmax(serving_->forward(x), 1);
    auto [c, label] = probs.max(1);
    p.labels = label.cpu();
    p.confidence = c.cpu();
  }
  const auto m = meter_->end("infer");
  totals_.inference_j += m.energy_j;
  totals_.inference_s += m.time_s;
  adapt_from_requests(x, p);
}

void Runtime::add_labeled(const torch::Tensor& x, const torch::Tensor& y, double) {
  auto xd = x.to(cfg_.device), yd = y.to(cfg_.device);
  profile_once(xd);
  double acc = policy::kUnknown;
  const bool ttt = policy_.scheduler->needs().test_then_train;
  const bool detect = policy_.needs_change_detector();
  if (ttt) acc = observe_batch(xd, yd);
  if (ttt || detect) note_classes(yd);
  if (detect) detect_change();
  pending_.push_back({xd, yd, acc, new_ids(x.size(0))});
  pending_samples_ += static_cast<int>(x.size(0));
  seen_samples_ += x.size(0);
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
  s.label_space_grew = label_space_grew_;
  s.newest_batch_accuracy = newest_accuracy_;
  s.recent_accuracy = recent_accuracy_;
  s.drift = drift_sched_;
  s.last_round_gain = last_gain_;
  s.last_round_gain_se = last_gain_se_;
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
  serving_consumed_ = next_consumed_;
  refresh_serving();
}

std::optional<RoundRecord> Runtime::advance(double now_s, int oracle_scenario) {
  deploy_if_ready(now_s);
  if (now_s < busy_until_s_ || pending_.empty()) return std::nullopt;
  auto decision = policy_.scheduler->decide(signals(now_s, oracle_scenario));
  if (!decision.profile.empty()) decision = profile_then_decide(decision, now_s, oracle_scenario);
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

int64_t Runtime::new_ids(int64_t n) {
  const int64_t first = next_id_;
  next_id_ += n;
  return first;
}

// Oldest first: `drop` samples retire untrained, then `take` (0 = the rest) are trained on.
// Both enter the replay buffer; the trained ones after the round, so a round never replays
// its own fresh samples. Batches arrive with consecutive ids, so the taken ones are a range.
std::pair<torch::Tensor, torch::Tensor> Runtime::take_pending(int take, int drop,
                                                              int64_t* first_id) {
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
      replay_.add(b.x, b.y, b.first_id);
      continue;
    }
    if (xs.empty() && first_id) *first_id = b.first_id;
    taken += static_cast<int>(b.x.size(0));
    xs.push_back(b.x);
    ys.push_back(b.y);
  }
  if (xs.empty()) return {};
  return {torch::cat(xs), torch::cat(ys)};
}

RoundRecord Runtime::run_round(const policy::RoundDecision& d, double now_s) {
  meter_->begin("round");
  const auto [before_acc, before_n] = pending_accuracy(d.take_samples, d.drop_samples);
  int64_t fresh_id = -1;
  auto [fx, fy] = take_pending(d.take_samples, d.drop_samples, &fresh_id);
  round_fresh_ = fx;
  std::vector<int64_t> ids(fx.defined() ? fx.size(0) : 0);
  std::iota(ids.begin(), ids.end(), fresh_id);
  auto [px, py] = pseudo_batch(fx.defined() ? static_cast<int>(fx.size(0)) / 2 : 0);
  if (px.defined()) {
    totals_.pseudo_labeled += px.size(0);
    fx = torch::cat({fx, px});
    fy = torch::cat({fy, py});
    ids.resize(ids.size() + px.size(0));
    std::iota(ids.end() - px.size(0), ids.end(), new_ids(px.size(0)));
  }
  // A scheduler may replay fewer samples than the stream's setting, never more.
  const int replay_n = d.replay_samples >= 0 ? std::min(d.replay_samples, cfg_.train.replay_samples)
                                             : cfg_.train.replay_samples;
  std::vector<int64_t> replay_ids;
  auto [rx, ry] = replay_.sample(replay_n, &replay_ids);
  ids.insert(ids.end(), replay_ids.begin(), replay_ids.end());
  auto x = rx.defined() ? torch::cat({fx, rx}) : fx;
  auto y = ry.defined() ? torch::cat({fy, ry}) : fy;

  tuning::RoundConfig rc;
  rc.epochs = d.epochs > 0 ? d.epochs : cfg_.train.epochs_per_round;
  rc.batch_size = cfg_.train.batch_size;
  rc.cache_mb = cfg_.cache_mb;
  rc.cache = prefix_cache_.get();
  rc.row_ids = &ids;
  rc.verify_cache = cfg_.verify_cache;
  rc.seed = cfg_.seed * 7919 + rounds_;
  rc.after_backward = grad_observer();
  const int round = rounds_;
  auto result = tuning::run_round(*working_, *optimizer_, x, y, rc, flops_,
                                  [&](int epoch) { return choose_prefix(round, epoch); });
  if (result.finite)  // samples that broke a round are quarantined
    replay_.add(round_fresh_, fy.slice(0, 0, round_fresh_.size(0)), fresh_id);

  RoundRecord r;
  r.round = rounds_++;
  r.start_s = now_s;
  r.fresh_samples = static_cast<int>(round_fresh_.size(0));
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
  r.cache_hits = result.cache_hits;
  if (r.discarded) {
    working_->copy_from(*deployed_);            // the last good version
    if (prefix_cache_) prefix_cache_->reset();  // cached outputs of the discarded weights
    probe_prefix_ = torch::Tensor();
    optimizer_ = new_optimizer(*working_);
  } else {
    if (!cfg_.checkpoint_dir.empty())
      tuning::save_checkpoint(cfg_.checkpoint_dir, *working_, *optimizer_);
    next_ = snapshot(*working_);
    next_consumed_ = seen_samples_ - pending_samples_;
  }
  r.modeled_s = cfg_.profile.round_seconds(r.steps, r.train_flops);
  const double duration = cfg_.mode == "realtime" ? r.modeled_s : 0.0;
  r.end_s = now_s + duration;
  next_ready_s_ = r.end_s;
  busy_until_s_ = r.end_s;
  last_round_end_s_ = r.end_s;
  requests_since_round_ = 0;
  drift_sched_ = false;
  round_before_acc_ = before_acc;
  round_before_n_ = before_n;
  gain_open_ = !r.discarded;
  gain_version_ = version_ + 1;
  round_fresh_ = torch::Tensor();
  sync_device();
  const auto m = meter_->end("round");
  r.wall_s = m.time_s;
  r.energy_j = m.energy_j;
  totals_.finetune_s += m.time_s;
  totals_.finetune_j += m.energy_j;
  totals_.modeled_s += r.modeled_s;
  totals_.rounds += 1;
  totals_.samples_trained += r.samples;
  totals_.cache_hits += r.cache_hits;
  steps_trained_ += r.steps;
  totals_.train_flops += r.train_flops;
  return r;
}

}  // namespace etuner::runtime
