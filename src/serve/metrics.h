// Request counters and latency histograms in the Prometheus text format (version 0.0.4).
//
//   metrics.observe("predict", 200, 0.0012);
//   std::string text = metrics.render() + gauge_lines;   // GET /metrics
#pragma once
#include <array>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace etuner::serve {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  void observe(const std::string& route, int status, double seconds);
  std::string render() const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> le{};  // per bucket (made cumulative when rendered)
    uint64_t count = 0;
    double sum_s = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (route, status) -> count
  std::map<std::string, Histogram> latency_;
};

// "# HELP name help\n# TYPE name type\nname value\n".
std::string prometheus_metric(const std::string& name, const std::string& type,
                              const std::string& help, double value);

}  // namespace etuner::serve
