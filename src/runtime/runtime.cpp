// The composer, part one: requests, labeled batches and the scheduler's decision. Each step
// hands values between parts (impl.h); no part's state is changed here.
#include "etuner/runtime.h"

#include "runtime/impl.h"
#include "runtime/trials.h"

namespace etuner::runtime {

Runtime::Impl::Impl(std::unique_ptr<model::BlockModel> model, policy::Policy policy,
                    RuntimeConfig cfg, std::unique_ptr<meter::Meter> meter)
    : cfg_(std::move(cfg)),
      policy_(std::move(policy)),
      needs_(policy_.scheduler->needs()),
      detect_(policy_.needs_change_detector()),
      working_((model->to(cfg_.device), std::move(model))),
      optimizer_(tuning::make_optimizer(*working_, tuning::OptimizerConfig::from(cfg_.train))),
      ledger_(std::move(meter), cfg_.profile, cfg_.device),
      publisher_(*working_),
      replay_(cfg_.train.replay_buffer, cfg_.seed,
              cfg_.train.replay_policy == tuning::ReplayPolicy::kClassBalanced),
      signals_(cfg_.known_classes, ledger_, needs_.answer_confidence),
      freeze_probe_(ledger_, cfg_.verify_cache, policy_.freezer->needs().probe_samples),
      peer_probe_(ledger_, policy_.freezer->needs()),
      adapter_(policy_.adapt, publisher_.deployed(), ledger_) {
  if (cfg_.cache_mb > 0) prefix_cache_ = tuning::new_activation_cache(cfg_.cache_mb);
  if (needs_.shelf_versions > 0)
    shelf_ =
        std::make_unique<VersionShelf>(needs_.shelf_versions, signals_.monitor().z_threshold());
}

// Requests are answered in order; with label-free adaptation on, in chunks, each answered
// before its inputs adapt the serving copy (causal: an answer depends only on earlier inputs).
Prediction Runtime::Impl::predict(const torch::Tensor& images) {
  Prediction p;
  std::vector<torch::Tensor> labels, conf;
  for (int64_t i = 0, n; i < images.size(0); i += n) {
    n = adapter_.chunk(images.size(0));
    Prediction part;
    answer_chunk(images.slice(0, i, std::min(i + n, images.size(0))), part);
    labels.push_back(part.labels);
    conf.push_back(part.confidence);
  }
  p.labels = labels.empty() ? torch::empty({0}, torch::kLong) : torch::cat(labels);
  p.confidence = conf.empty() ? torch::empty({0}) : torch::cat(conf);
  p.version = publisher_.version();
  p.lag_samples = pending_.seen() - publisher_.deployed_consumed();
  signals_.on_answered(p);
  return p;
}

void Runtime::Impl::answer_chunk(const torch::Tensor& images, Prediction& p) {
  ledger_.begin_infer();
  auto x = images.to(cfg_.device);
  ledger_.profile_once(*working_, x);
  ledger_.count_answer_pass(x.size(0));
  {
    torch::NoGradGuard no_grad;
    auto probs = torch::softmax(adapter_.answer(x), 1);
    auto [c, label] = probs.max(1);
    p.labels = label.cpu();
    p.confidence = c.cpu();
  }
  ledger_.end_infer();
  if (!detect_ && !adapter_.active()) return;
  ledger_.begin_decide();
  if (detect_) signals_.observe_requests(x);
  adapter_.after_answer(x, p, signals_.gaps_since_change());
  ledger_.end_adapt();
}

int64_t Runtime::Impl::add_labeled(const torch::Tensor& x, const torch::Tensor& y) {
  auto xd = x.to(cfg_.device), yd = y.to(cfg_.device);
  ledger_.profile_once(*working_, xd);
  const bool ttt = needs_.test_then_train;
  double acc = policy::kUnknown;  // from rounds: scored when a round trains on the batch
  if (ttt && !needs_.test_then_train_from_rounds)
    acc = signals_.observe_batch(adapter_.serving(), xd, yd, publisher_.version());
  if (ttt || detect_) signals_.note_classes(yd);
  signals_.close_answer_gap();
  if (detect_ && signals_.detect_change()) {  // the old scenario's probes and answers go
    freeze_probe_.reset();
    adapter_.forget_pseudo();
    shelve_on_change(xd, yd);
  }
  const int64_t first_id = pending_.new_ids(x.size(0));
  pending_.add({xd, yd, acc, first_id});
  return first_id;
}

policy::ScheduleSignals Runtime::Impl::schedule_signals(double now_s) const {
  policy::ScheduleSignals s;
  s.now_s = now_s;
  s.pending_samples = pending_.samples();
  s.pending_batches = pending_.batches();
  s.oldest_batch_samples = pending_.oldest_batch_samples();
  s.seen_samples = pending_.seen();
  signals_.fill(s);
  s.oracle_scenario = true_scenario_ ? true_scenario_() : -1;
  return s;
}

// The scheduler's decision; if it asks for trials first, it is asked again with their results
// (one profiling pass per decision).
policy::RoundDecision Runtime::Impl::decide(double now_s) {
  auto d = policy_.scheduler->decide(schedule_signals(now_s));
  if (d.profile.empty()) return d;
  auto s = schedule_signals(now_s);
  const TrialInputs in{pending_, *working_, replay_, cfg_.train, cfg_.seed, signals_.rounds()};
  s.profile = run_trials(d.profile, in, ledger_);
  auto again = policy_.scheduler->decide(s);
  again.profile.clear();
  return again;
}

void Runtime::Impl::deploy_if_ready(double now_s) {
  if (publisher_.deploy_if_ready(now_s))
    adapter_.refresh(publisher_.deployed(), freeze_probe_.round_min_prefix());
}

// Retired samples are not trained on, but they were seen: they enter the replay buffer.
void Runtime::Impl::retire(std::vector<PendingBatch> batches) {
  for (auto& b : batches) replay_.add(b.x, b.y, b.first_id);
}

// A change of the requests: the answering version is shelved for the scenario that ended, and
// a shelved version of the scenario just begun waits for the scheduler's recall if it labels
// the batch that arrived with the change better than the answering version does (one
// forward each: a version shelved long ago missed everything learned since, and a
// signature can match a scenario it never served). A change from labels alone leaves
// nothing to recall: its requests look the same.
void Runtime::Impl::shelve_on_change(const torch::Tensor& x, const torch::Tensor& y) {
  recall_.reset();
  if (!shelf_ || !signals_.requests_changed()) return;
  const auto& monitor = signals_.monitor();
  auto candidate = shelf_->match(monitor.began());
  shelf_->shelve(monitor.ended(), *adapter_.serving_model());
  ledger_.note_shelf_bytes(shelf_->bytes());
  if (!candidate) return;
  ledger_.begin_decide();
  const double shelved = tuning::evaluate(*candidate, x, y).accuracy;
  const double answering = tuning::evaluate(adapter_.serving(), x, y).accuracy;
  ledger_.count_decision_pass(Ledger::Decision::kTestThenTrain, 2 * x.size(0));
  ledger_.end_decide();
  if (shelved > answering) recall_ = std::move(candidate);
}

// Under realtime, the passes outside rounds since the last call (answers, decisions,
// adaptation, trials) hold the device for their modeled seconds. They are placed as early as
// the device was free after that call, so a pass run while the device idled delays nothing,
// and passes run during a round push the next round back. (A real device would interleave
// them with the round and so deploy its version later; the device time is the same.)
void Runtime::Impl::hold_device() {
  const double held = ledger_.take_held_s();
  if (cfg_.protocol == Protocol::kRealtime && held > 0)
    busy_until_s_ = std::max(busy_until_s_, last_advance_s_) + held;
}

std::optional<RoundRecord> Runtime::Impl::advance(double now_s) {
  deploy_if_ready(now_s);
  hold_device();
  last_advance_s_ = now_s;
  if (now_s < busy_until_s_ || pending_.empty()) return std::nullopt;
  const auto decision = decide(now_s);
  if (!decision.run) {
    if (decision.drop_samples > 0) retire(pending_.retire_oldest(decision.drop_samples));
    return std::nullopt;
  }
  auto record = run_round(decision, now_s);
  deploy_if_ready(now_s);  // instant protocol: the new version serves the next request
  return record;
}

// The public verbs.

Runtime::Runtime(std::unique_ptr<model::BlockModel> model, policy::Policy policy, RuntimeConfig cfg,
                 std::unique_ptr<meter::Meter> meter)
    : impl_(std::make_unique<Impl>(std::move(model), std::move(policy), std::move(cfg),
                                   std::move(meter))) {}
Runtime::~Runtime() = default;
Runtime::Runtime(Runtime&&) noexcept = default;
Runtime& Runtime::operator=(Runtime&&) noexcept = default;

void Runtime::seed_replay(const torch::Tensor& x, const torch::Tensor& y) {
  auto xd = x.to(impl_->cfg_.device);
  impl_->replay_.add(xd, y.to(impl_->cfg_.device), impl_->pending_.new_ids(x.size(0)));
  impl_->ledger_.profile_once(*impl_->working_, xd);
  impl_->adapter_.calibrate(xd);  // eata's Fisher weights: pretraining samples are in-distribution
}

void Runtime::set_true_scenario(TrueScenario source) { impl_->true_scenario_ = std::move(source); }
Prediction Runtime::predict(const torch::Tensor& images) { return impl_->predict(images); }
int64_t Runtime::add_labeled(const torch::Tensor& x, const torch::Tensor& y, double) {
  return impl_->add_labeled(x, y);
}
std::optional<RoundRecord> Runtime::advance(double now_s) { return impl_->advance(now_s); }
Consumed Runtime::take_consumed() { return impl_->pending_.take_consumed(); }
int Runtime::version() const { return impl_->publisher_.version(); }
std::shared_ptr<const model::BlockModel> Runtime::deployed() const {
  return impl_->publisher_.deployed();
}
std::shared_ptr<const model::BlockModel> Runtime::answering() const {
  return impl_->adapter_.serving_model();
}
double Runtime::next_deploy_s() const { return impl_->publisher_.next_deploy_s(); }
const Totals& Runtime::totals() const { return impl_->ledger_.totals(); }
const policy::Policy& Runtime::policy() const { return impl_->policy_; }
int Runtime::num_blocks() const { return impl_->working_->num_blocks(); }
std::string Runtime::energy_source() const { return impl_->ledger_.source(); }

}  // namespace etuner::runtime
