// Results files: results.json (summary per policy, with provenance), requests.csv (one row
// per answered request) and rounds.csv (one row per round). docs/schema/results.schema.json
// is results.json's schema; the CSVs follow RFC 4180 (a field with a comma, quote or line
// break is double-quoted, its quotes doubled).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "etuner/stream.h"
#include "harness/replay.h"

namespace etuner::harness {

// Bumped when a field of results.json is renamed, removed or changes meaning (adding one
// does not bump it: readers ignore unknown fields).
inline constexpr int kResultsSchemaVersion = 1;

struct RunContext {
  std::string command;
  std::string device;
  int threads = 0;
  std::string model_name;
  int num_blocks = 0;
};

nlohmann::json policy_summary(const PolicyRun& run, const stream::StreamSpec& spec,
                              const stream::Timeline& tl, const std::string& energy_source);

nlohmann::json results_json(const stream::StreamSpec& spec, const stream::Timeline& tl,
                            const RunContext& ctx, const nlohmann::json& policies);

void write_requests_csv(const std::string& path, const std::vector<PolicyRun>& runs);
void write_rounds_csv(const std::string& path, const std::vector<PolicyRun>& runs);

}  // namespace etuner::harness
