// Progress of a long loop (bench's events, pretraining's epochs) with rate and ETA.
//
//   ProgressReporter p("immediate", "events");
//   for (size_t i = 1; i <= n; ++i) { ...; p.update(i, n); }
//
// On a terminal it redraws one `\r` line; otherwise (a log file, CI, a detached run) it logs
// an info line through spdlog every `period_s` seconds and at the end, so the run's log
// shows it advancing.
#pragma once
#include <chrono>
#include <string>

namespace etuner::harness {

// "immediate: 50/200 events, 12.5 events/s, ETA 12 s" (the rate and ETA once any time has
// passed; ETA in s, min or h).
std::string progress_text(const std::string& what, const std::string& unit, size_t done,
                          size_t total, double elapsed_s);

class ProgressReporter {
 public:
  ProgressReporter(std::string what, std::string unit, double period_s = 10);
  // `note` is appended to the line ("loss 0.41").
  void update(size_t done, size_t total, const std::string& note = "");

 private:
  using Clock = std::chrono::steady_clock;
  std::string what_, unit_;
  double period_s_;
  bool terminal_;
  Clock::time_point start_ = Clock::now(), last_log_ = start_;
};

}  // namespace etuner::harness
