// Fog (a plasma-fractal haze) and JPEG compression.
#include <ATen/Parallel.h>

#include <cstring>

#include "data/internal.h"
#include "data/shifts_internal.h"

namespace etuner::data::shifts {
namespace {

using torch::indexing::None;
using torch::indexing::Slice;

// Every `step`-th row and column of each map, starting at `first` (a strided view).
torch::Tensor grid(const torch::Tensor& maps, int64_t first_row, int64_t first_col, int64_t step) {
  return maps.index({Slice(), Slice(first_row, None, step), Slice(first_col, None, step)});
}

class Plasma {
 public:
  Plasma(int64_t count, int64_t mapsize, at::Generator& gen)
      : maps_(torch::zeros({count, mapsize, mapsize}, torch::kDouble)), gen_(gen) {}

  // One diamond-square level: the square centres, then the diamond points between them.
  void refine(int64_t step, double wibble) {
    const int64_t half = step / 2;
    const auto corners = grid(maps_, 0, 0, step);
    auto square_sum = corners + torch::roll(corners, -1, 1);
    square_sum += torch::roll(square_sum, -1, 2);
    grid(maps_, half, half, step).copy_(wibbled_mean(square_sum, wibble));

    const auto centres = grid(maps_, half, half, step);
    const auto top_sum =
        centres + torch::roll(centres, 1, 1) + corners + torch::roll(corners, -1, 2);
    const auto left_sum =
        centres + torch::roll(centres, 1, 2) + corners + torch::roll(corners, -1, 1);
    grid(maps_, 0, half, step).copy_(wibbled_mean(top_sum, wibble));
    grid(maps_, half, 0, step).copy_(wibbled_mean(left_sum, wibble));
  }

  // Each map rescaled to [0, 1].
  torch::Tensor normalized() const {
    const auto lo = maps_.amin({1, 2}, /*keepdim=*/true);
    const auto shifted = maps_ - lo;
    return shifted / shifted.amax({1, 2}, /*keepdim=*/true).clamp_min(1e-12);
  }

 private:
  torch::Tensor wibbled_mean(const torch::Tensor& sum, double wibble) {
    const auto uniform = torch::rand(sum.sizes(), gen_, torch::kDouble) * (2.0 * wibble) - wibble;
    return sum / 4.0 + wibble * uniform;
  }

  torch::Tensor maps_;
  at::Generator& gen_;
};

int64_t next_power_of_two(int64_t n) {
  int64_t p = 2;
  while (p < n) p *= 2;
  return p;
}

}  // namespace

// The reference's plasma_fractal (diamond-square, after FLHerne/mapgen), batched: `count`
// independent [mapsize, mapsize] maps in [0, 1]; a larger decay gives a smoother map.
torch::Tensor plasma_fractal(int64_t count, int64_t mapsize, double wibble_decay,
                             at::Generator& gen) {
  Plasma plasma(count, mapsize, gen);
  double wibble = 100.0;
  for (int64_t step = mapsize; step >= 2; step /= 2) {
    plasma.refine(step, wibble);
    wibble /= wibble_decay;
  }
  return plasma.normalized();
}

// Adds c0 x fractal haze to every channel, then rescales so the image's maximum is kept.
// The fractal is the next power of two above the image size, cropped (CIFAR: 32, as in the
// reference; Fashion-MNIST: 32 cropped to 28).
torch::Tensor fog(const torch::Tensor& x, int severity, at::Generator& gen) {
  static constexpr Table kStrength = {0.2, 0.5, 0.75, 1.0, 1.5};
  static constexpr Table kDecay = {3.0, 3.0, 2.5, 2.0, 1.75};
  const double c = at_severity(kStrength, severity);
  const int64_t h = x.size(2), w = x.size(3);
  const auto maps = plasma_fractal(x.size(0), next_power_of_two(std::max(h, w)),
                                   at_severity(kDecay, severity), gen);
  const auto haze =
      maps.index({Slice(), Slice(0, h), Slice(0, w)}).unsqueeze(1).to(x.scalar_type());
  const auto max_val = x.amax({1, 2, 3}, /*keepdim=*/true);
  return (x + c * haze) * max_val / (max_val + c);
}

// Each image is rounded to 8 bits (as the reference's PIL image is), encoded as a baseline
// JPEG at the severity's quality and decoded (src/data/codec.cpp explains the codec).
torch::Tensor jpeg_compression(const torch::Tensor& x, int severity, at::Generator&) {
  static constexpr std::array<int, 5> kQuality = {80, 65, 58, 50, 40};
  const int quality = kQuality[severity - 1];
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const auto hwc =
      x.mul(255.0).round().clamp(0, 255).to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
  auto out = torch::empty_like(hwc);
  const int64_t image_bytes = h * w * c;
  at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const auto px =
          detail::jpeg_roundtrip(hwc.data_ptr<uint8_t>() + i * image_bytes, static_cast<int>(w),
                                 static_cast<int>(h), static_cast<int>(c), quality);
      std::memcpy(out.data_ptr<uint8_t>() + i * image_bytes, px.data(), px.size());
    }
  });
  return out.permute({0, 3, 1, 2}).to(x.scalar_type()).div(255.0).contiguous();
}

}  // namespace etuner::data::shifts
