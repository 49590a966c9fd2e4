// Detection: probe every backend, build the chain from the ones that measure, and say so
// when a backend is present but cannot measure (the silent failures this module exists to
// avoid: root-only RAPL, NVML's NOT_SUPPORTED on Jetson).
#include <chrono>
#include <iostream>
#include <mutex>
#include <set>

#include "meter/source.h"

namespace etuner::meter {
namespace {

Clock resolve_clock(const DetectOptions& options) {
  if (options.clock) return options.clock;
  return [] {
    using clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
  };
}

// The default sink prints each distinct line once per process: a harness that detects a
// meter per policy run would otherwise repeat "rapl: energy_uj is root-only" for every run.
Warn resolve_warn(const DetectOptions& options) {
  if (options.warn) return options.warn;
  return [](const std::string& line) {
    static std::mutex mutex;
    static std::set<std::string> said;
    std::lock_guard<std::mutex> lock(mutex);
    if (said.insert(line).second) std::cerr << line << std::endl;
  };
}

// Detection order: the earlier the backend, the more of the device it measures.
std::vector<Probe> probe_all(const DetectOptions& options, const Clock& clock) {
  std::vector<Probe> probes;
  probes.push_back(probe_jetson(options, clock));
  probes.push_back(probe_nvml(options, clock));
  probes.push_back(probe_rapl(options));
  return probes;
}

}  // namespace

std::unique_ptr<Meter> detect(const DeviceProfile& profile, const DetectOptions& options) {
  const Clock clock = resolve_clock(options);
  const Warn warn = resolve_warn(options);
  std::vector<std::unique_ptr<Source>> sources;
  std::vector<std::string> problems;
  for (auto& p : probe_all(options, clock)) {
    if (p.source) sources.push_back(std::move(p.source));
    if (!p.problem.empty()) problems.push_back(p.problem);
  }
  // With no sources this is the modeled meter, on the injected clock.
  std::unique_ptr<Meter> meter = make_measured(std::move(sources), profile, options, clock, warn);
  for (const auto& problem : problems)
    warn("etuner meter: " + problem + "; using " + meter->source());
  return meter;
}

std::vector<BackendInfo> describe(const DeviceProfile& profile, const DetectOptions& options) {
  std::vector<BackendInfo> infos;
  for (auto& p : probe_all(options, resolve_clock(options))) infos.push_back(std::move(p.info));
  infos.push_back(modeled_info(profile));
  return infos;
}

}  // namespace etuner::meter
