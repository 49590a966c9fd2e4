// Spatial corruptions: blurs as per-channel convolutions, pixelate as two box resamplings.
#include <algorithm>
#include <cmath>

#include "data/shifts_internal.h"

namespace etuner::data::shifts {
namespace {

// Correlates every channel with `kernel` [kh, kw] (odd sizes), keeping the image size.
// Borders: reflect (OpenCV's default, BORDER_REFLECT_101) or replicate (scipy's 'nearest').
// A sum of shifted copies rather than conv2d: on single-channel planes LibTorch's conv2d
// was 2.6x (5x5) to 10x (9x1) slower on the CPU (2000 CIFAR images, LibTorch 1.13).
torch::Tensor filter_channels(const torch::Tensor& x, const torch::Tensor& kernel, bool reflect) {
  const int64_t h = x.size(2), w = x.size(3);
  const int64_t ph = kernel.size(0) / 2, pw = kernel.size(1) / 2;
  // Reflection needs the pad to be smaller than the image; tiny images fall back to replicate.
  const bool can_reflect = reflect && ph < h && pw < w;
  const auto padded = can_reflect ? torch::reflection_pad2d(x, {pw, pw, ph, ph})
                                  : torch::replication_pad2d(x, {pw, pw, ph, ph});
  const auto taps = kernel.to(torch::kDouble).contiguous();
  const auto tap = taps.accessor<double, 2>();
  auto out = torch::zeros_like(x);
  for (int64_t i = 0; i < taps.size(0); ++i) {
    for (int64_t j = 0; j < taps.size(1); ++j) {
      if (tap[i][j] != 0.0) out.add_(padded.narrow(2, i, h).narrow(3, j, w), tap[i][j]);
    }
  }
  return out;
}

// exp(-x^2 / (2 sigma^2)) on -radius..radius, normalised.
torch::Tensor gaussian_1d(double sigma, int64_t radius) {
  const auto l = torch::arange(-radius, radius + 1, torch::kDouble);
  const auto phi = torch::exp(-0.5 * l * l / (sigma * sigma));
  return phi / phi.sum();
}

torch::Tensor outer_product(const torch::Tensor& a, const torch::Tensor& b) {
  return a.unsqueeze(1) * b.unsqueeze(0);
}

// The reference's disk(): an aliased disk of `radius`, normalised, then smoothed by a 3x3
// Gaussian (cv2.GaussianBlur, ksize 3) of sigma `alias_blur`. The grid is one pixel wider
// than the disk, which is all the 3x3 smoothing can reach, so the kernel equals the
// reference's 17x17 one with its all-zero border cropped.
torch::Tensor disk_kernel(double radius, double alias_blur) {
  const auto half = static_cast<int64_t>(std::floor(radius)) + 1;
  const auto l = torch::arange(-half, half + 1, torch::kDouble);
  const auto r2 = l.unsqueeze(1).pow(2) + l.unsqueeze(0).pow(2);
  auto disk = (r2 <= radius * radius).to(torch::kDouble);
  disk /= disk.sum();
  // The grid's outer ring is zero, so replicated borders act as the zero padding needed here.
  const auto g = gaussian_1d(alias_blur, 1);
  const auto grid = disk.view({1, 1, 2 * half + 1, 2 * half + 1});
  return filter_channels(grid, outer_product(g, g), /*reflect=*/false).squeeze();
}

// PIL's resampling weights for the BOX filter (Resample.c, precompute_coeffs): output pixel
// `o` averages the input pixels whose centres fall in its footprint. Returns [out, in].
torch::Tensor box_weights(int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double filterscale = std::max(scale, 1.0);
  const double support = 0.5 * filterscale;
  auto w = torch::zeros({out, in}, torch::kDouble);
  auto acc = w.accessor<double, 2>();
  for (int64_t o = 0; o < out; ++o) {
    const double center = (static_cast<double>(o) + 0.5) * scale;
    const auto lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const auto hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in);
    for (int64_t i = lo; i < hi; ++i) {
      const double u = (static_cast<double>(i) - center + 0.5) / filterscale;
      acc[o][i] = (u > -0.5 && u <= 0.5) ? 1.0 : 0.0;
    }
  }
  return w / w.sum(1, /*keepdim=*/true);
}

// Down to `small` then back up to `full`, both with PIL's BOX filter: one [full, full] matrix.
torch::Tensor box_roundtrip(int64_t full, int64_t small) {
  return box_weights(small, full).matmul(box_weights(full, small));
}

}  // namespace

// skimage.filters.gaussian: truncate 4 sigma, 'nearest' borders, each channel on its own.
// Separable, as scipy does it: two 1-D passes cost 2k taps instead of k^2.
torch::Tensor gaussian_blur(const torch::Tensor& x, int severity, at::Generator&) {
  static constexpr Table kSigma = {0.4, 0.6, 0.7, 0.8, 1.0};
  const double sigma = at_severity(kSigma, severity);
  const auto g = gaussian_1d(sigma, static_cast<int64_t>(4.0 * sigma + 0.5));
  return filter_channels(filter_channels(x, g.view({-1, 1}), false), g.view({1, -1}), false);
}

torch::Tensor defocus_blur(const torch::Tensor& x, int severity, at::Generator&) {
  static constexpr Table kRadius = {0.3, 0.4, 0.5, 1.0, 1.5};
  static constexpr Table kAliasBlur = {0.4, 0.5, 0.6, 0.2, 0.1};
  const auto k = disk_kernel(at_severity(kRadius, severity), at_severity(kAliasBlur, severity));
  return filter_channels(x, k, /*reflect=*/true);
}

// Box-downsample to int(size * c) and box-upsample back, per axis.
torch::Tensor pixelate(const torch::Tensor& x, int severity, at::Generator&) {
  static constexpr Table kScale = {0.95, 0.9, 0.85, 0.75, 0.65};
  const double c = at_severity(kScale, severity);
  const int64_t h = x.size(2), w = x.size(3);
  const auto small_h = std::max<int64_t>(static_cast<int64_t>(static_cast<double>(h) * c), 1);
  const auto small_w = std::max<int64_t>(static_cast<int64_t>(static_cast<double>(w) * c), 1);
  const auto rows = box_roundtrip(h, small_h).to(x.scalar_type());
  const auto cols = box_roundtrip(w, small_w).to(x.scalar_type());
  return rows.matmul(x).matmul(cols.t());
}

}  // namespace etuner::data::shifts
