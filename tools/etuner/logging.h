// The CLI's log: spdlog on stderr with levels and timestamps, as text or JSON lines.
//
//   etuner --log-level debug bench ...      // trace, debug, info (default), warn, error, off
//   etuner --log-format json bench ...      // {"time":"...","level":"info","msg":"..."} per line
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace etuner::cli {

struct LogOptions {
  std::string level = "info";
  std::string format = "text";  // text | json
};

// Adds --log-level and --log-format to the app; they apply to every subcommand.
void add_log_options(CLI::App& app, LogOptions& o);

// Installs the stderr logger. ConfigError for an unknown level or format.
void setup_logging(const LogOptions& o);

}  // namespace etuner::cli
