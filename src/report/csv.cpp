#include "report/csv.h"

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "etuner/csv.h"
#include "etuner/error.h"

namespace etuner::report {

namespace {

std::string where(const CsvFile& f, const CsvRow& row, const std::string& column) {
  return f.path + ":" + std::to_string(row.line) + ": column " + column;
}

}  // namespace

std::vector<std::string> split_csv_line(const std::string& line) {
  return etuner::split_csv_line(line);
}

void CsvFile::require(const std::string& column) const {
  if (!has(column)) throw ConfigError(path + ": header has no column '" + column + "'");
}

std::string CsvFile::text(const CsvRow& row, const std::string& column) const {
  const auto it = columns.find(column);
  if (it == columns.end() || it->second >= row.fields.size()) return "";
  return row.fields[it->second];
}

double CsvFile::number(const CsvRow& row, const std::string& column, double fallback) const {
  const std::string s = text(row, column);
  if (s.empty()) return fallback;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size())
    throw ConfigError(where(*this, row, column) + ": not a number '" + s + "'");
  return std::isfinite(v) ? v : fallback;  // "nan"/"inf" would poison sums and SVG coordinates
}

bool CsvFile::boolean(const CsvRow& row, const std::string& column) const {
  const std::string s = text(row, column);
  if (s == "1" || s == "true" || s == "yes") return true;
  if (s == "0" || s == "false" || s == "no" || s.empty()) return false;
  throw ConfigError(where(*this, row, column) + ": expected 0/1, got '" + s + "'");
}

CsvFile read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path + ": cannot open file");
  CsvFile f;
  f.path = path;
  std::string line;
  if (!std::getline(in, line)) throw ConfigError(path + ": empty file (expected a header line)");
  const auto header = split_csv_line(line);
  for (size_t i = 0; i < header.size(); ++i) f.columns.emplace(header[i], i);
  for (size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line == "\r") continue;
    f.rows.push_back({n, split_csv_line(line)});
  }
  return f;
}

}  // namespace etuner::report
