// A small CSV reader for the run's requests.csv and rounds.csv.
//
//   CsvFile f = read_csv(path);                 // IoError if it cannot be opened
//   for (const auto& row : f.rows) {
//     double t = f.number(row, "time_s", 0.0);  // ConfigError names file, line and column
//   }
//
// Columns are found by header name, so extra columns and any column order are fine.
// Fields may be double-quoted ("a,b" and "say ""hi""" work); no embedded newlines.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace etuner::report {

struct CsvRow {
  size_t line = 0;  // 1-based line in the file, for error messages
  std::vector<std::string> fields;
};

struct CsvFile {
  std::string path;
  std::map<std::string, size_t> columns;  // header name -> index
  std::vector<CsvRow> rows;

  bool has(const std::string& column) const { return columns.count(column) != 0; }
  // Throws ConfigError if the header lacks the column.
  void require(const std::string& column) const;
  // The raw text ("" when the column or the field is missing).
  std::string text(const CsvRow& row, const std::string& column) const;
  // The field as a number; empty, missing, nan or inf -> fallback; anything else unparsable ->
  // ConfigError.
  double number(const CsvRow& row, const std::string& column, double fallback) const;
  // "1"/"true"/"yes" -> true, "0"/"false"/"no"/"" -> false; otherwise ConfigError.
  bool boolean(const CsvRow& row, const std::string& column) const;
};

// Splits one CSV line into fields (quotes handled, surrounding '\r' dropped).
std::vector<std::string> split_csv_line(const std::string& line);

CsvFile read_csv(const std::string& path);

}  // namespace etuner::report
