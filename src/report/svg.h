// Hand-written SVG chart primitives for the report: no JS, no dependency, small output.
//
//   svg::ChartSpec c;
//   c.id = "chart-time";
//   c.x = {"stream time (s)", 0, 600};
//   c.y = {"fine-tuning time (s)", 0, 40};
//   c.series.push_back({"immediate", "#4e79a7", {{0, 0}, {100, 3.5}}, /*step=*/true});
//   c.bands.push_back({0, 300, "clean"});        // scenario spans, dashed line at each start
//   std::string markup = svg::line_chart(c);    // one <svg id="chart-time"> element
//
// Coordinates are in a fixed 960-wide viewBox; CSS scales the element to the page width.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace etuner::report::svg {

inline constexpr double kWidth = 960;

struct Point {
  double x = 0;
  double y = 0;
};

struct Series {
  std::string label;
  std::string color;
  std::vector<Point> points;
  bool step = false;  // hold each value until the next point (cumulative totals)
};

// A scenario span: shaded alternately, a dashed line at its start, its name on top.
struct Band {
  double start = 0;
  double end = 0;
  std::string label;
};

// A row of marks under the plot: one policy's fine-tuning rounds as [start, end] spans.
struct MarkRow {
  std::string label;
  std::string color;
  std::vector<std::pair<double, double>> spans;
};

struct Axis {
  std::string title;
  double min = 0;
  double max = 1;
  double label_scale = 1;  // tick labels show value * label_scale (0.8 -> "80" for percent)
};

// Maps data coordinates to the plot rectangle.
struct Frame {
  double left = 96;
  double top = 40;
  double width = kWidth - 96 - 24;
  double height = 220;
  Axis x;
  Axis y;
  double px(double v) const;
  double py(double v) const;
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

struct ChartSpec {
  std::string id;
  std::string label;  // aria-label: what the chart shows
  Axis x;
  Axis y;
  std::vector<Series> series;
  std::vector<Band> bands;
  std::vector<MarkRow> marks;
  std::string marks_title = "rounds";
  std::string empty_text = "no data";  // drawn when no series has a point
};

std::string line_chart(const ChartSpec& spec);

// Building blocks, shared with the freezing timeline.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
double nice_ceiling(double v);  // smallest "round" number >= v (1, 2, 5 x 10^k steps)
std::vector<Point> downsample(const std::vector<Point>& points, size_t max_points);
std::string open_svg(const std::string& id, double height, const std::string& label);
std::string text(double x, double y, const std::string& s, const std::string& cls,
                 const std::string& anchor = "start");
std::string x_axis(const Frame& f, double label_y);  // grid lines, tick labels, title
std::string y_axis(const Frame& f);
// Scenario spans: every other one shaded (unless shade is off), dashed lines, names on top.
std::string bands(const Frame& f, const std::vector<Band>& bands, double bottom, bool shade = true);
// Legend items (label, color) laid out in rows from (x, y); returns markup, sets rows used.
std::string legend(const std::vector<std::pair<std::string, std::string>>& items, double y,
                   int* rows);
std::string truncate(const std::string& s, size_t max_chars);

}  // namespace etuner::report::svg
