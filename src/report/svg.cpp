#include "report/svg.h"

#include <algorithm>
#include <cmath>

#include "report/format.h"

namespace etuner::report::svg {

namespace {

constexpr double kCharWidth = 6.6;  // average glyph width of the 12px sans-serif labels
constexpr double kLegendRow = 18;
constexpr double kMarkRow = 12;

double nice_step(double span, int target) {
  const double raw = span / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

std::string tick_label(double v, double step) {
  if (std::fabs(v) >= 1e5) return si(v);
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  return fixed(v, decimals);
}

std::string line(double x1, double y1, double x2, double y2, const std::string& cls) {
  return "<line class=\"" + cls + "\" x1=\"" + coord(x1) + "\" y1=\"" + coord(y1) + "\" x2=\"" +
         coord(x2) + "\" y2=\"" + coord(y2) + "\"/>";
}

std::string rect(double x, double y, double w, double h, const std::string& attrs) {
  return "<rect x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" width=\"" + coord(w) +
         "\" height=\"" + coord(h) + "\" " + attrs + "/>";
}

std::string path_data(const Frame& f, const Series& s) {
  std::string d;
  for (size_t i = 0; i < s.points.size(); ++i) {
    const double x = f.px(s.points[i].x), y = f.py(s.points[i].y);
    if (i == 0)
      d += "M" + coord(x) + "," + coord(y);
    else if (s.step)
      d += "H" + coord(x) + "V" + coord(y);
    else
      d += "L" + coord(x) + "," + coord(y);
  }
  return d;
}

std::string series_path(const Frame& f, const Series& s) {
  if (s.points.empty()) return "";
  return "<path class=\"series\" stroke=\"" + s.color + "\" d=\"" + path_data(f, s) + "\"><title>" +
         escape(s.label) + "</title></path>";
}

// Spans closer than a pixel merge, so a thousand rounds cost a handful of rects.
std::vector<std::pair<double, double>> pixel_spans(const Frame& f, const MarkRow& row) {
  std::vector<std::pair<double, double>> out;
  for (const auto& [a, b] : row.spans) {
    const double x0 = f.px(a), x1 = std::max(f.px(b), x0 + 1.5);
    if (!out.empty() && x0 <= out.back().second + 1.0)
      out.back().second = std::max(out.back().second, x1);
    else
      out.emplace_back(x0, x1);
  }
  return out;
}

std::string mark_rows(const Frame& f, const ChartSpec& spec, double top) {
  if (spec.marks.empty()) return "";
  std::string out = text(f.left - 8, top - 3, spec.marks_title, "axis-title", "end");
  for (size_t i = 0; i < spec.marks.size(); ++i) {
    const MarkRow& row = spec.marks[i];
    const double y = top + kMarkRow * static_cast<double>(i);
    out += text(f.left - 8, y + 9, truncate(row.label, 14), "mark-label", "end");
    out += rect(f.left, y + 1, f.width, kMarkRow - 2, "class=\"mark-bg\"");
    for (const auto& [x0, x1] : pixel_spans(f, row))
      out += rect(x0, y + 1, x1 - x0, kMarkRow - 2, "fill=\"" + row.color + "\"");
  }
  return out;
}

bool has_points(const ChartSpec& spec) {
  return std::any_of(spec.series.begin(), spec.series.end(),
                     [](const Series& s) { return !s.points.empty(); });
}

}  // namespace

double Frame::px(double v) const {
  const double span = x.max - x.min;
  return left + (span > 0 ? (v - x.min) / span : 0) * width;
}

double Frame::py(double v) const {
  const double span = y.max - y.min;
  return bottom() - (span > 0 ? (v - y.min) / span : 0) * height;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  const double step = nice_step(hi - lo, target);
  std::vector<double> ticks;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-6; v += step)
    ticks.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

double nice_ceiling(double v) {
  if (!(v > 0)) return 1;
  const double step = nice_step(v, 5);
  return std::ceil(v / step - 1e-9) * step;
}

std::vector<Point> downsample(const std::vector<Point>& points, size_t max_points) {
  if (points.size() <= max_points || max_points < 2) return points;
  std::vector<Point> out;
  out.reserve(max_points);
  const double stride =
      static_cast<double>(points.size() - 1) / static_cast<double>(max_points - 1);
  for (size_t i = 0; i < max_points; ++i)
    out.push_back(points[static_cast<size_t>(std::lround(stride * static_cast<double>(i)))]);
  return out;
}

std::string truncate(const std::string& s, size_t max_chars) {
  return s.size() <= max_chars ? s : s.substr(0, max_chars - 1) + "…";
}

std::string open_svg(const std::string& id, double height, const std::string& label) {
  return "<svg id=\"" + escape(id) + "\" class=\"chart\" viewBox=\"0 0 " + coord(kWidth) + " " +
         coord(height) + "\" role=\"img\" aria-label=\"" + escape(label) + "\">";
}

std::string text(double x, double y, const std::string& s, const std::string& cls,
                 const std::string& anchor) {
  std::string attrs = "x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" class=\"" + cls + "\"";
  if (anchor != "start") attrs += " text-anchor=\"" + anchor + "\"";
  return "<text " + attrs + ">" + escape(s) + "</text>";
}

std::string x_axis(const Frame& f, double label_y) {
  const auto ticks = nice_ticks(f.x.min, f.x.max, 8);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  std::string out;
  for (double t : ticks) {
    out += line(f.px(t), f.top, f.px(t), f.bottom(), "grid");
    out += text(f.px(t), label_y, tick_label(t * f.x.label_scale, step * f.x.label_scale), "tick",
                "middle");
  }
  out += line(f.left, f.bottom(), f.right(), f.bottom(), "axis");
  return out + text(f.left + f.width / 2, label_y + 18, f.x.title, "axis-title", "middle");
}

std::string y_axis(const Frame& f) {
  const auto ticks = nice_ticks(f.y.min, f.y.max, 5);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  std::string out;
  for (double t : ticks) {
    out += line(f.left, f.py(t), f.right(), f.py(t), "grid");
    out += text(f.left - 8, f.py(t) + 4, tick_label(t * f.y.label_scale, step * f.y.label_scale),
                "tick", "end");
  }
  out += line(f.left, f.top, f.left, f.bottom(), "axis");
  const std::string y = coord(f.top + f.height / 2);
  return out + "<text class=\"axis-title\" text-anchor=\"middle\" transform=\"translate(18," + y +
         ") rotate(-90)\">" + escape(f.y.title) + "</text>";
}

std::string bands(const Frame& f, const std::vector<Band>& bands, double bottom, bool shade) {
  std::string out;
  for (size_t i = 0; i < bands.size(); ++i) {
    const double x0 = std::max(f.px(bands[i].start), f.left),
                 x1 = std::min(f.px(bands[i].end), f.right());
    if (shade && i % 2 == 1 && x1 > x0) out += rect(x0, f.top, x1 - x0, f.height, "class=\"band\"");
    if (i > 0) out += line(x0, f.top, x0, bottom, "boundary");
    const auto chars = static_cast<size_t>((x1 - x0 - 8) / 6.0);
    if (chars >= 3) out += text(x0 + 4, f.top + 13, truncate(bands[i].label, chars), "scenario");
  }
  return out;
}

std::string legend(const std::vector<std::pair<std::string, std::string>>& items, double y,
                   int* rows) {
  std::string out;
  double x = 96;
  *rows = items.empty() ? 0 : 1;
  for (const auto& [label, color] : items) {
    const double w = 30 + kCharWidth * static_cast<double>(label.size()) + 18;
    if (x + w > kWidth - 24 && x > 96) {
      x = 96;
      ++*rows;
      y += kLegendRow;
    }
    out += "<line class=\"legend-swatch\" stroke=\"" + color + "\" x1=\"" + coord(x) + "\" y1=\"" +
           coord(y - 4) + "\" x2=\"" + coord(x + 22) + "\" y2=\"" + coord(y - 4) + "\"/>";
    out += text(x + 28, y, label, "legend");
    x += w;
  }
  return out;
}

std::string line_chart(const ChartSpec& spec) {
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& s : spec.series) items.emplace_back(s.label, s.color);
  int rows = 0;
  const std::string legend_markup = legend(items, 16, &rows);
  Frame f;
  f.x = spec.x;
  f.y = spec.y;
  f.top = 16 + kLegendRow * rows;
  const double marks_top = f.bottom() + (spec.marks.empty() ? 0 : 26);
  const double axis_bottom = marks_top + kMarkRow * static_cast<double>(spec.marks.size());
  const double height = axis_bottom + 42;
  std::string out = open_svg(spec.id, height, spec.label) + legend_markup;
  out += bands(f, spec.bands, axis_bottom) + y_axis(f) + x_axis(f, axis_bottom + 16);
  for (const auto& s : spec.series) out += series_path(f, s);
  if (!has_points(spec))
    out += text(f.left + f.width / 2, f.top + f.height / 2, spec.empty_text, "empty", "middle");
  return out + mark_rows(f, spec, marks_top) + "</svg>";
}

}  // namespace etuner::report::svg
