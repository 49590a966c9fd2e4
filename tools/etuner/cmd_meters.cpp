// `etuner meters [--device-profile NAME] [--sysfs-root DIR] [--window-s S]`: what this
// machine can measure, what each backend covers, and which one `detect` picks.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>
#include <thread>

#include "commands.h"
#include "etuner/device_profile.h"
#include "etuner/meter.h"

namespace etuner::cli {

namespace {

struct MetersOptions {
  std::string profile = "cpu-2core";
  std::string sysfs_root = "/";
  double window_s = 0;
};

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "-" : out;
}

std::string domains(const meter::BackendInfo& b) {
  std::string d = join(b.domains);
  return b.components.empty() ? d : d + " (parts: " + join(b.components) + ")";
}

std::string status(const meter::BackendInfo& b) {
  return (b.available ? "available: " : "unavailable: ") + b.status;
}

using Row = std::vector<std::string>;

void print_table(const std::vector<Row>& rows) {
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  for (const auto& r : rows) {
    for (size_t c = 0; c + 1 < r.size(); ++c)
      std::cout << r[c] << std::string(width[c] + 2 - r[c].size(), ' ');
    std::cout << r.back() << "\n";  // the last column is long prose: no padding
  }
}

// A short idle window through the chosen meter: shows the numbers are live, and trips the
// frozen-counter check when the window is long enough.
// The window's wall-clock bounds are printed so that an outside power log (nvidia-smi, a
// wall meter) can be integrated over the same interval: scripts/gpu-bench.sh does that.
double unix_now() {
  using clock = std::chrono::system_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

void sample(meter::Meter& m, double window_s) {
  const double t0 = unix_now();
  m.begin("idle");
  std::this_thread::sleep_for(std::chrono::duration<double>(window_s));
  const meter::Measurement r = m.end("idle");
  const double t1 = unix_now();
  std::cout << "idle window: " << r.time_s << " s, " << r.energy_j << " J (" << r.source << ")\n";
  std::cout << std::fixed << std::setprecision(3) << "  wall clock: unix " << t0 << " .. " << t1
            << std::defaultfloat << "\n";
  std::cout << std::fixed << std::setprecision(3);
  for (const auto& [d, j] : r.domain_energy_j) std::cout << "  " << d << ": " << j << " J\n";
  for (const auto& [d, j] : r.component_energy_j)
    std::cout << "  " << d << ": " << j << " J (part)\n";
  std::cout << std::defaultfloat;
  if (!r.note.empty()) std::cout << "  note: " << r.note << "\n";
}

void run(const MetersOptions& opts) {
  const DeviceProfile& profile = device_profile(opts.profile);
  meter::DetectOptions detect_opts;
  detect_opts.sysfs_root = opts.sysfs_root;
  std::vector<Row> rows = {{"backend", "status", "domains", "measures"}};
  for (const auto& b : meter::describe(profile, detect_opts))
    rows.push_back({b.name, status(b), domains(b), b.measures});
  print_table(rows);
  const auto chosen = meter::detect(profile, detect_opts);
  std::cout << "\ndetect chooses: " << chosen->source() << "\n";
  if (opts.window_s > 0) sample(*chosen, opts.window_s);
}

}  // namespace

void add_meters_command(CLI::App& app) {
  auto opts = std::make_shared<MetersOptions>();
  auto* cmd = app.add_subcommand("meters",
                                 "List the energy meters detected on this machine, what each "
                                 "measures, and which one runs use");
  cmd->add_option("--device-profile", opts->profile, "Device profile for the modeled meter")
      ->capture_default_str();
  cmd->add_option("--sysfs-root", opts->sysfs_root, "Root above /sys (a copied or fake tree)")
      ->capture_default_str();
  cmd->add_option("--window-s", opts->window_s, "Also measure an idle window this long (0: don't)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([opts] { run(*opts); });
}

}  // namespace etuner::cli
