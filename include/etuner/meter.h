// Meters: measurement windows of time and energy.
//
//   auto meter = etuner::meter::detect(profile);        // measured backend if any, else modeled
//   meter->begin("round");
//   ... fine-tune ...
//   etuner::meter::Measurement m = meter->end("round");  // m.time_s, m.energy_j, m.source
//
// Keys name the activity ("round", "infer", "idle"); windows with different keys may
// overlap. Every measurement names its source: jetson, nvml, rapl (or "nvml+rapl" where both
// measure disjoint parts of the machine) or modeled. A backend whose reading goes missing,
// zero or frozen is warned about once on stderr and replaced by the next one for the rest
// of the run; never a silent zero. docs/metering.md has the backends and the rules.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etuner/device_profile.h"

namespace etuner::meter {

struct Measurement {
  double time_s = 0;
  double energy_j = 0;  // sum over domain_energy_j
  std::map<std::string, double>
      domain_energy_j;  // disjoint: "package-0", "package-0/dram", "gpu0", "VDD_IN"
  // Parts already inside a domain ("package-0/core", Jetson sub-rails under VDD_IN): shown,
  // never summed, so energy_j counts no joule twice.
  std::map<std::string, double> component_energy_j;
  std::string source = "modeled";
  std::string note;  // set when a fallback measured this window: what failed and why
};

class Meter {
 public:
  virtual ~Meter() = default;
  virtual void begin(const std::string& key) = 0;
  [[nodiscard]] virtual Measurement end(const std::string& key) = 0;
  // What the next window will be measured with (changes after a fallback).
  virtual std::string source() const = 0;
};

// The NVML entry points etuner calls, as a table: filled from libnvidia-ml.so.1 with dlopen
// at run time (no build dependency on the driver) or by a test with fakes. Return values are
// nvmlReturn_t codes (kNvmlSuccess, kNvmlNotSupported, ...); devices are NVML's opaque handles.
struct NvmlApi {
  std::function<int()> init_v2;  // always the first call
  std::function<int()> shutdown;
  std::function<int(unsigned* count)> device_get_count_v2;
  std::function<int(unsigned index, void** device)> device_get_handle_by_index_v2;
  std::function<int(void* device, unsigned long long* energy_mj)>
      device_get_total_energy_consumption;
  std::function<int(void* device, unsigned* power_mw)> device_get_power_usage;
  std::function<std::string(int code)> error_string;
};
inline constexpr int kNvmlSuccess = 0;
inline constexpr int kNvmlNotSupported = 3;

// Where detection looks and how the measured meters sample; the defaults are the real machine.
struct DetectOptions {
  std::string sysfs_root = "/";  // powercap, hwmon and iio trees live below it (tests: a temp dir)
  std::optional<NvmlApi> nvml;   // injected table; unset: dlopen nvml_library
  std::string nvml_library = "libnvidia-ml.so.1";  // "": never load NVML
  // Background sampling period: integrates power readings (NVML without an energy counter,
  // Jetson rails) and reads RAPL often enough that no counter wraps twice unseen.
  // 0: sample only at begin/end (deterministic tests).
  double sample_period_s = 0.1;
  // A counter that does not move across a window at least this long is frozen.
  double frozen_min_window_s = 1.0;
  std::function<double()> clock;                 // seconds; unset: steady_clock
  std::function<void(const std::string&)> warn;  // one line; unset: stderr
};

// One backend as detection saw it on this machine, for `etuner meters`.
struct BackendInfo {
  std::string name;  // "jetson", "nvml", "rapl", "modeled"
  bool available = false;
  std::string status;                // how it reads, or why it cannot
  std::vector<std::string> domains;  // what energy_j sums
  std::vector<std::string> components;
  std::string measures;  // what those numbers cover, in words
};

// The modeled meter: wall time of the window x the profile's power for the activity the key
// names ("round" -> train_power_w, "infer" -> infer_power_w, anything else -> idle_power_w).
std::unique_ptr<Meter> make_modeled(const DeviceProfile& profile);

// The best available backend for this machine (measured preferred), else modeled. Order:
// jetson, nvml+rapl, nvml, rapl, modeled; later ones are the fallbacks of earlier ones.
std::unique_ptr<Meter> detect(const DeviceProfile& profile, const DetectOptions& options = {});

// Every backend, available or not, in detection order; modeled last.
std::vector<BackendInfo> describe(const DeviceProfile& profile, const DetectOptions& options = {});

}  // namespace etuner::meter
