// Provenance: what was run, on what, by which build, with which command. A results file
// without its context cannot be compared or reproduced, so the page carries all of it.
#include "etuner/version.h"
#include "report/format.h"
#include "report/sections.h"

namespace etuner::report {

namespace {

using nlohmann::json;

std::string row(const std::string& key, const std::string& value_html) {
  return "<dt>" + escape(key) + "</dt><dd>" + value_html + "</dd>";
}

std::string text_or_missing(const json& obj, const std::string& key) {
  const std::string t = text_at(obj, key);
  return t.empty() ? kMissing : escape(t);
}

std::string version_text(const json& results) {
  const std::string v = text_at(results, "etuner_version"), git = text_at(results, "git");
  if (v.empty() && git.empty()) return kMissing;
  return escape(v.empty() ? git : git.empty() ? v : v + " (" + git + ")");
}

// Every machine field, known or not: a new field written by bench shows up here unchanged.
std::string machine_text(const json& results) {
  if (!results.contains("machine") || !results.at("machine").is_object()) return kMissing;
  std::string out;
  for (const auto& [key, value] : results.at("machine").items()) {
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    out += "<span class=\"kv\">" + escape(key) + ": " + escape(text) + "</span> ";
  }
  return out.empty() ? kMissing : out;
}

std::string scenario_rows(const RunData& run) {
  std::string out;
  for (const auto& s : run.scenarios)
    out += "<tr><td>" + std::to_string(s.index) + "</td><td>" + escape(s.name) + "</td><td>" +
           escape(s.shift) + "</td><td>" + fixed(s.severity, 2, true) + "</td><td>" +
           fixed(s.start_s, 1) + "</td><td>" + fixed(s.end_s, 1) + "</td></tr>";
  return out;
}

std::string scenario_table(const RunData& run) {
  if (run.scenarios.empty()) return "";
  return "<h3>Scenarios</h3><div class=\"table-wrap\"><table "
         "class=\"compact\"><thead><tr><th>#</th><th>name</th>"
         "<th>shift</th><th>severity</th><th>start s</th><th>end s</th></tr></thead><tbody>" +
         scenario_rows(run) + "</tbody></table></div>";
}

std::string spec_block(const json& results) {
  if (!results.contains("spec")) return "";
  return "<details><summary>Stream spec (JSON)</summary><pre>" +
         escape(results.at("spec").dump(2)) + "</pre></details>";
}

}  // namespace

std::string provenance_section(const RunData& run) {
  const json& r = run.results;
  std::string dl = row("stream", text_or_missing(r, "stream")) +
                   row("model", text_or_missing(r, "model")) +
                   row("protocol", text_or_missing(r, "protocol")) +
                   row("device profile", text_or_missing(r, "device_profile")) +
                   row("blocks", run.num_blocks > 0 ? std::to_string(run.num_blocks) : kMissing) +
                   row("machine", machine_text(r)) + row("etuner version", version_text(r)) +
                   row("created (UTC)", text_or_missing(r, "created_utc")) +
                   row("command", "<code>" + text_or_missing(r, "command") + "</code>") +
                   row("results directory", "<code>" + escape(run.dir) + "</code>");
  return "<section id=\"provenance\"><h2>Provenance</h2><dl>" + dl + "</dl>" + scenario_table(run) +
         spec_block(r) + "<p class=\"note\">Report rendered by etuner " + escape(version()) +
         ".</p></section>";
}

}  // namespace etuner::report
