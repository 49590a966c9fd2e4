// Text helpers shared by the report's sections: escaping, number formats, ids, colors.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace etuner::report {

// Escapes text for HTML/SVG content and attributes. "://" becomes "&#58;//": a URL inside
// provenance text (a command, a dataset path) still reads the same, but the file never
// contains a literal scheme, which keeps the "no external URLs" check exact.
std::string escape(const std::string& text);

// A number with `decimals` digits after the point ("12.30" -> "12.3" when trim is set).
std::string fixed(double v, int decimals, bool trim = false);

// A compact SVG coordinate (one decimal, trailing zeros dropped).
std::string coord(double v);

// 1.2e12 -> "1.20 T"; for FLOPs and other wide-ranging counts.
std::string si(double v);

// The dash shown for a missing value.
inline const char* kMissing = "—";

// A number from a JSON object, or nullopt when the key is missing or not a number.
std::optional<double> number_at(const nlohmann::json& obj, const std::string& key);

// A string from a JSON object ("" when missing); numbers are printed, objects dumped.
std::string text_at(const nlohmann::json& obj, const std::string& key);

// An HTML id fragment: [A-Za-z0-9_-] kept, anything else becomes '-'.
std::string css_id(const std::string& text);

// The color of the i-th policy; every chart and the table use it, so a policy keeps its color.
std::string policy_color(size_t i);

}  // namespace etuner::report
