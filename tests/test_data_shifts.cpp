// Shift tests: contracts every shift meets (shape, range, determinism, severity order) on
// fixed synthetic images, plus analytic values for the deterministic ones.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>

#include "data/shifts_internal.h"
#include "etuner/error.h"
#include "etuner/shift.h"

using namespace etuner;
using namespace etuner::data;

namespace {

// Smooth blobs (bilinear, so no edges line up with a pixel grid) in [0.15, 0.75].
torch::Tensor smooth_images(int64_t n, int64_t channels, int64_t size, at::Generator& gen) {
  namespace F = torch::nn::functional;
  const auto coarse = torch::rand({n, channels, size / 4, size / 4}, gen);
  const auto opts = F::InterpolateFuncOptions()
                        .size(std::vector<int64_t>{size, size})
                        .mode(torch::kBilinear)
                        .align_corners(false);
  return 0.15 + 0.6 * F::interpolate(coarse, opts);
}

// Smooth blobs plus fine texture in [0.15, 0.75], so every corruption has room to act.
torch::Tensor synthetic(int64_t n, int64_t channels, int64_t size) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(123);
  const auto smooth = smooth_images(n, channels, size, gen);
  const auto texture = 0.15 + 0.6 * torch::rand({n, channels, size, size}, gen);
  return 0.7 * smooth + 0.3 * texture;
}

std::vector<std::string> corruptions() {
  auto names = shift_names();
  names.erase(names.begin());  // "none"
  return names;
}

bool is_random(const std::string& name) {
  return name == "gaussian_noise" || name == "shot_noise" || name == "impulse_noise" ||
         name == "fog";
}

double mean_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().mean().item<double>();
}

// The two image sets every contract runs on: CIFAR-like RGB and Fashion-MNIST-like gray.
std::vector<torch::Tensor> image_sets() { return {synthetic(6, 3, 32), synthetic(6, 1, 28)}; }

}  // namespace

