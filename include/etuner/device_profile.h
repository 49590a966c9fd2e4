// Device profiles: what a round costs on a named device, for the `realtime` protocol (stream
// time a round occupies) and for the modeled meter (joules where nothing is measured).
// docs/device-profiles.md lists every number and where it comes from.
//
//   const auto& p = etuner::device_profile("cpu-2core");
//   double s = p.round_seconds(/*steps=*/27, /*train_flops=*/2.1e11);
#pragma once
#include <string>
#include <vector>

namespace etuner {

// How stream time treats a round: `instant` deploys its version at once; `realtime` holds
// the device for the round's modeled duration, and requests meanwhile get the old version.
enum class Protocol { kInstant, kRealtime };
inline const char* to_string(Protocol p) {
  return p == Protocol::kRealtime ? "realtime" : "instant";
}

struct DeviceProfile {
  std::string name;
  std::string description;
  std::string source;            // where the numbers come from
  double round_overhead_s = 0;   // checkpoint, optimizer set-up: once per round
  double step_overhead_s = 0;    // launch/dispatch cost of one optimizer step
  double train_flops_per_s = 1;  // sustained training throughput (forward+backward FLOPs)
  double idle_power_w = 0;       // whole device, nothing running
  double train_power_w = 0;      // whole device while a round runs
  double infer_power_w = 0;      // whole device while answering requests

  // Stream seconds a round of `steps` optimizer steps and `train_flops` FLOPs occupies.
  double round_seconds(int steps, double train_flops) const;
};

// Throws ConfigError listing the known names.
const DeviceProfile& device_profile(const std::string& name);
std::vector<std::string> device_profile_names();

}  // namespace etuner
