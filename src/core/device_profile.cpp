#include "etuner/device_profile.h"

#include "etuner/error.h"

namespace etuner {
namespace {

// Numbers measured on the machines named in `source`; docs/device-profiles.md explains
// the derivation. Power figures are the only modeled part and say so.
const std::vector<DeviceProfile>& table() {
  static const std::vector<DeviceProfile> profiles = {
      {"cpu-2core", "2-core x86-64 VM, LibTorch 1.13 (Debian), OpenBLAS",
       "step cost: shared/notes/step-costs.md (ResNet-20, 2026-11-27): 143 ms/step at batch 32 and "
       "499 ms at 128 give 24 ms/step + 3.7 ms/img; 3.7 ms/img at 0.246 GFLOP/img (3x forward) "
       "= 66 GFLOP/s. Power: modeled, 2 of the host's cores at a 7.5 W/core TDP share (15 W), "
       "idle 5 W",
       0.006, 0.024, 66e9, 5.0, 20.0, 20.0},
      {"h200", "NVIDIA H200, LibTorch 2.11+cu130",
       "step cost: shared/notes/step-costs.md: 6.5 ms/step at batch 32, 7.6 ms at 128 give 6.1 "
       "ms/step + "
       "0.012 ms/img = 20 TFLOP/s at 0.246 GFLOP/img; power from the NVML counter there: "
       "0.031 J/img at 4.9k img/s = 150 W while training; idle 75 W (H200 board idle, NVML)",
       0.005, 0.0061, 20e12, 75.0, 150.0, 120.0},
      {"jetson-orin-nano", "NVIDIA Jetson Orin Nano 8GB, 15 W mode (estimate, not measured here)",
       "estimate: datasheet 15 W power mode and ~1/40 of the H200 profile's small-batch "
       "throughput; replace with a measured profile on the device",
       0.02, 0.012, 0.5e12, 4.0, 15.0, 12.0},
  };
  return profiles;
}

}  // namespace

double DeviceProfile::round_seconds(int steps, double train_flops) const {
  return round_overhead_s + steps * step_overhead_s + train_flops / train_flops_per_s;
}

const DeviceProfile& device_profile(const std::string& name) {
  for (const auto& p : table())
    if (p.name == name) return p;
  std::string valid;
  for (const auto& p : table()) valid += (valid.empty() ? "" : ", ") + p.name;
  throw ConfigError("unknown device profile '" + name + "' (valid: " + valid + ")");
}

std::vector<std::string> device_profile_names() {
  std::vector<std::string> names;
  for (const auto& p : table()) names.push_back(p.name);
  return names;
}

}  // namespace etuner