TEST(Shifts, NamesCoverTheRequiredSet) {
  const auto names = shift_names();
  EXPECT_EQ(names.front(), "none");
  for (const char* want :
       {"gaussian_noise", "shot_noise", "impulse_noise", "brightness", "darken", "contrast", "fog",
        "gaussian_blur", "defocus_blur", "pixelate", "saturate", "jpeg_compression"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
    EXPECT_FALSE(shift_help(want).empty());
  }
}

TEST(Shifts, BadArgumentsAreConfigErrors) {
  const auto x = synthetic(2, 3, 8);
  try {
    apply_shift("snow", 1, x, 0);
    FAIL() << "unknown shift accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("gaussian_noise"), std::string::npos) << e.what();
  }
  EXPECT_THROW(apply_shift("snow", 0, x, 0), ConfigError);
  EXPECT_THROW(shift_help("snow"), ConfigError);
  EXPECT_THROW(apply_shift("fog", 6, x, 0), ConfigError);
  EXPECT_THROW(apply_shift("fog", -1, x, 0), ConfigError);
  EXPECT_THROW(apply_shift("fog", 1, torch::Tensor(), 0), ConfigError);
  EXPECT_THROW(apply_shift("fog", 1, torch::empty({0, 3, 8, 8}), 0), ConfigError);
  EXPECT_THROW(apply_shift("fog", 1, torch::zeros({2, 2, 8, 8}), 0), ConfigError);
  EXPECT_THROW(apply_shift("fog", 1, torch::zeros({3, 8, 8}), 0), ConfigError);
  EXPECT_THROW(apply_shift("fog", 1, torch::zeros({1, 3, 8, 8}, torch::kUInt8), 0), ConfigError);
}

TEST(Shifts, NoneAndSeverityZeroAreTheIdentity) {
  const auto x = synthetic(2, 3, 16);
  EXPECT_TRUE(torch::equal(apply_shift("none", 3, x, 1), x));
  for (const auto& name : corruptions())
    EXPECT_TRUE(torch::equal(apply_shift(name, 0, x, 1), x)) << name;
}

TEST(Shifts, ShapeRangeDtypeAndDeterminism) {
  for (const auto& x : image_sets()) {
    for (const auto& name : corruptions()) {
      for (int severity = 1; severity <= 5; ++severity) {
        const auto y = apply_shift(name, severity, x, 42);
        SCOPED_TRACE(name + " severity " + std::to_string(severity) +
                     " C=" + std::to_string(x.size(1)));
        ASSERT_EQ(y.sizes(), x.sizes());
        EXPECT_EQ(y.scalar_type(), torch::kFloat);
        EXPECT_GE(y.min().item<float>(), 0.0f);
        EXPECT_LE(y.max().item<float>(), 1.0f);
        EXPECT_TRUE(torch::equal(y, apply_shift(name, severity, x, 42)));
        if (is_random(name)) EXPECT_FALSE(torch::equal(y, apply_shift(name, severity, x, 43)));
      }
    }
  }
}

TEST(Shifts, KeepTheInputDtype) {
  const auto x = synthetic(2, 3, 16).to(torch::kDouble);
  const auto y = apply_shift("gaussian_noise", 2, x, 5);
  EXPECT_EQ(y.scalar_type(), torch::kDouble);
  EXPECT_TRUE(torch::allclose(
      y, apply_shift("gaussian_noise", 2, x.to(torch::kFloat), 5).to(torch::kDouble)));
}

// Mean absolute difference from the clean images grows with severity. Saturate is the
// exception by design (CIFAR-10-C's table): 1-2 desaturate, 3-5 oversaturate, and each arm
// grows; on grayscale it is the identity.
TEST(Shifts, SeverityIsMonotone) {
  for (const auto& x : image_sets()) {
    for (const auto& name : corruptions()) {
      std::vector<double> mad;
      for (int severity = 1; severity <= 5; ++severity)
        mad.push_back(mean_abs_diff(apply_shift(name, severity, x, 7), x));
      SCOPED_TRACE(name + " C=" + std::to_string(x.size(1)) + " mad " + std::to_string(mad[0]) +
                   " .. " + std::to_string(mad[4]));
      if (name == "saturate") {
        if (x.size(1) == 1) {
          EXPECT_EQ(mad[4], 0.0);
          continue;
        }
        EXPECT_LT(mad[0], mad[1]);
        EXPECT_LT(mad[2], mad[3]);
        EXPECT_LT(mad[3], mad[4]);
        continue;
      }
      EXPECT_GT(mad[0], 1e-4);
      for (int s = 0; s < 4; ++s)
        EXPECT_LT(mad[s], mad[s + 1]) << "severity " << s + 1 << " vs " << s + 2;
    }
  }
}

TEST(Shifts, HsvRoundTripAndReferenceValues) {
  const auto x = synthetic(3, 3, 8);
  EXPECT_TRUE(torch::allclose(shifts::hsv_to_rgb(shifts::rgb_to_hsv(x)), x, 1e-5, 1e-6));
  const auto px = torch::tensor({0.5f, 0.25f, 0.0f}).view({1, 3, 1, 1});
  // (H, S, V) = (1/12, 1, 0.5): brightness raises V by 0.05, so every channel scales by 1.1.
  EXPECT_TRUE(
      torch::allclose(shifts::rgb_to_hsv(px).flatten(), torch::tensor({1.0f / 12, 1.0f, 0.5f})));
  EXPECT_TRUE(torch::allclose(apply_shift("brightness", 1, px, 0).flatten(),
                              torch::tensor({0.55f, 0.275f, 0.0f})));
  EXPECT_TRUE(torch::allclose(apply_shift("darken", 5, px, 0).flatten(),
                              torch::tensor({0.2f, 0.1f, 0.0f})));
  // Saturate severity 1 (S x 0.3): each channel moves 70% of the way to V.
  EXPECT_TRUE(torch::allclose(apply_shift("saturate", 1, px, 0).flatten(),
                              torch::tensor({0.5f, 0.425f, 0.35f})));
  // A gray pixel has hue 0 (red), so severity 4's offset (S = 0.1) tints it red, as in the
  // reference.
  const auto gray = torch::full({1, 3, 1, 1}, 0.5f);
  EXPECT_TRUE(torch::allclose(apply_shift("saturate", 4, gray, 0).flatten(),
                              torch::tensor({0.5f, 0.45f, 0.45f})));
  EXPECT_TRUE(torch::allclose(apply_shift("brightness", 2, torch::full({1, 1, 2, 2}, 0.95f), 0),
                              torch::ones({1, 1, 2, 2})));
}

TEST(Shifts, AnalyticFilterValues) {
  // Contrast: per-image, per-channel means stay, deviations scale by 0.15 at severity 5.
  const auto two = torch::tensor({0.2f, 0.6f}).view({1, 1, 1, 2});
  EXPECT_TRUE(
      torch::allclose(apply_shift("contrast", 5, two, 0).flatten(), torch::tensor({0.37f, 0.43f})));
  // Blurs keep a constant image constant (normalised kernels, no dark borders).
  const auto flat = torch::full({1, 3, 9, 9}, 0.4f);
  for (const char* name : {"gaussian_blur", "defocus_blur", "pixelate"}) {
    EXPECT_TRUE(torch::allclose(apply_shift(name, 5, flat, 0), flat)) << name;
  }
  // An impulse reads back the kernel's centre tap.
  auto impulse = torch::zeros({1, 1, 15, 15});
  impulse[0][0][7][7] = 1.0f;
  double g_sum = 0;  // skimage gaussian, sigma 1, truncate 4
  for (int i = -4; i <= 4; ++i) g_sum += std::exp(-0.5 * i * i);
  EXPECT_NEAR(apply_shift("gaussian_blur", 5, impulse, 0)[0][0][7][7].item<double>(),
              1.0 / (g_sum * g_sum), 1e-6);
  // Defocus 5: radius 1.5 is the full 3x3 disk; alias blur 0.1 barely smooths it. Defocus 4: a
  // plus.
  EXPECT_NEAR(apply_shift("defocus_blur", 5, impulse, 0)[0][0][7][7].item<double>(), 1.0 / 9, 1e-6);
  EXPECT_NEAR(apply_shift("defocus_blur", 4, impulse, 0)[0][0][7][7].item<double>(), 1.0 / 5, 1e-4);
  // Pixelate 5 on 4x4: box down to int(4 * 0.65) = 2, back up to 4 = 2x2 block means.
  const auto ramp = torch::arange(16, torch::kFloat).view({1, 1, 4, 4}) / 16;
  const auto blocks = torch::tensor({2.5f, 2.5f, 4.5f, 4.5f, 2.5f, 2.5f, 4.5f, 4.5f, 10.5f, 10.5f,
                                     12.5f, 12.5f, 10.5f, 10.5f, 12.5f, 12.5f})
                          .view({1, 1, 4, 4}) /
                      16;
  EXPECT_TRUE(torch::allclose(apply_shift("pixelate", 5, ramp, 0), blocks));
}

TEST(Shifts, PlasmaFractalIsNormalisedAndSeeded) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const auto maps = shifts::plasma_fractal(4, 32, 2.0, gen);
  ASSERT_EQ(maps.sizes(), torch::IntArrayRef({4, 32, 32}));
  EXPECT_TRUE(torch::allclose(maps.amin({1, 2}), torch::zeros({4}, torch::kDouble)));
  EXPECT_TRUE(torch::allclose(maps.amax({1, 2}), torch::ones({4}, torch::kDouble)));
  EXPECT_FALSE(torch::equal(maps[0], maps[1]));  // each image gets its own fog
}

TEST(Shifts, JpegChangesLittleAtHighQualityOnSmoothImages) {
  // Gray content, so 4:2:0 chroma subsampling costs nothing and only luma quantisation shows.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
  const auto gray = smooth_images(4, 1, 32, gen);
  const auto rgb = gray.expand({4, 3, 32, 32}).contiguous();
  for (const auto& x : {gray, rgb}) {
    const double mad = mean_abs_diff(x, apply_shift("jpeg_compression", 1, x, 0));
    EXPECT_LT(mad, 0.01);
    EXPECT_GT(mad, 0.0005);
  }
}
