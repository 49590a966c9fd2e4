// The freezing timeline: one heatmap per freezing policy, rows = blocks, x = stream time.
// A round's plan (its frozen_mask) holds from that round's start to the next round's start,
// so each column reads "what the latest round trained".
#include <algorithm>

#include "report/format.h"
#include "report/sections.h"

namespace etuner::report {

namespace {

constexpr double kRowHeight = 20;
constexpr double kLabelStrip = 18;  // scenario names above the rows
constexpr char kFrozenColor[] = "#c3c8cf";

bool frozen(const Round& r, int block) {
  return block < static_cast<int>(r.frozen_mask.size()) &&
         r.frozen_mask[static_cast<size_t>(block)] == '1';
}

bool ever_froze(const Policy& p) {
  return std::any_of(p.rounds.begin(), p.rounds.end(),
                     [](const Round& r) { return r.frozen_mask.find('1') != std::string::npos; });
}

std::string state_rect(const svg::Frame& f, double t0, double t1, double y,
                       const std::string& color) {
  const double x0 = f.px(t0), w = std::max(f.px(t1) - x0, 1.0);
  return "<rect x=\"" + coord(x0) + "\" y=\"" + coord(y + 1) + "\" width=\"" + coord(w) +
         "\" height=\"" + coord(kRowHeight - 2) + "\" fill=\"" + color + "\"/>";
}

// One block's row: runs of equal state merge into one rect each.
std::string block_row(const svg::Frame& f, const Policy& p, int block, double y,
                      const std::string& color) {
  std::string out;
  size_t run_start = 0;
  for (size_t i = 1; i <= p.rounds.size(); ++i) {
    if (i < p.rounds.size() && frozen(p.rounds[i], block) == frozen(p.rounds[run_start], block))
      continue;
    const double t1 = i < p.rounds.size() ? p.rounds[i].start_s : f.x.max;
    out += state_rect(f, p.rounds[run_start].start_s, t1, y,
                      frozen(p.rounds[run_start], block) ? kFrozenColor : color);
    run_start = i;
  }
  return out;
}

std::string row_labels(const svg::Frame& f, const Policy& p, int block, double y) {
  const auto trained = std::count_if(p.rounds.begin(), p.rounds.end(),
                                     [&](const Round& r) { return !frozen(r, block); });
  const std::string name = "block " + std::to_string(block) + (block == 0 ? " (input)" : "");
  return svg::text(f.left - 8, y + 14, name, "tick", "end") +
         svg::text(f.right() + 8, y + 14,
                   "trained " + std::to_string(trained) + "/" + std::to_string(p.rounds.size()),
                   "tick");
}

std::string heatmap(const RunData& run, const Policy& p, const std::string& color) {
  int rows = 0;
  const std::string key = svg::legend({{"trained", color}, {"frozen", kFrozenColor}}, 16, &rows);
  svg::Frame f;
  f.width = svg::kWidth - f.left - 120;
  f.top = 16 + 18.0 * rows;
  f.height = kLabelStrip + kRowHeight * run.num_blocks;
  f.x = {"stream time (s)", 0, stream_end(run)};
  std::string out = svg::open_svg("chart-freeze-" + css_id(p.name), f.bottom() + 42,
                                  "blocks trained and frozen over stream time, " + p.name) +
                    key;
  out += svg::x_axis(f, f.bottom() + 16);
  for (int b = 0; b < run.num_blocks; ++b) {
    const double y = f.top + kLabelStrip + kRowHeight * b;
    out += "<rect class=\"mark-bg\" x=\"" + coord(f.left) + "\" y=\"" + coord(y + 1) +
           "\" width=\"" + coord(f.width) + "\" height=\"" + coord(kRowHeight - 2) + "\"/>";
    out += block_row(f, p, b, y, color) + row_labels(f, p, b, y);
  }
  // Drawn last so boundaries show over the rows; unshaded, so the block colors stay true.
  return out + svg::bands(f, scenario_bands(run), f.bottom(), /*shade=*/false) + "</svg>";
}

std::string skipped_note(const std::vector<std::string>& names) {
  if (names.empty()) return "";
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return "<p class=\"note\">No timeline for " + escape(list) +
         ": no block was ever frozen (every round trained the whole model).</p>";
}

}  // namespace

std::string freeze_section(const RunData& run) {
  std::string out = "<section id=\"freezing\"><h2>Freezing timeline</h2>";
  if (!run.has_rounds)
    return out + "<p class=\"note\">rounds.csv not found: no freezing timeline.</p></section>";
  std::vector<std::string> skipped;
  const std::string note =
      "Each span runs from one fine-tuning round to the next and shows that round's plan: "
      "colored blocks were trained, gray blocks frozen. Blank before the first round.";
  for (size_t i = 0; i < run.policies.size(); ++i) {
    const Policy& p = run.policies[i];
    if (!ever_froze(p) || run.num_blocks <= 0) {
      skipped.push_back(p.name);
      continue;
    }
    out += figure(p.name, note, heatmap(run, p, policy_color(i)));
  }
  return out + skipped_note(skipped) + "</section>";
}

}  // namespace etuner::report
