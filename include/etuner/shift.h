// Domain shifts: CIFAR-10-C style corruptions (Hendrycks & Dietterich, ICLR 2019) with five
// severities, written in LibTorch tensor ops. See docs/shifts.md for the definitions,
// the severity tables and the credits.
//
//   torch::Tensor x = ...;                       // float [N,C,H,W] in [0,1]
//   auto y = etuner::data::apply_shift("fog", 3, x, /*seed=*/7);
//
// Deterministic: the same (name, severity, images, seed) gives the same output. "none"
// (or severity 0) is the identity. Outputs stay in [0,1]. Unknown names throw ConfigError
// listing the valid ones, as do a severity outside 0..5 and empty, non-float or non-[N,C,H,W]
// (C = 1 or 3) images. The work runs on the CPU (the noise comes from a CPU generator seeded
// with `seed`); the result has the input's device and dtype.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace etuner::data {

torch::Tensor apply_shift(const std::string& name, int severity, const torch::Tensor& images,
                          uint64_t seed);

// Every valid name, "none" first, in a stable order (for help texts and error messages).
std::vector<std::string> shift_names();

// A one-line description of the shift `name` (for `--help` and reports); ConfigError if unknown.
std::string shift_help(const std::string& name);

}  // namespace etuner::data
