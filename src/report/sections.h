// The report page's sections, each one HTML fragment built from RunData (page.cpp joins them).
#pragma once
#include <string>
#include <vector>

#include "etuner/report.h"
#include "report/svg.h"

namespace etuner::report {

// The stream's end: the last scenario end, request or round, whichever is latest.
double stream_end(const RunData& run);

// Scenario spans for the charts' background.
std::vector<svg::Band> scenario_bands(const RunData& run);

// Requests per moving-window point: 100, fewer for tiny runs so their lines still move.
size_t accuracy_window(const RunData& run);

// <figure> with a caption around a chart.
std::string figure(const std::string& title, const std::string& note, const std::string& chart);

std::string accuracy_section(const RunData& run);    // #chart-accuracy
std::string cost_section(const RunData& run);        // #chart-time, #chart-energy
std::string freeze_section(const RunData& run);      // #chart-freeze-<policy>
std::string summary_section(const RunData& run);     // #table-summary, #table-scenarios
std::string provenance_section(const RunData& run);  // #provenance

// A whole page around `body`: the doctype, the title and the shared CSS.
std::string html_page(const std::string& title, const std::string& body);

}  // namespace etuner::report
