// etuner: efficient continual fine-tuning on edge devices. `etuner --help` lists commands.
#include <spdlog/spdlog.h>

#include "commands.h"
#include "etuner/error.h"
#include "etuner/version.h"
#include "logging.h"

namespace etuner::cli {
namespace {
std::string g_command_line;
}
const std::string& command_line() { return g_command_line; }
}  // namespace etuner::cli

int main(int argc, char** argv) {
  etuner::cli::setup_logging({});  // stderr from the start; the flags may change it
  for (int i = 0; i < argc; ++i)
    etuner::cli::g_command_line += (i ? " " : "") + std::string(argv[i]);
  CLI::App app{"etuner: efficient continual fine-tuning on edge devices"};
  app.set_version_flag("--version", etuner::version() + " (" + etuner::git_describe() + ")");
  app.require_subcommand(1);
  app.fallthrough();  // --log-level and --log-format also after the subcommand's name
  etuner::cli::LogOptions log;
  etuner::cli::add_log_options(app, log);
  // Before any subcommand callback runs, so their progress and messages use it.
  app.parse_complete_callback([&log] { etuner::cli::setup_logging(log); });
  etuner::cli::add_bench_command(app);
  etuner::cli::add_pretrain_command(app);
  etuner::cli::add_meters_command(app);
  etuner::cli::add_report_command(app);
#ifndef ETUNER_NO_SERVE  // built without serve (-DETUNER_SERVE=OFF, scripts/gpu-bench.sh)
  etuner::cli::add_serve_command(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const etuner::Error& e) {
    spdlog::error("etuner: {}", e.what());
    return etuner::exit_code(e);
  } catch (const std::exception& e) {
    spdlog::error("etuner: internal error: {}", e.what());
    return 1;
  }
  return 0;
}
