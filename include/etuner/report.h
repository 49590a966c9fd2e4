// The HTML report of a continual-learning run, built from the files `etuner bench` writes.
//
//   // DIR holds results.json, requests.csv, rounds.csv; writes DIR/report.html.
//   std::string path = etuner::report::write_report("runs/fmnist-ni");
//
//   // Step by step (to write elsewhere, or to test the page):
//   etuner::report::RunData run = etuner::report::load_run("runs/fmnist-ni");
//   std::string html = etuner::report::render_html(run);
//
// The page is one self-contained file: inline CSS and SVG drawn here, no scripts, fonts or
// other resources, so it opens offline and never touches the network. It shows, for every
// policy: inference accuracy over stream time (moving window) with scenario boundaries and
// fine-tuning rounds marked, cumulative fine-tuning time and energy, the per-block freezing
// timeline, the summary table (ratios vs `immediate`), and the run's provenance.
//
// results.json is required (IoError naming the path when missing); requests.csv and
// rounds.csv are optional (the charts that need them say so). Unknown fields and columns are
// ignored, so newer results files still render; missing optional numbers show as "—".
// See docs/report.md for the input contract.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace etuner::report {

// One scenario of the stream: [start_s, end_s) in stream time.
struct Scenario {
  int index = 0;
  std::string name;
  std::string shift;
  double severity = 0;
  double start_s = 0;
  double end_s = 0;
};

// One answered inference request (a row of requests.csv).
struct Request {
  double time_s = 0;
  int scenario = -1;
  bool correct = false;
};

// One fine-tuning round (a row of rounds.csv).
struct Round {
  int round = 0;
  double start_s = 0;
  double end_s = 0;
  int scenario = -1;
  std::string frozen_mask;  // one char per block, '1' = frozen at round end
  double wall_s = 0;
  double modeled_s = 0;
  double energy_j = 0;
};

struct Policy {
  std::string name;
  nlohmann::json summary;         // results.json policies[name], whole: the table reads it
  std::vector<Request> requests;  // in stream-time order
  std::vector<Round> rounds;      // in stream-time order
};

struct RunData {
  std::string dir;
  nlohmann::json results;  // the whole results.json (provenance reads it)
  std::vector<Scenario> scenarios;
  std::vector<Policy> policies;  // `immediate` first when present, then by name
  int num_blocks = 0;
  bool has_requests = false;  // requests.csv was found
  bool has_rounds = false;    // rounds.csv was found
};

// Reads DIR/results.json, DIR/requests.csv, DIR/rounds.csv.
// Throws IoError (results.json missing/unreadable) or ConfigError (malformed file, naming
// the file, line and column).
RunData load_run(const std::string& dir);

// The whole page as one HTML string.
std::string render_html(const RunData& run);

// The page of a `bench --seeds` folder from its seeds.json (DIR names it in errors and finds
// the seed-<S>/report.html pages to link): per-seed accuracy and the interval table.
// ConfigError when seeds.json lacks `seeds` or `policies`.
std::string render_seeds_html(const nlohmann::json& seeds, const std::string& dir);

// Loads DIR, renders it and writes out_path (default DIR/report.html). Returns the path.
// A DIR with seeds.json and no results.json (a `bench --seeds` folder) gets the seeds page.
std::string write_report(const std::string& dir, const std::string& out_path = "");

}  // namespace etuner::report
