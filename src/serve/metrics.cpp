#include "serve/metrics.h"

#include <fmt/format.h>

namespace etuner::serve {

void Metrics::observe(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
  auto& h = latency_[route];
  for (size_t b = 0; b < kBuckets.size(); ++b)
    if (seconds <= kBuckets[b]) {
      ++h.le[b];
      break;
    }
  ++h.count;
  h.sum_s += seconds;
}

std::string Metrics::render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out =
      "# HELP etuner_http_requests_total HTTP requests answered, by route and status.\n"
      "# TYPE etuner_http_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += fmt::format("etuner_http_requests_total{{route=\"{}\",code=\"{}\"}} {}\n", key.first,
                       key.second, n);
  out +=
      "# HELP etuner_http_request_duration_seconds Time from request to response.\n"
      "# TYPE etuner_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += h.le[b];
      out +=
          fmt::format("etuner_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                      route, kBuckets[b], cumulative);
    }
    out +=
        fmt::format("etuner_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                    route, h.count);
    out += fmt::format("etuner_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route,
                       h.sum_s);
    out += fmt::format("etuner_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                       h.count);
  }
  return out;
}

std::string prometheus_metric(const std::string& name, const std::string& type,
                              const std::string& help, double value) {
  return fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
}

}  // namespace etuner::serve
