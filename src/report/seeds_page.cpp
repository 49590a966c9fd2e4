// The page of a `bench --seeds` folder, from its seeds.json: one line per seed (each policy's
// accuracy on that timeline, with a link to the seed's own report) and the interval table
// (the paired difference to the baseline with its 95% interval, cost ratios over seeds).
#include <filesystem>
#include <initializer_list>

#include "etuner/error.h"
#include "report/format.h"
#include "report/sections.h"

namespace etuner::report {
namespace {

using nlohmann::json;

// A number inside seeds.json's nested objects, or the dash.
std::string cell(const json& v, int decimals, double scale = 1) {
  return v.is_number() ? fixed(v.get<double>() * scale, decimals) : kMissing;
}

const json& at_path(const json& j, std::initializer_list<const char*> keys) {
  static const json kNull;
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object() || !cur->contains(k)) return kNull;
    cur = &cur->at(k);
  }
  return *cur;
}

const json& per_seed_at(const json& series, size_t i) {
  static const json kNull;
  return series.is_array() && i < series.size() ? series[i] : kNull;
}

std::string seed_link(const std::string& dir, int seed) {
  const std::string rel = "seed-" + std::to_string(seed) + "/report.html";
  if (!std::filesystem::exists(std::filesystem::path(dir) / rel)) return std::to_string(seed);
  return "<a href=\"" + escape(rel) + "\">" + std::to_string(seed) + "</a>";
}

std::string per_seed_table(const json& s, const std::string& dir) {
  std::string out =
      "<section id=\"per-seed\"><h2>Per seed</h2><p class=\"note\">Accuracy (%) of every "
      "policy on each seed's timeline.</p><div class=\"table-wrap\"><table id=\"table-per-seed\" "
      "class=\"narrow\"><thead><tr><th scope=\"col\">seed</th>";
  for (const auto& [name, p] : s["policies"].items())
    out += "<th scope=\"col\">" + escape(name) + "</th>";
  out += "</tr></thead><tbody>";
  for (size_t i = 0; i < s["seeds"].size(); ++i) {
    out += "<tr><th scope=\"row\">" + seed_link(dir, s["seeds"][i].get<int>()) + "</th>";
    for (const auto& [name, p] : s["policies"].items())
      out += "<td>" +
             cell(per_seed_at(at_path(p, {"avg_inference_accuracy", "per_seed"}), i), 1, 100) +
             "</td>";
    out += "</tr>";
  }
  return out + "</tbody></table></div></section>";
}

std::string interval_text(const json& ci95) {
  if (!ci95.is_array() || ci95.size() != 2) return kMissing;
  return "[" + cell(ci95[0], 2) + ", " + cell(ci95[1], 2) + "]";
}

std::string interval_row(const std::string& name, const json& p) {
  const json& d = at_path(p, {"delta_vs_baseline_pp"});
  return "<tr><th scope=\"row\">" + escape(name) + "</th><td>" +
         cell(at_path(p, {"avg_inference_accuracy", "mean"}), 2, 100) + "</td><td>" +
         cell(at_path(d, {"mean"}), 2) + "</td><td>" + cell(at_path(d, {"sd"}), 2) + "</td><td>" +
         interval_text(at_path(d, {"ci95"})) + "</td><td>" +
         cell(at_path(p, {"ratio_vs_baseline", "finetune_seconds", "mean"}), 2) + "</td><td>" +
         cell(at_path(p, {"ratio_vs_baseline", "modeled_finetune_seconds", "mean"}), 2) +
         "</td><td>" +
         cell(at_path(p, {"ratio_vs_baseline", "finetune_energy_joules", "mean"}), 2) +
         "</td><td>" + cell(at_path(p, {"mean_lag_samples", "mean"}), 1) + "</td></tr>";
}

std::string interval_table(const json& s) {
  std::string out =
      "<section id=\"intervals\"><h2>Over seeds</h2><p class=\"note\">Δ is each policy's "
      "accuracy minus the baseline's (" +
      escape(text_at(s, "baseline")) +
      ") on the same timeline, in points, with its 95% t-interval over seeds; ratios are means "
      "of per-seed ratios to the baseline.</p><div class=\"table-wrap\"><table "
      "id=\"table-intervals\"><thead><tr><th scope=\"col\">policy</th><th "
      "scope=\"col\">accuracy %</th><th scope=\"col\">Δ pt</th><th scope=\"col\">sd</th><th "
      "scope=\"col\">95% interval</th><th scope=\"col\">time ×</th><th scope=\"col\">modeled "
      "×</th><th scope=\"col\">energy ×</th><th scope=\"col\">mean lag</th></tr></thead><tbody>";
  for (const auto& [name, p] : s["policies"].items()) out += interval_row(name, p);
  return out + "</tbody></table></div></section>";
}

}  // namespace

std::string render_seeds_html(const json& seeds, const std::string& dir) {
  if (!seeds.is_object() || !seeds.contains("policies") || !seeds["policies"].is_object() ||
      !seeds.contains("seeds") || !seeds["seeds"].is_array())
    throw ConfigError(dir + "/seeds.json: expected an object with 'seeds' and 'policies'");
  const std::string stream = text_at(seeds, "stream");
  const std::string head = "<header><h1>etuner seeds report</h1><p>" + escape(stream) + " · " +
                           std::to_string(seeds["seeds"].size()) + " seeds</p><p>" +
                           escape(text_at(seeds, "command")) + "</p></header>";
  return html_page("etuner seeds report — " + stream,
                   head + "\n" + interval_table(seeds) + "\n" + per_seed_table(seeds, dir));
}

}  // namespace etuner::report
