// The summary tables: results.json's numbers per policy, with ratios vs `immediate`.
#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include "report/format.h"
#include "report/sections.h"

namespace etuner::report {

namespace {

using nlohmann::json;
using Cell = std::function<std::string(const json& summary)>;

struct Column {
  std::string header;
  std::string title;  // tooltip: where the number comes from
  Cell cell;
  bool text = false;  // left-aligned (numbers align right, on the decimal point)
};

std::string cell_number(const json& s, const std::string& key, int decimals, double scale = 1) {
  const auto v = number_at(s, key);
  return v ? fixed(*v * scale, decimals) : kMissing;
}

std::string cell_si(const json& s, const std::string& key) {
  const auto v = number_at(s, key);
  return v ? si(*v) : kMissing;
}

std::string cell_text(const json& s, const std::string& key) {
  const std::string t = text_at(s, key);
  return t.empty() ? kMissing : escape(t);
}

// value / baseline as "0.42×"; a zero or missing baseline has no ratio.
std::string ratio(const json& s, const json& base, const std::string& key) {
  const auto v = number_at(s, key), b = number_at(base, key);
  if (!v || !b || *b <= 0) return kMissing;
  return fixed(*v / *b, 2) + "×";
}

std::string delta_points(const json& s, const json& base) {
  const auto v = number_at(s, "avg_inference_accuracy"),
             b = number_at(base, "avg_inference_accuracy");
  if (!v || !b) return kMissing;
  const double d = (*v - *b) * 100;
  return (d > 0.05 ? "+" : d < -0.05 ? "−" : "±") + fixed(std::fabs(d), 1);
}

const Policy* find_policy(const RunData& run, const std::string& name) {
  for (const auto& p : run.policies)
    if (p.name == name) return &p;
  return nullptr;
}

// The headline numbers: accuracy and fine-tuning cost, with ratios vs the baseline.
std::vector<Column> summary_columns(const Policy* base) {
  std::vector<Column> c;
  c.push_back({"accuracy %", "avg_inference_accuracy",
               [](const json& s) { return cell_number(s, "avg_inference_accuracy", 1, 100); }});
  if (base)
    c.push_back({"Δ acc (pt)", "accuracy minus immediate's, in points",
                 [base](const json& s) { return delta_points(s, base->summary); }});
  c.push_back({"tune time s", "finetune_seconds (wall)",
               [](const json& s) { return cell_number(s, "finetune_seconds", 1); }});
  if (base)
    c.push_back({"time × imm.", "finetune_seconds / immediate's",
                 [base](const json& s) { return ratio(s, base->summary, "finetune_seconds"); }});
  c.push_back({"modeled s", "modeled_finetune_seconds on the device profile",
               [](const json& s) { return cell_number(s, "modeled_finetune_seconds", 1); }});
  c.push_back({"tune energy J", "finetune_energy_joules",
               [](const json& s) { return cell_number(s, "finetune_energy_joules", 1); }});
  if (base)
    c.push_back({"energy × imm.", "finetune_energy_joules / immediate's", [base](const json& s) {
                   return ratio(s, base->summary, "finetune_energy_joules");
                 }});
  c.push_back({"energy source", "energy_source",
               [](const json& s) { return cell_text(s, "energy_source"); }, true});
  c.push_back({"rounds", "", [](const json& s) { return cell_number(s, "rounds", 0); }});
  c.push_back({"samples", "samples_trained",
               [](const json& s) { return cell_number(s, "samples_trained", 0); }});
  return c;
}

// Everything else results.json says per policy; a second table so neither needs to scroll.
std::vector<Column> detail_columns() {
  std::vector<Column> c;
  c.push_back({"scheduler", "", [](const json& s) { return cell_text(s, "scheduler"); }, true});
  c.push_back({"freezer", "", [](const json& s) { return cell_text(s, "freezer"); }, true});
  c.push_back({"inference J", "inference_energy_joules",
               [](const json& s) { return cell_number(s, "inference_energy_joules", 1); }});
  c.push_back({"idle J", "idle_energy_joules",
               [](const json& s) { return cell_number(s, "idle_energy_joules", 1); }});
  c.push_back(
      {"train FLOPs", "train_flops", [](const json& s) { return cell_si(s, "train_flops"); }});
  c.push_back({"decision FLOPs",
               "decision_flops: forward passes run to decide (test-then-train, probes, BatchNorm "
               "adaptation)",
               [](const json& s) { return cell_si(s, "decision_flops"); }});
  c.push_back({"mean lag",
               "mean_lag_samples: labeled samples that had arrived and that the answering version "
               "had not consumed, per request",
               [](const json& s) { return cell_number(s, "mean_lag_samples", 1); }});
  c.push_back({"peak RSS MB", "peak_rss_mb",
               [](const json& s) { return cell_number(s, "peak_rss_mb", 0); }});
  c.push_back({"decision s", "decision_seconds: time spent in policy decisions",
               [](const json& s) { return cell_number(s, "decision_seconds", 2); }});
  c.push_back({"description", "",
               [](const json& s) {
                 return "<div class=\"desc\">" + cell_text(s, "description") + "</div>";
               },
               true});
  return c;
}

std::string policy_cell(const Policy& p, size_t i) {
  return "<th scope=\"row\"><span class=\"swatch\" style=\"background:" + policy_color(i) +
         "\"></span>" + escape(p.name) + "</th>";
}

std::string header_row(const std::vector<Column>& cols) {
  std::string out = "<tr><th scope=\"col\">policy</th>";
  for (const auto& c : cols)
    out += "<th scope=\"col\"" + std::string(c.text ? " class=\"text\"" : "") +
           (c.title.empty() ? "" : " title=\"" + escape(c.title) + "\"") + ">" + escape(c.header) +
           "</th>";
  return out + "</tr>";
}

std::string policy_table(const RunData& run, const std::string& id,
                         const std::vector<Column>& cols) {
  std::string out = "<div class=\"table-wrap\"><table id=\"" + id + "\"><thead>" +
                    header_row(cols) + "</thead><tbody>";
  for (size_t i = 0; i < run.policies.size(); ++i) {
    out += "<tr>" + policy_cell(run.policies[i], i);
    for (const auto& c : cols)
      out += (c.text ? "<td class=\"text\">" : "<td>") + c.cell(run.policies[i].summary) + "</td>";
    out += "</tr>";
  }
  return out + "</tbody></table></div>";
}

std::optional<double> scenario_accuracy(const Policy& p, size_t k) {
  if (!p.summary.contains("per_scenario_accuracy")) return std::nullopt;
  const auto& a = p.summary.at("per_scenario_accuracy");
  if (!a.is_array() || k >= a.size() || !a[k].is_number()) return std::nullopt;
  return a[k].get<double>();
}

// The best policy in each scenario is bold, so the table reads at a glance.
std::string scenario_cell(const RunData& run, const Policy& p, size_t k) {
  const auto v = scenario_accuracy(p, k);
  if (!v) return std::string("<td>") + kMissing + "</td>";
  double best = *v;
  for (const auto& q : run.policies) best = std::max(best, scenario_accuracy(q, k).value_or(best));
  const std::string text = fixed(*v * 100, 1);
  return *v >= best ? "<td><strong>" + text + "</strong></td>" : "<td>" + text + "</td>";
}

std::string scenario_table(const RunData& run) {
  if (run.scenarios.empty()) return "";
  std::string out =
      "<h3>Accuracy per scenario (%)</h3><div class=\"table-wrap\">"
      "<table id=\"table-scenarios\" class=\"narrow\"><thead><tr><th scope=\"col\">policy</th>";
  for (const auto& s : run.scenarios)
    out += "<th scope=\"col\" title=\"" + escape(s.shift) + "\">" +
           escape(std::to_string(s.index) + ". " + s.name) + "</th>";
  out += "</tr></thead><tbody>";
  for (size_t i = 0; i < run.policies.size(); ++i) {
    out += "<tr>" + policy_cell(run.policies[i], i);
    for (size_t k = 0; k < run.scenarios.size(); ++k) out += scenario_cell(run, run.policies[i], k);
    out += "</tr>";
  }
  return out + "</tbody></table></div>";
}

}  // namespace

std::string summary_section(const RunData& run) {
  const bool base = find_policy(run, "immediate") != nullptr;
  const std::string note =
      base ? "Ratios (×) and Δ compare each policy with immediate, the baseline."
           : "No immediate policy in this run, so no ratios.";
  return "<section id=\"summary\"><h2>Summary</h2><p class=\"note\">" + escape(note) + "</p>" +
         policy_table(run, "table-summary", summary_columns(find_policy(run, "immediate"))) +
         scenario_table(run) + "<h3>Policy details</h3>" +
         policy_table(run, "table-details", detail_columns()) + "</section>";
}

}  // namespace etuner::report
