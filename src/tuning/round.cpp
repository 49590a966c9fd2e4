// The round loop: epochs of minibatch SGD over the round's samples, with the frozen prefix
// chosen at every epoch start and its activations served from the cache (the caller's, which
// may hold replayed samples from earlier rounds, or one of the round's own).
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <numeric>
#include <optional>

#include "etuner/error.h"
#include "etuner/tuning.h"
#include "tuning/activation_cache.h"

namespace etuner::tuning {
namespace {

struct Loop {
  model::BlockModel& m;
  torch::optim::Optimizer& opt;
  const torch::Tensor& x;
  const torch::Tensor& y;
  const RoundConfig& cfg;
  const model::FlopsProfile& flops;
  ActivationCache* cache;           // null: no cache
  const std::vector<int64_t>& ids;  // per row of x, the sample id the cache knows it by
  RoundResult result;
  int prefix = -1;
  bool scoring = false;  // the first epoch, when the caller asked for scores

  // The reference path: the frozen prefix recomputed without gradients.
  torch::Tensor recompute(const torch::Tensor& rows) {
    torch::NoGradGuard no_grad;
    return m.forward_range(0, prefix, x.index_select(0, rows.to(x.device())));
  }

  torch::Tensor prefix_out(const torch::Tensor& rows) {
    auto compute = [&](const torch::Tensor& r) {
      result.train_flops += flops.range(0, prefix) * r.numel();
      return recompute(r);
    };
    if (prefix == 0) return x.index_select(0, rows.to(x.device()));
    if (!cache) return compute(rows);
    const auto r = rows.to(torch::kCPU, torch::kLong).contiguous();
    const int64_t* row = r.data_ptr<int64_t>();
    std::vector<int64_t> row_ids(r.numel());
    for (int64_t i = 0; i < r.numel(); ++i) row_ids[i] = ids[row[i]];
    auto out = cache->get(
        row_ids, [&](const torch::Tensor& pos) { return compute(rows.index_select(0, pos)); });
    if (cfg.verify_cache && !torch::equal(out, recompute(rows)))
      throw Error("activation cache: cached prefix output differs from recomputed");
    return out;
  }

  // The step's own forward scores its scored rows: test-then-train without a pass.
  void score(const torch::Tensor& rows, const torch::Tensor& logits, const torch::Tensor& labels) {
    torch::NoGradGuard no_grad;
    const auto r = rows.to(logits.device());
    const auto pick = r.lt(cfg.scored_rows).nonzero().squeeze(1);
    if (pick.numel() == 0) return;
    result.first_epoch_hits.index_put_(
        {r.index_select(0, pick)},
        logits.index_select(0, pick).argmax(1).eq(labels.index_select(0, pick)));
  }

  double step(const torch::Tensor& rows) {
    auto h = prefix_out(rows);
    auto logits = m.forward_range(prefix, m.num_units(), h);
    const auto labels = y.index_select(0, rows.to(y.device()));
    if (scoring) score(rows, logits, labels);
    auto loss = torch::nn::functional::cross_entropy(logits, labels);
    opt.zero_grad();
    loss.backward();
    if (cfg.after_backward) cfg.after_backward(m);
    opt.step();
    result.train_flops += 3 * flops.range(prefix, m.num_units()) * rows.numel();
    result.samples += rows.numel();
    result.steps += 1;
    return loss.item<double>();
  }

  void set_prefix(int p) {
    p = std::clamp(p, 0, m.num_blocks());
    if (p == prefix) return;
    prefix = p;
    apply_plan(m, policy::FreezePlan::at(p));
    if (cache) cache->use_prefix(p);
  }

  bool epoch(int e) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(cfg.seed * 1000 + e);
    auto order = torch::randperm(x.size(0), gen, torch::kLong);
    double sum = 0;
    int n = 0;
    for (int64_t i = 0; i < order.size(0); i += cfg.batch_size) {
      const double l =
          step(order.slice(0, i, std::min<int64_t>(i + cfg.batch_size, order.size(0))));
      if (!std::isfinite(l)) return false;
      sum += l;
      ++n;
    }
    result.loss = n ? sum / n : 0;
    return true;
  }
};

}  // namespace

RoundResult run_round(model::BlockModel& m, torch::optim::Optimizer& opt, const torch::Tensor& x,
                      const torch::Tensor& y, const RoundConfig& cfg,
                      const model::FlopsProfile& flops, const PrefixChooser& choose_prefix) {
  // Without a caller's cache the round keeps its own, keyed by row.
  std::optional<ActivationCache> own;
  std::vector<int64_t> row_ids;
  ActivationCache* cache = cfg.cache;
  if (!cache && cfg.cache_mb > 0) cache = &own.emplace(cfg.cache_mb);
  if (!cfg.row_ids) {
    row_ids.resize(x.size(0));
    std::iota(row_ids.begin(), row_ids.end(), 0);
  } else if (static_cast<int64_t>(cfg.row_ids->size()) != x.size(0)) {
    throw Error("run_round: " + std::to_string(cfg.row_ids->size()) + " row ids for " +
                std::to_string(x.size(0)) + " samples");
  }
  const int64_t hits_before = cache ? cache->hits() : 0;
  Loop loop{m, opt, x, y, cfg, flops, cache, cfg.row_ids ? *cfg.row_ids : row_ids, {}, -1};
  if (cfg.scored_rows > 0)
    loop.result.first_epoch_hits =
        torch::zeros({std::min(cfg.scored_rows, x.size(0))}, x.options().dtype(torch::kBool));
  for (int e = 0; e < cfg.epochs && x.size(0) > 0; ++e) {
    loop.scoring = e == 0 && cfg.scored_rows > 0;
    loop.set_prefix(choose_prefix ? choose_prefix(e) : 0);
    if (!loop.epoch(e)) {
      loop.result.finite = false;
      break;
    }
  }
  loop.result.frozen_prefix = std::max(loop.prefix, 0);
  loop.result.cache_hits = cache ? cache->hits() - hits_before : 0;
  return loop.result;
}

Eval evaluate(model::BlockModel& m, const torch::Tensor& x, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  auto logits = m.forward(x);
  const auto labels = y.to(logits.device());  // no-op when the caller already moved them
  Eval e;
  e.loss = torch::nn::functional::cross_entropy(logits, labels).item<double>();
  e.accuracy = logits.argmax(1).eq(labels).to(torch::kFloat).mean().item<double>();
  return e;
}

}  // namespace etuner::tuning
