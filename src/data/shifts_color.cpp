// Photometric corruptions. Brightness and saturate work in HSV like the reference
// (skimage's rgb2hsv / hsv2rgb, written here in tensor ops). A grayscale image (C = 1) is
// its own V channel with S = 0, so brightness/darken act on it directly and saturate leaves
// it unchanged.
#include "data/shifts_internal.h"

namespace etuner::data::shifts {
namespace {

torch::Tensor channel(const torch::Tensor& x, int64_t c) { return x.select(1, c); }

// Applies `fn` to V (in HSV) and converts back; a grayscale image is its own V.
template <typename Fn>
torch::Tensor map_value(const torch::Tensor& x, Fn fn) {
  if (x.size(1) == 1) return fn(x);
  auto hsv = rgb_to_hsv(x);
  hsv.select(1, 2).copy_(fn(hsv.select(1, 2)));
  return hsv_to_rgb(hsv);
}

// For hsv_to_rgb: which of (v, q, p, t) each of r, g, b takes in each of the six hue sectors.
const torch::Tensor& sector_table() {
  static const torch::Tensor kTable = torch::tensor({0, 1, 2, 2, 3, 0,   // r: v q p p t v
                                                     3, 0, 0, 1, 2, 2,   // g: t v v q p p
                                                     2, 2, 3, 0, 0, 1},  // b: p p t v v q
                                                    torch::kLong)
                                          .view({3, 6});
  return kTable;
}

}  // namespace

torch::Tensor rgb_to_hsv(const torch::Tensor& rgb) {
  const auto r = channel(rgb, 0), g = channel(rgb, 1), b = channel(rgb, 2);
  const auto v = std::get<0>(rgb.max(1));
  const auto delta = v - std::get<0>(rgb.min(1));
  const auto zero = torch::zeros_like(v);
  const auto s = torch::where(v > 0, delta / torch::where(v > 0, v, torch::ones_like(v)), zero);
  const auto safe_delta = torch::where(delta > 0, delta, torch::ones_like(delta));
  // Same precedence as skimage: where channels tie for the maximum, the later one wins.
  auto h = torch::where(r == v, (g - b) / safe_delta, zero);
  h = torch::where(g == v, 2.0 + (b - r) / safe_delta, h);
  h = torch::where(b == v, 4.0 + (r - g) / safe_delta, h);
  h = torch::where(delta > 0, torch::remainder(h / 6.0, 1.0), zero);
  return torch::stack({h, s, v}, 1);
}

torch::Tensor hsv_to_rgb(const torch::Tensor& hsv) {
  const auto h = channel(hsv, 0), s = channel(hsv, 1), v = channel(hsv, 2);
  const auto h6 = h * 6.0;
  const auto sector = torch::remainder(torch::floor(h6), 6.0).to(torch::kLong);
  const auto f = h6 - torch::floor(h6);
  const auto p = v * (1.0 - s);
  const auto q = v * (1.0 - f * s);
  const auto t = v * (1.0 - (1.0 - f) * s);
  const auto candidates = torch::stack({v, q, p, t}, 1);  // [N,4,H,W]
  std::vector<torch::Tensor> out;
  for (int64_t c = 0; c < 3; ++c) {
    const auto pick = sector_table()[c].index({sector}).unsqueeze(1);
    out.push_back(candidates.gather(1, pick).squeeze(1));
  }
  return torch::stack(out, 1);
}

torch::Tensor brightness(const torch::Tensor& x, int severity, at::Generator&) {
  static constexpr Table kShift = {0.05, 0.1, 0.15, 0.2, 0.3};
  const double c = at_severity(kShift, severity);
  return map_value(x, [c](const torch::Tensor& v) { return (v + c).clamp(0.0, 1.0); });
}

// Not in CIFAR-10-C: brightness mirrored (V - c, same table), for a shift towards the dark.
torch::Tensor darken(const torch::Tensor& x, int severity, at::Generator&) {
  static constexpr Table kShift = {0.05, 0.1, 0.15, 0.2, 0.3};
  const double c = at_severity(kShift, severity);
  return map_value(x, [c](const torch::Tensor& v) { return (v - c).clamp(0.0, 1.0); });
}

// Pulls every channel towards its per-image mean.
torch::Tensor contrast(const torch::Tensor& x, int severity, at::Generator&) {
  static constexpr Table kScale = {0.75, 0.5, 0.4, 0.3, 0.15};
  const auto means = x.mean({2, 3}, /*keepdim=*/true);
  return (x - means) * at_severity(kScale, severity) + means;
}

// S -> clip(S * a + b). Severities 1-2 desaturate, 3-5 oversaturate (the reference's table).
// As in the reference, gray RGB pixels (hue 0, red) pick up a slight red tint when b > 0.
torch::Tensor saturate(const torch::Tensor& x, int severity, at::Generator&) {
  static constexpr Table kScale = {0.3, 0.1, 1.5, 2.0, 2.5};
  static constexpr Table kOffset = {0.0, 0.0, 0.0, 0.1, 0.2};
  if (x.size(1) == 1) return x;
  auto hsv = rgb_to_hsv(x);
  auto s = hsv.select(1, 1);
  s.copy_((s * at_severity(kScale, severity) + at_severity(kOffset, severity)).clamp(0.0, 1.0));
  return hsv_to_rgb(hsv);
}

}  // namespace etuner::data::shifts
