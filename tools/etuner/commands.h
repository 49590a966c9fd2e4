// The CLI's subcommands: one file each, registered in main.cpp's table.
//
// Each add_*_command adds a CLI11 subcommand whose callback does the work. Errors are
// exceptions (etuner::Error and its kinds); main.cpp alone turns them into a message on
// stderr and exit code 2.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

namespace etuner::cli {

// The command line as typed, recorded in results files for provenance.
const std::string& command_line();

void add_bench_command(CLI::App& app);
void add_pretrain_command(CLI::App& app);
void add_meters_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_serve_command(CLI::App& app);

}  // namespace etuner::cli
