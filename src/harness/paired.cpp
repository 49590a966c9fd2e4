#include "harness/paired.h"

#include <array>
#include <cassert>
#include <cmath>
#include <numeric>

namespace etuner::harness {
namespace {

// t(0.975, df) for df 1..30. Beyond 30 the normal quantile 1.96 stands in: it understates
// the true quantile by under 3% up to df 60, and sweeps of that many seeds are rare.
constexpr std::array<double, 30> kT975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                          2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                          2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                          2.060,  2.056, 2.052, 2.048, 2.045, 2.042};

double sample_sd(const std::vector<double>& xs, double mean) {
  double squares = 0;
  for (double x : xs) squares += (x - mean) * (x - mean);
  return std::sqrt(squares / static_cast<double>(xs.size() - 1));
}

void check_paired([[maybe_unused]] const std::vector<double>& values,
                  [[maybe_unused]] const std::vector<double>& baseline) {
  assert(values.size() == baseline.size() && !values.empty());
}

}  // namespace

double mean_of(const std::vector<double>& xs) {
  assert(!xs.empty());
  return std::accumulate(xs.begin(), xs.end(), 0.0) / static_cast<double>(xs.size());
}

double t_quantile_975(int df) {
  assert(df >= 1);
  return df <= static_cast<int>(kT975.size()) ? kT975[df - 1] : 1.96;
}

PairedDelta paired_delta(const std::vector<double>& values, const std::vector<double>& baseline) {
  check_paired(values, baseline);
  PairedDelta d;
  for (size_t i = 0; i < values.size(); ++i) d.per_seed.push_back(values[i] - baseline[i]);
  d.mean = mean_of(d.per_seed);
  const int n = static_cast<int>(d.per_seed.size());
  if (n < 2) return d;
  d.sd = sample_sd(d.per_seed, d.mean);
  d.ci95_half_width = t_quantile_975(n - 1) * *d.sd / std::sqrt(static_cast<double>(n));
  return d;
}

RatioSeries ratio_series(const std::vector<double>& values, const std::vector<double>& baseline) {
  check_paired(values, baseline);
  RatioSeries r;
  std::vector<double> defined;
  for (size_t i = 0; i < values.size(); ++i) {
    if (baseline[i] <= 0) {
      r.per_seed.push_back(std::nullopt);
      continue;
    }
    r.per_seed.push_back(values[i] / baseline[i]);
    defined.push_back(*r.per_seed.back());
  }
  if (defined.size() == values.size()) r.mean = mean_of(defined);
  return r;
}

}  // namespace etuner::harness
