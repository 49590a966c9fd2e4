// `etuner report DIR [--out FILE]`: renders DIR/report.html from a run's results files.
#include <iostream>
#include <memory>

#include "commands.h"
#include "etuner/report.h"

namespace etuner::cli {

namespace {

struct ReportOptions {
  std::string dir;
  std::string out;
};

}  // namespace

void add_report_command(CLI::App& app) {
  auto opts = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand("report",
                                 "Render a run's results (results.json, requests.csv, rounds.csv) "
                                 "as one self-contained HTML page");
  cmd->add_option("DIR", opts->dir, "Run directory written by `etuner bench` (or a --seeds folder)")
      ->required();
  cmd->add_option("--out,-o", opts->out, "Output file (default: DIR/report.html)");
  cmd->callback(
      [opts] { std::cout << etuner::report::write_report(opts->dir, opts->out) << "\n"; });
}

}  // namespace etuner::cli
