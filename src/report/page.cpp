// Page assembly: the CSS, the header and the sections, and writing report.html.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "etuner/error.h"
#include "etuner/fields.h"
#include "etuner/report.h"
#include "report/format.h"
#include "report/sections.h"

namespace etuner::report {

namespace {

// System fonts only: a web font would be a network request (or a large embedded file).
constexpr char kStyle[] = R"CSS(
:root{color-scheme:light;--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--panel:#f9fafb}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#f3f4f6}
main{max-width:1080px;margin:0 auto;padding:28px 24px 48px}
header h1{font-size:26px;margin:0;letter-spacing:-.01em}
header p{color:var(--muted);margin:4px 0 0}
nav{margin-top:10px;font-size:14px}
nav a{margin-right:14px;color:#2563eb;text-decoration:none}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:18px 22px;margin:20px 0}
h2{font-size:19px;margin:0 0 10px}
h3{font-size:15px;margin:20px 0 8px}
figure{margin:10px 0 18px}
figcaption strong{display:block;font-size:15px}
figcaption span{color:var(--muted);font-size:13px}
svg.chart{width:100%;height:auto;display:block;margin-top:6px}
svg text{font-family:inherit;font-size:12px;fill:#374151}
svg .tick{font-size:11px;fill:#6b7280}
svg .mark-label{font-size:10px;fill:#6b7280}
svg .scenario{font-size:11px;fill:#4b5563;font-style:italic}
svg .empty{font-size:14px;fill:#9ca3af}
.grid{stroke:#edf0f3;stroke-width:1}
.axis{stroke:#9ca3af;stroke-width:1}
.band{fill:#1f2937;fill-opacity:.045}
.boundary{stroke:#6b7280;stroke-width:1;stroke-dasharray:5 4}
.series{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
.legend-swatch{stroke-width:4;stroke-linecap:round}
.mark-bg{fill:#f3f4f6}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{padding:6px 7px;border-bottom:1px solid var(--line);text-align:right;font-variant-numeric:tabular-nums}
td{white-space:nowrap}
thead th{font-weight:600;font-size:12px;color:#374151;background:var(--panel);border-bottom:2px solid var(--line);vertical-align:bottom}
th[scope=row],thead th:first-child,th.text,td.text,table.compact th,table.compact td{text-align:left}
table.narrow,table.compact{width:auto}
table.narrow td,table.narrow thead th{min-width:120px}
table.compact td,table.compact th{padding-right:22px}
th[scope=row]{white-space:nowrap;font-weight:600}
.desc{color:var(--muted);white-space:normal;text-align:left;min-width:220px;max-width:420px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.note{color:var(--muted);font-size:13px;margin:4px 0 10px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:5px 18px;margin:0;font-size:14px}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
.kv{display:inline-block;margin-right:12px}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;max-height:420px}
details{margin-top:14px}
summary{cursor:pointer;font-weight:600;font-size:14px}
)CSS";

std::string subtitle(const RunData& run) {
  std::string out;
  for (const char* key : {"stream", "model", "device_profile", "created_utc"}) {
    const std::string v = text_at(run.results, key);
    if (!v.empty()) out += (out.empty() ? "" : " · ") + v;
  }
  return out;
}

std::string header(const RunData& run) {
  const std::string stats = std::to_string(run.policies.size()) + " policies, " +
                            std::to_string(run.scenarios.size()) + " scenarios, " +
                            fixed(stream_end(run), 0) + " s of stream";
  return "<header><h1>etuner run report</h1><p>" + escape(subtitle(run)) + "</p><p>" +
         escape(stats) +
         "</p><nav><a href=\"#summary\">Summary</a><a href=\"#accuracy\">Accuracy</a><a "
         "href=\"#cost\">Cost</a>"
         "<a href=\"#freezing\">Freezing</a><a href=\"#provenance\">Provenance</a></nav></header>";
}

std::string title(const RunData& run) {
  const std::string s = text_at(run.results, "stream"), m = text_at(run.results, "model");
  return "etuner report" + (s.empty() ? "" : " — " + s) + (m.empty() ? "" : " / " + m);
}

// Written to a temp file and renamed, so a browser never sees a half-written page.
void write_page(const std::string& path, const std::string& html) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out)
      throw IoError(tmp +
                    ": cannot write the report (does the directory exist and is it writable?)");
    out << html;
    if (!out) throw IoError(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw IoError(path + ": cannot rename " + tmp + " into place");
}

}  // namespace

std::string html_page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>" +
         escape(title) + "</title><style>" + kStyle + "</style></head>\n<body><main>" + body +
         "\n</main></body></html>\n";
}

std::string render_html(const RunData& run) {
  return html_page(title(run), header(run) + "\n" + summary_section(run) + "\n" +
                                   accuracy_section(run) + "\n" + cost_section(run) + "\n" +
                                   freeze_section(run) + "\n" + provenance_section(run));
}

// A --seeds folder has seeds.json and no results.json of its own: it gets the seeds page.
std::string write_report(const std::string& dir, const std::string& out_path) {
  namespace fs = std::filesystem;
  const std::string path = out_path.empty() ? (fs::path(dir) / "report.html").string() : out_path;
  const auto seeds = fs::path(dir) / "seeds.json";
  if (!fs::exists(fs::path(dir) / "results.json") && fs::exists(seeds))
    write_page(path, render_seeds_html(read_json_file(seeds.string()), dir));
  else
    write_page(path, render_html(load_run(dir)));
  return path;
}

}  // namespace etuner::report
