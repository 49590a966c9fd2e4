// The measured side of the meter module (private): sources of cumulative energy, the probes
// that find them, and the meter that windows them with fallbacks.
//
//   Probe p = probe_rapl(options, clock);       // p.info for `etuner meters`
//   if (p.source) sources.push_back(std::move(p.source));
//   auto meter = make_measured(std::move(sources), profile, options);
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "etuner/meter.h"

namespace etuner::meter {

using Clock = std::function<double()>;
using Warn = std::function<void(const std::string&)>;
using Joules = std::map<std::string, double>;
using Watts = std::map<std::string, double>;

// Cumulative joules since the source was opened: domains are disjoint and summed into
// energy_j; components lie inside a domain and are only shown.
struct Reading {
  Joules domains;
  Joules components;
};

// A measured backend. read() runs at every window edge and on the meter's sampling thread,
// always under the meter's lock; it throws etuner::Error when a reading is missing, which
// the meter turns into a warning and a fallback.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::string name() const = 0;
  virtual Reading read() = 0;
};

// Trapezoidal integral of power samples, per domain: how power-only sensors (NVML power
// usage, INA rails) become the energy counters that windows take differences of.
class PowerIntegral {
 public:
  void add(double t_s, const Watts& power_w);
  const Joules& energy_j() const { return energy_j_; }

 private:
  bool started_ = false;
  double last_t_s_ = 0;
  Watts last_w_;
  Joules energy_j_;
};

// What a probe found: always an info row; a source when the backend can measure; a problem
// when it is present but cannot (root-only RAPL, NVML NOT_SUPPORTED), which detect() warns about.
struct Probe {
  BackendInfo info;
  std::unique_ptr<Source> source;
  std::string problem;
};

Probe probe_jetson(const DetectOptions& options, const Clock& clock);
Probe probe_nvml(const DetectOptions& options, const Clock& clock);
Probe probe_rapl(const DetectOptions& options);

// The modeled meter's power for an activity key, and its row in `etuner meters`.
double modeled_power_w(const DeviceProfile& profile, const std::string& key);
BackendInfo modeled_info(const DeviceProfile& profile);

// A meter over measured sources, given in detection order. It measures with the first
// entry of the chain (jetson, nvml+rapl, nvml, rapl, modeled) whose sources all still work.
std::unique_ptr<Meter> make_measured(std::vector<std::unique_ptr<Source>> sources,
                                     const DeviceProfile& profile, const DetectOptions& options,
                                     const Clock& clock, const Warn& warn);

}  // namespace etuner::meter
