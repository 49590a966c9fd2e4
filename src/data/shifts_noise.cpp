// Noise corruptions: every value (pixel x channel) gets independent noise, as in CIFAR-10-C.
#include "data/shifts_internal.h"

namespace etuner::data::shifts {

torch::Tensor gaussian_noise(const torch::Tensor& x, int severity, at::Generator& gen) {
  static constexpr Table kSigma = {0.04, 0.06, 0.08, 0.09, 0.10};
  return x + torch::randn(x.sizes(), gen, x.options()) * at_severity(kSigma, severity);
}

// Photon counting: Poisson(x * rate) / rate, so fewer photons (a lower rate) is noisier.
torch::Tensor shot_noise(const torch::Tensor& x, int severity, at::Generator& gen) {
  static constexpr Table kRate = {500, 250, 100, 75, 50};
  const double rate = at_severity(kRate, severity);
  return torch::poisson(x * rate, gen) / rate;
}

// Salt and pepper (skimage's random_noise 's&p'): a fraction `amount` of the values is
// replaced, half by 1 and half by 0.
torch::Tensor impulse_noise(const torch::Tensor& x, int severity, at::Generator& gen) {
  static constexpr Table kAmount = {0.01, 0.02, 0.03, 0.05, 0.07};
  const auto flipped = torch::rand(x.sizes(), gen, x.options()) < at_severity(kAmount, severity);
  const auto salt = (torch::rand(x.sizes(), gen, x.options()) < 0.5).to(x.scalar_type());
  return torch::where(flipped, salt, x);
}

}  // namespace etuner::data::shifts
