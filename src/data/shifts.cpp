// apply_shift: the table of corruptions, argument checks, and the one place that seeds,
// moves to the CPU, clamps and converts back.
#include <ATen/CPUGeneratorImpl.h>

#include "data/internal.h"
#include "data/shifts_internal.h"
#include "etuner/error.h"
#include "etuner/shift.h"

namespace etuner::data {
namespace {

using ShiftFn = torch::Tensor (*)(const torch::Tensor&, int, at::Generator&);

struct ShiftEntry {
  const char* name;
  const char* help;
  ShiftFn fn;  // nullptr: the identity
};

// Written out by hand, like every registry in etuner (docs/shifts.md has the tables).
const std::vector<ShiftEntry>& registry() {
  static const std::vector<ShiftEntry> kShifts = {
      {"none", "no corruption", nullptr},
      {"gaussian_noise", "additive Gaussian noise", shifts::gaussian_noise},
      {"shot_noise", "Poisson (photon) noise", shifts::shot_noise},
      {"impulse_noise", "salt-and-pepper noise", shifts::impulse_noise},
      {"brightness", "raises V in HSV", shifts::brightness},
      {"darken", "lowers V in HSV (brightness mirrored)", shifts::darken},
      {"contrast", "pulls channels towards their mean", shifts::contrast},
      {"fog", "plasma-fractal haze", shifts::fog},
      {"gaussian_blur", "Gaussian blur", shifts::gaussian_blur},
      {"defocus_blur", "disk (lens) blur", shifts::defocus_blur},
      {"pixelate", "box down- and upsampling", shifts::pixelate},
      {"saturate", "scales S in HSV (identity on grayscale)", shifts::saturate},
      {"jpeg_compression", "JPEG encode/decode", shifts::jpeg_compression},
  };
  return kShifts;
}

const ShiftEntry& find_shift(const std::string& name) {
  for (const auto& entry : registry()) {
    if (name == entry.name) return entry;
  }
  throw ConfigError("shift '" + name +
                    "' is unknown; valid shifts: " + detail::join(shift_names()));
}

void check_arguments(int severity, const torch::Tensor& images) {
  if (severity < 0 || severity > 5) {
    throw ConfigError("shift severity: must be 0..5, got " + std::to_string(severity));
  }
  if (!images.defined() || images.numel() == 0) throw ConfigError("apply_shift: images are empty");
  if (images.dim() != 4 || (images.size(1) != 1 && images.size(1) != 3)) {
    throw ConfigError("apply_shift: images must be [N,C,H,W] with C = 1 or 3");
  }
  if (!images.is_floating_point()) {
    throw ConfigError("apply_shift: images must be floating point in [0,1] (see data::to_float)");
  }
}

}  // namespace

std::vector<std::string> shift_names() {
  std::vector<std::string> names;
  for (const auto& entry : registry()) names.emplace_back(entry.name);
  return names;
}

std::string shift_help(const std::string& name) { return find_shift(name).help; }

torch::Tensor apply_shift(const std::string& name, int severity, const torch::Tensor& images,
                          uint64_t seed) {
  const ShiftEntry& entry = find_shift(name);
  check_arguments(severity, images);
  if (entry.fn == nullptr || severity == 0) return images.clone();
  torch::NoGradGuard no_grad;
  // The noise comes from a CPU generator, so the work happens on the CPU whatever the device:
  // the same seed then gives the same images on every machine with the same LibTorch.
  const auto x = images.detach().to(torch::kCPU, torch::kFloat).contiguous();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto y = entry.fn(x, severity, gen).clamp(0.0, 1.0);
  return y.to(images.device(), images.scalar_type());
}

}  // namespace etuner::data
