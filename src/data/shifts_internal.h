// Private: the individual corruptions behind apply_shift (src/data/shifts.cpp holds the table).
//
// Every function takes a contiguous float32 CPU tensor [N,C,H,W] in [0,1] with C = 1 or 3
// and a severity in 1..5 (apply_shift has checked both), draws randomness only from `gen`,
// and may return values outside [0,1] (apply_shift clamps once, at the end).
// The constants are CIFAR-10-C's (hendrycks/robustness, make_cifar_c.py) unless docs/shifts.md
// says otherwise.
#pragma once
#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <array>

namespace etuner::data::shifts {

using Table = std::array<double, 5>;

inline double at_severity(const Table& table, int severity) { return table[severity - 1]; }

// shifts_noise.cpp
torch::Tensor gaussian_noise(const torch::Tensor& x, int severity, at::Generator& gen);
torch::Tensor shot_noise(const torch::Tensor& x, int severity, at::Generator& gen);
torch::Tensor impulse_noise(const torch::Tensor& x, int severity, at::Generator& gen);

// shifts_color.cpp
torch::Tensor brightness(const torch::Tensor& x, int severity, at::Generator& gen);
torch::Tensor darken(const torch::Tensor& x, int severity, at::Generator& gen);
torch::Tensor contrast(const torch::Tensor& x, int severity, at::Generator& gen);
torch::Tensor saturate(const torch::Tensor& x, int severity, at::Generator& gen);
torch::Tensor rgb_to_hsv(const torch::Tensor& rgb);  // [N,3,H,W] -> (h, s, v), all in [0,1]
torch::Tensor hsv_to_rgb(const torch::Tensor& hsv);

// shifts_blur.cpp
torch::Tensor gaussian_blur(const torch::Tensor& x, int severity, at::Generator& gen);
torch::Tensor defocus_blur(const torch::Tensor& x, int severity, at::Generator& gen);
torch::Tensor pixelate(const torch::Tensor& x, int severity, at::Generator& gen);

// shifts_fog_jpeg.cpp
torch::Tensor fog(const torch::Tensor& x, int severity, at::Generator& gen);
torch::Tensor jpeg_compression(const torch::Tensor& x, int severity, at::Generator& gen);
torch::Tensor plasma_fractal(int64_t count, int64_t mapsize, double wibble_decay,
                             at::Generator& gen);

}  // namespace etuner::data::shifts
