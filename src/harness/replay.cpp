#include "harness/replay.h"

#include <sys/resource.h>

#include <limits>

namespace etuner::harness {
namespace {

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

// The run of consecutive requests from `i` that one model version answers: it ends at the
// next labeled batch or when a pending version is due.
size_t request_run_end(const stream::Timeline& tl, size_t i, double next_deploy_s) {
  size_t j = i;
  while (j < tl.events.size() && tl.events[j].kind == stream::EventKind::kRequest &&
         (j == i || tl.events[j].time_s < next_deploy_s))
    ++j;
  return j;
}

void answer(runtime::Runtime& rt, const stream::Timeline& tl, size_t i, size_t j, PolicyRun& run) {
  const int first = tl.events[i].index;
  const int n = static_cast<int>(j - i);
  auto p = rt.predict(tl.requests.images.slice(0, first, first + n));
  // Accessors, not per-element tensor indexing: this loop runs once per request.
  const auto truth = tl.requests.labels.accessor<int64_t, 1>();
  // Host copies (no-ops today: predict returns CPU tensors); accessors on CUDA would crash.
  const auto pred = p.labels.to(torch::kCPU, torch::kLong);
  const auto labels = pred.accessor<int64_t, 1>();
  const auto conf = p.confidence.to(torch::kCPU, torch::kDouble).contiguous();
  const auto confidence = conf.accessor<double, 1>();
  for (int k = 0; k < n; ++k) {
    const auto& e = tl.events[i + k];
    run.answers.push_back({e.index, e.time_s, e.scenario, static_cast<int>(truth[e.index]),
                           static_cast<int>(labels[k]), confidence[k], p.version, p.lag_samples});
  }
}

}  // namespace

PolicyRun replay(runtime::Runtime& rt, const stream::Timeline& tl, const Progress& progress) {
  PolicyRun run;
  run.name = rt.policy().name;
  run.scheduler = rt.policy().scheduler_name;
  run.freezer = rt.policy().freezer_name;
  run.adapter = rt.policy().adapter_name;
  run.description = rt.policy().description;
  // The true scenario of the event being replayed: oracle-style peers read it, records keep it.
  int scenario = -1;
  rt.set_true_scenario([&scenario] { return scenario; });
  size_t i = 0;
  while (i < tl.events.size()) {
    const auto& e = tl.events[i];
    scenario = e.scenario;
    if (e.kind == stream::EventKind::kLabeled) {
      const auto& b = tl.batches[e.index];
      rt.add_labeled(b.images, b.labels, e.time_s);
    }
    if (auto r = rt.advance(e.time_s)) run.rounds.push_back(*r);
    if (e.kind == stream::EventKind::kLabeled) {
      ++i;
    } else {
      const size_t j = request_run_end(tl, i, rt.next_deploy_s());
      answer(rt, tl, i, j, run);
      i = j;
    }
    if (progress) progress(i, tl.events.size());
  }
  rt.set_true_scenario(nullptr);  // `scenario` ends here
  run.totals = rt.totals();
  run.peak_rss_mb = peak_rss_mb();
  return run;
}

}  // namespace etuner::harness
