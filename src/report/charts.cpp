// The accuracy and cost charts: per-policy series over stream time, all policies overlaid.
#include <algorithm>
#include <set>

#include "report/format.h"
#include "report/sections.h"

namespace etuner::report {

namespace {

// Enough points for a smooth 860-pixel line; more only makes the file bigger.
constexpr size_t kMaxPoints = 400;

// The line starts once half a window is in: a mean of one or two requests is just noise.
std::vector<svg::Point> moving_accuracy(const std::vector<Request>& requests, size_t window) {
  std::vector<svg::Point> out;
  if (requests.empty()) return out;
  const size_t first = std::min(requests.size(), std::max<size_t>(window / 2, 1)) - 1;
  size_t correct = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    correct += requests[i].correct ? 1 : 0;
    if (i >= window) correct -= requests[i - window].correct ? 1 : 0;
    const size_t n = std::min(i + 1, window);
    if (i >= first)
      out.push_back({requests[i].time_s, static_cast<double>(correct) / static_cast<double>(n)});
  }
  return svg::downsample(out, kMaxPoints);
}

svg::MarkRow round_marks(const Policy& p, const std::string& color) {
  svg::MarkRow row{p.name, color, {}};
  for (const auto& r : p.rounds) row.spans.emplace_back(r.start_s, r.end_s);
  return row;
}

// Rounds end when their new model is published: the total steps up at each end_s.
std::vector<svg::Point> cumulative(const Policy& p, double Round::*field, double end) {
  std::vector<svg::Point> out{{0, 0}};
  double total = 0;
  for (const auto& r : p.rounds) {
    total += r.*field;
    out.push_back({r.end_s, total});
  }
  out.push_back({std::max(end, out.back().x), total});
  return svg::downsample(out, kMaxPoints);
}

double max_y(const std::vector<svg::Series>& series) {
  double m = 0;
  for (const auto& s : series)
    for (const auto& p : s.points) m = std::max(m, p.y);
  return m;
}

bool any_wall_time(const RunData& run) {
  for (const auto& p : run.policies)
    for (const auto& r : p.rounds)
      if (r.wall_s > 0) return true;
  return false;
}

// "modeled" when every policy agrees, else "rapl (immediate), modeled (ekya)".
std::string energy_sources(const RunData& run) {
  std::set<std::string> distinct;
  std::string each;
  for (const auto& p : run.policies) {
    std::string src = text_at(p.summary, "energy_source");
    if (src.empty()) src = "not recorded";
    distinct.insert(src);
    each += (each.empty() ? "" : ", ") + src + " (" + p.name + ")";
  }
  if (distinct.empty()) return "not recorded";
  return distinct.size() == 1 ? *distinct.begin() : each;
}

svg::ChartSpec cumulative_chart(const RunData& run, const std::string& id, double Round::*field,
                                const std::string& y_title) {
  svg::ChartSpec c;
  c.id = id;
  c.label = y_title + " over stream time, per policy";
  c.x = {"stream time (s)", 0, stream_end(run)};
  c.bands = scenario_bands(run);
  for (size_t i = 0; i < run.policies.size(); ++i) {
    const Policy& p = run.policies[i];
    c.series.push_back({p.name, policy_color(i), cumulative(p, field, c.x.max), true});
  }
  c.y = {y_title, 0, svg::nice_ceiling(max_y(c.series) * 1.05)};
  c.empty_text = run.has_rounds ? "no fine-tuning rounds" : "rounds.csv not found";
  if (run.has_rounds && max_y(c.series) <= 0) c.y.max = 1;
  return c;
}

}  // namespace

double stream_end(const RunData& run) {
  double end = 0;
  for (const auto& s : run.scenarios) end = std::max(end, s.end_s);
  for (const auto& p : run.policies) {
    if (!p.requests.empty()) end = std::max(end, p.requests.back().time_s);
    for (const auto& r : p.rounds) end = std::max(end, r.end_s);
  }
  return end > 0 ? end : 1;
}

std::vector<svg::Band> scenario_bands(const RunData& run) {
  std::vector<svg::Band> out;
  for (const auto& s : run.scenarios)
    out.push_back({s.start_s, s.end_s, s.name.empty() ? s.shift : s.name});
  return out;
}

size_t accuracy_window(const RunData& run) {
  size_t most = 0;
  for (const auto& p : run.policies) most = std::max(most, p.requests.size());
  return std::clamp<size_t>(most / 20, 10, 100);
}

std::string figure(const std::string& title, const std::string& note, const std::string& chart) {
  return "<figure><figcaption><strong>" + escape(title) + "</strong><span>" + escape(note) +
         "</span></figcaption>" + chart + "</figure>";
}

std::string accuracy_section(const RunData& run) {
  const size_t window = accuracy_window(run);
  svg::ChartSpec c;
  c.id = "chart-accuracy";
  c.label = "inference accuracy over stream time, per policy";
  c.x = {"stream time (s)", 0, stream_end(run)};
  c.y = {"accuracy (%)", 0, 1, 100};
  c.bands = scenario_bands(run);
  c.empty_text = run.has_requests ? "no requests" : "requests.csv not found";
  for (size_t i = 0; i < run.policies.size(); ++i) {
    const Policy& p = run.policies[i];
    c.series.push_back({p.name, policy_color(i), moving_accuracy(p.requests, window), false});
    c.marks.push_back(round_marks(p, policy_color(i)));
  }
  const std::string note =
      "Moving window of the last " + std::to_string(window) +
      " requests (lines start at half a window). Shaded spans and dashed lines are "
      "scenarios; bars below the plot are each policy's fine-tuning rounds.";
  return "<section id=\"accuracy\"><h2>Inference accuracy</h2>" +
         figure("Accuracy over stream time", note, svg::line_chart(c)) + "</section>";
}

std::string cost_section(const RunData& run) {
  const bool wall = any_wall_time(run) || !run.has_rounds;
  const auto time =
      cumulative_chart(run, "chart-time", wall ? &Round::wall_s : &Round::modeled_s,
                       wall ? "fine-tuning time (wall s)" : "fine-tuning time (modeled s)");
  const auto energy =
      cumulative_chart(run, "chart-energy", &Round::energy_j, "fine-tuning energy (J)");
  const std::string time_note =
      wall ? "Wall-clock seconds spent training, summed over rounds."
           : "No wall-clock times recorded: modeled seconds on the device profile.";
  return "<section id=\"cost\"><h2>Fine-tuning cost</h2>" +
         figure("Cumulative fine-tuning time", time_note, svg::line_chart(time)) +
         figure("Cumulative fine-tuning energy", "Energy source: " + energy_sources(run) + ".",
                svg::line_chart(energy)) +
         "</section>";
}

}  // namespace etuner::report
