// Reading a run directory into RunData. Lenient by design: the report must render results
// files from older and newer etuner versions, so unknown fields and columns are ignored and
// only what a chart cannot do without is required.
#include <algorithm>
#include <filesystem>
#include <map>

#include "etuner/error.h"
#include "etuner/fields.h"
#include "etuner/report.h"
#include "report/csv.h"
#include "report/format.h"

namespace etuner::report {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

double number_or(const json& obj, const std::string& key, double fallback) {
  return number_at(obj, key).value_or(fallback);
}

std::vector<Scenario> read_scenarios(const json& results) {
  std::vector<Scenario> out;
  if (!results.contains("scenarios") || !results.at("scenarios").is_array()) return out;
  for (const auto& s : results.at("scenarios")) {
    Scenario sc;
    sc.index = static_cast<int>(number_or(s, "index", static_cast<double>(out.size())));
    sc.name = text_at(s, "name");
    sc.shift = text_at(s, "shift");
    sc.severity = number_or(s, "severity", 0);
    sc.start_s = number_or(s, "start_s", 0);
    sc.end_s = number_or(s, "end_s", sc.start_s);
    out.push_back(sc);
  }
  return out;
}

// `immediate` first (the baseline every ratio refers to), then by name.
std::vector<Policy> read_policies(const json& results, const std::string& path) {
  if (!results.contains("policies") || !results.at("policies").is_object())
    throw ConfigError(path + ": policies: required object is missing");
  std::vector<Policy> out;
  for (const auto& [name, summary] : results.at("policies").items())
    out.push_back({name, summary, {}, {}});
  std::stable_sort(out.begin(), out.end(), [](const Policy& a, const Policy& b) {
    if ((a.name == "immediate") != (b.name == "immediate")) return a.name == "immediate";
    return a.name < b.name;
  });
  return out;
}

std::map<std::string, Policy*> by_name(std::vector<Policy>& policies) {
  std::map<std::string, Policy*> out;
  for (auto& p : policies) out[p.name] = &p;
  return out;
}

void read_requests(const std::string& path, std::vector<Policy>& policies) {
  const CsvFile f = read_csv(path);
  f.require("policy");
  f.require("time_s");
  f.require("correct");
  auto index = by_name(policies);
  for (const auto& row : f.rows) {
    const auto it = index.find(f.text(row, "policy"));
    if (it == index.end()) continue;  // a policy results.json does not list: not part of the run
    if (f.text(row, "correct").empty()) continue;  // an unlabeled request: answered, not scored
    it->second->requests.push_back({f.number(row, "time_s", 0),
                                    static_cast<int>(f.number(row, "scenario", -1)),
                                    f.boolean(row, "correct")});
  }
  for (auto& p : policies)
    std::stable_sort(p.requests.begin(), p.requests.end(),
                     [](const Request& a, const Request& b) { return a.time_s < b.time_s; });
}

// Older files may carry only frozen_prefix (the first k blocks frozen).
std::string mask_of(const CsvFile& f, const CsvRow& row, int num_blocks) {
  if (f.has("frozen_mask")) return f.text(row, "frozen_mask");
  const int prefix = static_cast<int>(f.number(row, "frozen_prefix", 0));
  std::string mask(static_cast<size_t>(std::max(num_blocks, prefix)), '0');
  std::fill_n(mask.begin(), std::max(prefix, 0), '1');
  return mask;
}

Round read_round(const CsvFile& f, const CsvRow& row, int num_blocks) {
  Round r;
  r.round = static_cast<int>(f.number(row, "round", 0));
  r.end_s = f.number(row, "end_s", 0);
  r.start_s = f.number(row, "start_s", r.end_s);
  r.scenario = static_cast<int>(f.number(row, "scenario", -1));
  r.frozen_mask = mask_of(f, row, num_blocks);
  r.wall_s = f.number(row, "wall_s", 0);
  r.modeled_s = f.number(row, "modeled_s", 0);
  r.energy_j = f.number(row, "energy_j", 0);
  return r;
}

void read_rounds(const std::string& path, RunData& run) {
  const CsvFile f = read_csv(path);
  f.require("policy");
  f.require("end_s");
  auto index = by_name(run.policies);
  for (const auto& row : f.rows) {
    const auto it = index.find(f.text(row, "policy"));
    if (it != index.end()) it->second->rounds.push_back(read_round(f, row, run.num_blocks));
  }
  for (auto& p : run.policies) {
    std::stable_sort(p.rounds.begin(), p.rounds.end(),
                     [](const Round& a, const Round& b) { return a.start_s < b.start_s; });
    for (const auto& r : p.rounds)
      run.num_blocks = std::max(run.num_blocks, static_cast<int>(r.frozen_mask.size()));
  }
}

}  // namespace

RunData load_run(const std::string& dir) {
  RunData run;
  run.dir = dir;
  const std::string results_path = (fs::path(dir) / "results.json").string();
  if (!fs::exists(results_path))
    throw IoError(results_path + ": no results file (run `etuner bench` to write one into " + dir +
                  ")");
  run.results = read_json_file(results_path);
  if (!run.results.is_object()) throw ConfigError(results_path + ": expected a JSON object");
  run.scenarios = read_scenarios(run.results);
  run.policies = read_policies(run.results, results_path);
  run.num_blocks = static_cast<int>(number_or(run.results, "num_blocks", 0));
  const auto requests = fs::path(dir) / "requests.csv";
  const auto rounds = fs::path(dir) / "rounds.csv";
  run.has_requests = fs::exists(requests);
  run.has_rounds = fs::exists(rounds);
  if (run.has_requests) read_requests(requests.string(), run.policies);
  if (run.has_rounds) read_rounds(rounds.string(), run);
  return run;
}

}  // namespace etuner::report
