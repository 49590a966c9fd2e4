// RFC 4180 fields, the one place etuner quotes and splits CSV (results files, manifests).
//
//   out << csv_field("profiled: 2 epochs, 16 replayed");   // "\"profiled: 2 epochs, 16 replayed\""
//   auto fields = split_csv_line("a,\"b,c\",\"say \"\"hi\"\"\"");  // {a, b,c, say "hi"}
//
// Lines only: a field with a line break is quoted on writing, but readers here split one
// line at a time, so nothing etuner writes holds one.
#pragma once
#include <string>
#include <vector>

namespace etuner {

// As is, or double-quoted with its quotes doubled when it holds a comma, a quote or a line
// break.
std::string csv_field(const std::string& text);

// Splits one line into fields (quotes handled, '\r' dropped).
std::vector<std::string> split_csv_line(const std::string& line);

}  // namespace etuner
