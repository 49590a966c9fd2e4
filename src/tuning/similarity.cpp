// Layer similarity for the freezer (linear CKA) and label-free BatchNorm adaptation: the
// measurements the runtime takes from a model without labels.
#include "etuner/tuning.h"

namespace etuner::tuning {
torch::Tensor centered_gram(const torch::Tensor& t) {
  torch::NoGradGuard no_grad;
  auto x = t.reshape({t.size(0), -1}).to(torch::kDouble);
  x = x - x.mean(0, true);
  return x.matmul(x.t());
}

double linear_cka(const torch::Tensor& a, const torch::Tensor& b) {
  return linear_cka_gram(centered_gram(a), centered_gram(b));
}

double linear_cka_gram(const torch::Tensor& k, const torch::Tensor& l) {
  const double num = (k * l).sum().item<double>();
  const double den = k.norm().item<double>() * l.norm().item<double>();
  return den > 0 ? num / den : 1.0;  // both constant: nothing changed
}

std::vector<torch::Tensor> block_outputs(model::BlockModel& m, const torch::Tensor& input,
                                         int frozen_prefix, int from) {
  torch::NoGradGuard no_grad;
  m.set_training(false);  // BatchNorm must not learn from the probe
  std::vector<torch::Tensor> out(std::max(0, m.num_blocks()));
  auto h = input;
  for (int b = std::max(0, from); b < m.num_blocks(); ++b) out[b] = h = m.forward_unit(b, h);
  apply_plan(m, policy::FreezePlan::at(frozen_prefix));
  return out;
}

void adapt_batchnorm(model::BlockModel& m, const torch::Tensor& x, double alpha, int first_unit) {
  constexpr double kMomentum = 0.1;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> bufs, before;
  std::vector<double> step;
  for (int u = 0; u < m.num_units(); ++u)
    for (auto& t : m.unit_buffers(u))
      if (t.is_floating_point()) {
        bufs.push_back(t);
        before.push_back(t.clone());
        step.push_back(u < first_unit ? 0.0 : alpha / kMomentum);
      }
  m.set_training(true);
  m.forward(x);
  m.set_training(false);
  // The forward moved each statistic by momentum x (batch - old); rescale that step to alpha.
  for (size_t k = 0; k < bufs.size(); ++k)
    bufs[k].copy_(before[k] + (bufs[k] - before[k]) * step[k]);
}

int64_t apply_batchnorm_tallies(model::BlockModel& m, double alpha, int first_unit,
                                double prefix_alpha) {
  torch::NoGradGuard no_grad;
  int64_t values = 0;
  for (int u = 0; u < m.num_units(); ++u)
    for (auto* t : m.unit_tallies(u)) {
      const double a = u >= first_unit ? alpha : prefix_alpha;
      if (t->count > 1) {
        values += t->count * t->sum.size(0);
        if (a > 0) {
          const double n = static_cast<double>(t->count);
          const auto mean = t->sum / n;
          const auto var = (t->sum_sq - t->sum * mean) / (n - 1);
          const auto& rm = t->running_mean;
          const auto& rv = t->running_var;
          rm.add_((mean.to(rm.dtype()) - rm) * a);
          rv.add_((var.clamp_min(0).to(rv.dtype()) - rv) * a);
        }
      }
      t->reset();
    }
  return values;
}

void reset_batchnorm_tallies(model::BlockModel& m) {
  for (int u = 0; u < m.num_units(); ++u)
    for (auto* t : m.unit_tallies(u)) t->reset();
}

}  // namespace etuner::tuning
