#include "meter/source.h"

namespace etuner::meter {

void PowerIntegral::add(double t_s, const Watts& power_w) {
  const double dt_s = started_ ? t_s - last_t_s_ : 0;
  for (const auto& [domain, w] : power_w) {
    auto last = last_w_.find(domain);
    // Trapezoid: the sensors report instantaneous power, so the mean of the two ends is the
    // best estimate between samples; the sampling thread keeps the gaps short.
    if (last != last_w_.end() && dt_s > 0) energy_j_[domain] += 0.5 * (last->second + w) * dt_s;
    energy_j_.try_emplace(domain, 0.0);
  }
  started_ = true;
  last_t_s_ = t_s;
  last_w_ = power_w;
}

}  // namespace etuner::meter
