// The composer, part two: a round from the scheduler's decision to a staged version. The
// freezer is asked at every epoch start (choose_prefix); the round's fate (published or
// discarded) goes to the parts that keep its consequences.
#include <numeric>

#include "runtime/impl.h"

namespace etuner::runtime {
namespace {

void append_ids(std::vector<int64_t>& ids, int64_t first, int64_t n) {
  const size_t at = ids.size();
  ids.resize(at + n);
  std::iota(ids.begin() + at, ids.end(), first);
}

}  // namespace

// The shelved version becomes the working model and answers at once (it answered this
// scenario before, statistics included). A copy, no FLOPs.
bool Runtime::Impl::recall_version() {
  if (!recall_) return false;
  reset_working_to(*recall_);
  recall_.reset();
  publisher_.deploy(*working_, pending_.consumed());
  adapter_.restore(publisher_.deployed());
  ledger_.count_recall();
  return true;
}

// The working model becomes `version`: the optimizer state and the cached prefix outputs
// were the old weights'.
void Runtime::Impl::reset_working_to(model::BlockModel& version) {
  working_->copy_from(version);
  optimizer_ = tuning::make_optimizer(*working_, tuning::OptimizerConfig::from(cfg_.train));
  if (prefix_cache_) tuning::forget_all(*prefix_cache_);
  freeze_probe_.forget_prefix_output();
}

RoundRecord Runtime::Impl::run_round(const policy::RoundDecision& d, double now_s) {
  const bool recalled = d.recall && recall_version();
  ledger_.begin_round();
  // Test-then-train accuracy of the round's samples: measured as they arrived, or now.
  auto before = pending_.accuracy_of(d.take_samples, d.drop_samples);
  RoundData data = gather(d);
  RoundRecord r;
  r.round = signals_.rounds();
  r.start_s = now_s;
  r.scenario = true_scenario_ ? true_scenario_() : -1;
  r.epochs = d.epochs > 0 ? d.epochs : cfg_.train.epochs_per_round;
  r.reason = recalled ? d.reason + ", recalled a shelved version" : d.reason;
  const auto result = train(data, d);
  if (result.first_epoch_hits.defined() && result.finite)
    before = signals_.observe_round_scores(result.first_epoch_hits, data.fresh_batch_rows);
  r.fresh_samples = data.fresh_x.defined() ? static_cast<int>(data.fresh_x.size(0)) : 0;
  r.replay_samples = data.replayed;
  r.samples = result.samples;
  r.steps = result.steps;
  r.frozen_prefix = result.frozen_prefix;
  r.frozen_mask = std::string(result.frozen_prefix, '1') +
                  std::string(working_->num_blocks() - result.frozen_prefix, '0');
  r.train_flops = result.train_flops;
  r.loss = result.loss;
  r.discarded = !result.finite;
  r.cache_hits = result.cache_hits;
  r.freeze_reason = last_freeze_reason_;
  finish(r, data, now_s);
  signals_.on_round(r.end_s, before.first, before.second, !r.discarded, publisher_.version() + 1);
  freeze_probe_.add_steps(r.steps);
  ledger_.end_round(r);
  return r;
}

// Fresh samples (oldest first, after the retired ones), confident pseudo-labels (up to half
// as many), then replayed samples: a scheduler may replay fewer than the stream's setting,
// never more.
RoundData Runtime::Impl::gather(const policy::RoundDecision& d) {
  auto taken = pending_.take(d.take_samples, d.drop_samples);
  retire(std::move(taken.retired));
  RoundData data;
  data.fresh_x = data.x = taken.x;
  data.fresh_y = data.y = taken.y;
  data.fresh_first_id = taken.first_id;
  data.fresh_batch_rows = std::move(taken.batch_rows);
  const int64_t fresh = taken.x.defined() ? taken.x.size(0) : 0;
  append_ids(data.ids, taken.first_id, fresh);
  auto [px, py] = adapter_.pseudo_batch(static_cast<int>(fresh) / 2);
  if (px.defined()) {
    ledger_.count_pseudo_labeled(px.size(0));
    data.x = torch::cat({data.x, px});
    data.y = torch::cat({data.y, py});
    append_ids(data.ids, pending_.new_ids(px.size(0)), px.size(0));
  }
  const int replay_n = d.replay_samples >= 0 ? std::min(d.replay_samples, cfg_.train.replay_samples)
                                             : cfg_.train.replay_samples;
  std::vector<int64_t> replay_ids;
  auto [rx, ry] = replay_.sample(replay_n, &replay_ids);
  data.ids.insert(data.ids.end(), replay_ids.begin(), replay_ids.end());
  if (rx.defined()) {
    data.replayed = static_cast<int>(rx.size(0));
    data.x = torch::cat({data.x, rx});
    data.y = torch::cat({data.y, ry});
  }
  return data;
}

tuning::RoundResult Runtime::Impl::train(RoundData& data, const policy::RoundDecision& d) {
  tuning::RoundConfig rc;
  rc.epochs = d.epochs > 0 ? d.epochs : cfg_.train.epochs_per_round;
  rc.batch_size = cfg_.train.batch_size;
  rc.cache_mb = cfg_.cache_mb;
  rc.cache = prefix_cache_.get();
  rc.row_ids = &data.ids;
  rc.verify_cache = cfg_.verify_cache;
  const int round = signals_.rounds();
  rc.seed = cfg_.seed * 7919 + round;
  rc.after_backward = peer_probe_.grad_observer();
  if (needs_.test_then_train_from_rounds)
    rc.scored_rows = data.fresh_x.defined() ? data.fresh_x.size(0) : 0;
  return tuning::run_round(
      *working_, *optimizer_, data.x, data.y, rc, ledger_.flops(),
      [&](int epoch) { return choose_prefix(round, epoch, data.fresh_x, d.learning_new_classes); });
}

// Every epoch start: the freezer's check, with the measurements it asked for.
int Runtime::Impl::choose_prefix(int round, int epoch, const torch::Tensor& fresh,
                                 bool learning_new_classes) {
  policy::FreezeSignals s;
  s.round_start = epoch == 0;
  s.round = round;
  s.epoch = epoch;
  const auto flags = signals_.take_freeze_flags();
  s.drift = flags.drift;
  s.new_classes = flags.new_classes;
  s.learning_new_classes = learning_new_classes;
  freeze_probe_.before_check(*working_, fresh, s);
  peer_probe_.before_check(*working_, fresh, freeze_probe_.frozen_prefix(), s);
  const auto plan = policy_.freezer->decide(s);
  last_freeze_reason_ = plan.reason;
  return freeze_probe_.apply(plan, *working_, fresh, s);
}

// A finite round's version is staged (checkpointed first, if asked) and its fresh samples
// enter the replay buffer; samples that broke a round are quarantined and the working model
// goes back to the last good version.
void Runtime::Impl::finish(RoundRecord& r, const RoundData& data, double now_s) {
  pending_.record_trained(data.fresh_first_id, r.fresh_samples, r.discarded);
  r.modeled_s = cfg_.profile.round_seconds(r.steps, r.train_flops);
  r.end_s = now_s + (cfg_.protocol == Protocol::kRealtime ? r.modeled_s : 0.0);
  busy_until_s_ = r.end_s;
  if (r.discarded) {
    reset_working_to(*publisher_.deployed());
    return;
  }
  replay_.add(data.fresh_x, data.fresh_y, data.fresh_first_id);
  if (!cfg_.checkpoint_dir.empty())
    tuning::save_checkpoint(cfg_.checkpoint_dir, *working_, *optimizer_);
  publisher_.stage(*working_, r.end_s, pending_.consumed());
}

}  // namespace etuner::runtime
