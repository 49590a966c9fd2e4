// etuner: efficient continual fine-tuning on edge devices. `etuner --help` lists commands.
#include <iostream>

#include "commands.h"
#include "etuner/error.h"
#include "etuner/version.h"

namespace etuner::cli {
namespace {
std::string g_command_line;
}
const std::string& command_line() { return g_command_line; }
}  // namespace etuner::cli

int main(int argc, char** argv) {
  for (int i = 0; i < argc; ++i)
    etuner::cli::g_command_line += (i ? " " : "") + std::string(argv[i]);
  CLI::App app{"etuner: efficient continual fine-tuning on edge devices"};
  app.set_version_flag("--version", etuner::version() + " (" + etuner::git_describe() + ")");
  app.require_subcommand(1);
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
    return rc == 0 ? etuner::kExitOk : etuner::kExitUsage;
  } catch (const etuner::Error& e) {
    std::cerr << "etuner: " << e.kind() << " error: " << e.what() << "\n";
    return etuner::exit_code(e);
  } catch (const std::exception& e) {
    std::cerr << "etuner: internal error: " << e.what() << "\n";
    return etuner::kExitInternal;
  }
  return etuner::kExitOk;
}
