// Micro-profiling (trials.h): each candidate
// configuration trains a copy of the working model briefly, on `data_fraction` of the round's
// fresh and replayed samples, and is scored on pending samples held out from every trial.
// The trials are decision overhead ("decide" window: decision and fine-tuning seconds and
// joules) and their FLOPs count as training work; the published model never sees them.
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "runtime/trials.h"

#include "etuner/tuning.h"

namespace etuner::runtime {
namespace {

constexpr double kHoldout = 0.25;  // share of the pending samples that scores the trials

struct TrialData {
  torch::Tensor tx, ty;  // pending samples the trials may train on
  torch::Tensor hx, hy;  // held out: the score
  int64_t pending = 0;
};

double accuracy(model::BlockModel& m, const torch::Tensor& x, const torch::Tensor& y) {
  m.set_training(false);
  return tuning::evaluate(m, x, y).accuracy;
}

// A seeded split of the pending samples: at least one held out, the rest trainable.
TrialData split_pending(const std::vector<torch::Tensor>& xs, const std::vector<torch::Tensor>& ys,
                        uint64_t seed) {
  auto x = torch::cat(xs), y = torch::cat(ys);
  TrialData d;
  d.pending = x.size(0);
  const int64_t held =
      std::min(std::max<int64_t>(std::llround(d.pending * kHoldout), 1), d.pending);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto order = torch::randperm(d.pending, gen, torch::kLong).to(x.device());
  d.hx = x.index_select(0, order.slice(0, 0, held));
  d.hy = y.index_select(0, order.slice(0, 0, held));
  d.tx = x.index_select(0, order.slice(0, held));
  d.ty = y.index_select(0, order.slice(0, held));
  return d;
}

// The candidate resolved against the stream's settings, with the full round's cost.
policy::ProfileResult resolve(const policy::ProfileCandidate& c, const tuning::TrainConfig& t,
                              int64_t pending) {
  policy::ProfileResult r;
  r.candidate = c;
  r.epochs = c.epochs > 0 ? c.epochs : t.epochs_per_round;
  r.replay_samples = static_cast<int>(
      std::clamp<double>(std::llround(c.replay_fraction * t.replay_samples), 0, t.replay_samples));
  r.cost_samples = static_cast<double>(r.epochs) * static_cast<double>(pending + r.replay_samples);
  return r;
}

}  // namespace

std::vector<policy::ProfileResult> run_trials(
    const std::vector<policy::ProfileCandidate>& candidates, const TrialInputs& in,
    Ledger& ledger) {
  ledger.begin_decide();
  std::vector<torch::Tensor> xs, ys;
  for (const auto& b : in.pending.all()) {
    xs.push_back(b.x);
    ys.push_back(b.y);
  }
  const auto d = split_pending(xs, ys, in.seed * 104729 + in.round);
  auto base = in.working.clone();
  const double before = accuracy(*base, d.hx, d.hy);  // a copy: the working model's modes stay
  std::vector<policy::ProfileResult> out;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = resolve(candidates[i], in.train, d.pending);
    const double frac = std::clamp(candidates[i].data_fraction, 0.0, 1.0);
    const auto nf = std::min(std::max<int64_t>(std::llround(frac * d.tx.size(0)), 1), d.tx.size(0));
    auto x = d.tx.slice(0, 0, nf), y = d.ty.slice(0, 0, nf);
    auto [rx, ry] = in.replay.sample(static_cast<int>(std::llround(frac * r.replay_samples)));
    if (rx.defined()) {
      x = torch::cat({x, rx});
      y = torch::cat({y, ry});
    }
    auto m = in.working.clone();
    auto opt = tuning::make_optimizer(*m, tuning::OptimizerConfig::from(in.train));
    tuning::RoundConfig rc;
    rc.epochs = r.epochs;
    rc.batch_size = in.train.batch_size;
    rc.cache_mb = 0;  // every block trains: nothing to cache
    rc.seed = in.seed * 6007 + in.round * 31 + i;
    const auto res = tuning::run_round(*m, *opt, x, y, rc, ledger.flops(), nullptr);
    r.gain = res.finite ? accuracy(*m, d.hx, d.hy) - before : policy::kUnknown;
    ledger.count_trial(res.steps, res.train_flops);
    r.trial_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.push_back(r);
  }
  ledger.end_decide();
  return out;
}

}  // namespace etuner::runtime
