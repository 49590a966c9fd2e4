#include "report/format.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace etuner::report {

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else if (c == '\'')
      out += "&#39;";
    else if (c == ':' && text.compare(i, 3, "://") == 0)
      out += "&#58;";
    else
      out += c;
  }
  return out;
}

std::string fixed(double v, int decimals, bool trim) {
  if (!std::isfinite(v)) return kMissing;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (trim && s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

std::string coord(double v) { return fixed(v, 1, true); }

std::string si(double v) {
  if (!std::isfinite(v)) return kMissing;
  static const char* kPrefix[] = {"", " k", " M", " G", " T", " P", " E"};
  int k = 0;
  while (std::fabs(v) >= 1000 && k < 6) {
    v /= 1000;
    ++k;
  }
  return fixed(v, k == 0 ? 0 : 2) + kPrefix[k];
}

std::optional<double> number_at(const nlohmann::json& obj, const std::string& key) {
  if (!obj.is_object() || !obj.contains(key) || !obj.at(key).is_number()) return std::nullopt;
  return obj.at(key).get<double>();
}

std::string text_at(const nlohmann::json& obj, const std::string& key) {
  if (!obj.is_object() || !obj.contains(key) || obj.at(key).is_null()) return "";
  const auto& v = obj.at(key);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string css_id(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    if (!ok) c = '-';
  }
  return out;
}

std::string policy_color(size_t i) {
  // Tableau 10: distinct hues that stay readable on white and for most color-vision types.
  static const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1",
                                   "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"};
  return kPalette[i % 10];
}

}  // namespace etuner::report
