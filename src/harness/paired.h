// Paired statistics over seeds: each seed is one timeline that every policy replays, so a
// policy's per-seed difference from the baseline cancels the timeline's own luck (the
// +-1.5 points one run varies by on our streams) and the spread that remains is the policy's.
#pragma once
#include <optional>
#include <vector>

namespace etuner::harness {

// values[i] - baseline[i] per seed; sd and the interval need two seeds or more.
struct PairedDelta {
  std::vector<double> per_seed;
  double mean = 0;
  std::optional<double> sd;               // sample standard deviation (n - 1)
  std::optional<double> ci95_half_width;  // t(0.975, n - 1) * sd / sqrt(n)
};

// values[i] / baseline[i] per seed; none where the baseline's value is not positive.
struct RatioSeries {
  std::vector<std::optional<double>> per_seed;
  std::optional<double> mean;  // over seeds; none when any seed's ratio is none
};

double mean_of(const std::vector<double>& xs);

// The two-sided 95% Student t quantile for df degrees of freedom (df >= 1).
double t_quantile_975(int df);

PairedDelta paired_delta(const std::vector<double>& values, const std::vector<double>& baseline);

RatioSeries ratio_series(const std::vector<double>& values, const std::vector<double>& baseline);

}  // namespace etuner::harness
