// The round loop: epochs of minibatch SGD over the round's samples, with the frozen prefix
// chosen at every epoch start and its activations served from the cache.
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

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
  ActivationCache cache;
  RoundResult result;
  int prefix = -1;

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
    if (cfg.cache_mb <= 0) return compute(rows);
    auto out = cache.get(rows, compute);
    if (cfg.verify_cache && !torch::equal(out, recompute(rows)))
      throw Error("activation cache: cached prefix output differs from recomputed");
    return out;
  }

  double step(const torch::Tensor& rows) {
    auto h = prefix_out(rows);
    auto logits = m.forward_range(prefix, m.num_units(), h);
    auto loss = torch::nn::functional::cross_entropy(logits, y.index_select(0, rows.to(y.device())));
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
    apply_plan(m, policy::FreezePlan{p, false, ""});
    cache.reset(x.size(0));
  }

  bool epoch(int e) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(cfg.seed * 1000 + e);
    auto order = torch::randperm(x.size(0), gen, torch::kLong);
    double sum = 0;
    int n = 0;
    for (int64_t i = 0; i < order.size(0); i += cfg.batch_size) {
      const double l = step(order.slice(0, i, std::min<int64_t>(i + cfg.batch_size, order.size(0))));
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
  Loop loop{m, opt, x, y, cfg, flops, ActivationCache(cfg.cache_mb), {}, -1};
  for (int e = 0; e < cfg.epochs && x.size(0) > 0; ++e) {
    loop.set_prefix(choose_prefix ? choose_prefix(e) : 0);
    if (!loop.epoch(e)) {
      loop.result.finite = false;
      break;
    }
  }
  loop.result.frozen_prefix = std::max(loop.prefix, 0);
  loop.result.cache_hits = loop.cache.hits();
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
