#include "harness/progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace etuner::harness {
namespace {

std::string one_decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string duration_text(double s) {
  if (s < 90) return std::to_string(static_cast<long>(std::lround(s))) + " s";
  if (s < 5400) return one_decimal(s / 60) + " min";
  return one_decimal(s / 3600) + " h";
}

}  // namespace

std::string progress_text(const std::string& what, const std::string& unit, size_t done,
                          size_t total, double elapsed_s) {
  std::string out = what + ": " + std::to_string(done) + "/" + std::to_string(total) + " " + unit;
  if (elapsed_s <= 0 || done == 0) return out;
  const double rate = done / elapsed_s;
  out += ", " + one_decimal(rate) + " " + unit + "/s";
  if (done < total) out += ", ETA " + duration_text((total - done) / rate);
  return out;
}

ProgressReporter::ProgressReporter(std::string what, std::string unit, double period_s)
    : what_(std::move(what)), unit_(std::move(unit)), period_s_(period_s), terminal_(isatty(2)) {}

void ProgressReporter::update(size_t done, size_t total, const std::string& note) {
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const std::string text =
      progress_text(what_, unit_, done, total, elapsed) + (note.empty() ? "" : ", " + note);
  if (terminal_) {
    std::cerr << "\r" << text << "   " << (done == total ? "\n" : "") << std::flush;
    return;
  }
  if (done < total && std::chrono::duration<double>(now - last_log_).count() < period_s_) return;
  last_log_ = now;
  spdlog::info("{}", text);
}

}  // namespace etuner::harness
