// Jetson on-board power monitors: INA3221 (3 rails per chip) through hwmon
// (in<N>_input mV x curr<N>_input mA, label in<N>_label) or the older iio driver
// (in_power<N>_input mW, label rail_name_<N>), and INA238 through hwmon (power1_input uW,
// label power1_label or the chip's label file). They report power, not energy, so the
// meter's thread samples them and the source integrates.
#include <optional>
#include <set>

#include "etuner/error.h"
#include "meter/source.h"
#include "meter/sysfs.h"

namespace etuner::meter {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> kHwmonChips = {"ina3221", "ina238"};
// The rail feeding the whole module: when present it is the one domain, and the other rails
// (which it already contains) are components.
const std::set<std::string> kTotalRails = {"VDD_IN", "POM_5V_IN", "VIN"};

struct Rail {
  std::string label;
  fs::path power_file;  // read x scale_w, or else volt_file (mV) x curr_file (mA)
  double scale_w = 0;
  fs::path volt_file, curr_file;
};

double rail_power_w(const Rail& r) {
  if (!r.power_file.empty()) return sysfs::read_number(r.power_file) * r.scale_w;
  return sysfs::read_number(r.volt_file) * sysfs::read_number(r.curr_file) * 1e-6;
}

class JetsonSource final : public Source {
 public:
  JetsonSource(std::vector<Rail> rails, std::set<std::string> domains, Clock clock)
      : rails_(std::move(rails)), domains_(std::move(domains)), clock_(std::move(clock)) {
    read();
  }
  std::string name() const override { return "jetson"; }

  Reading read() override {
    Watts power;
    for (const auto& r : rails_) power[r.label] = rail_power_w(r);
    integral_.add(clock_(), power);
    Reading out;
    for (const auto& [label, j] : integral_.energy_j())
      (domains_.count(label) ? out.domains : out.components)[label] = j;
    return out;
  }

 private:
  std::vector<Rail> rails_;
  std::set<std::string> domains_;
  Clock clock_;
  PowerIntegral integral_;
};

std::string first_label(const fs::path& dir, const std::vector<std::string>& files) {
  std::string label;
  for (const auto& f : files)
    if (sysfs::try_read(dir / f, &label) == 0 && !label.empty()) return label;
  return "";
}

// One hwmon channel as a rail, or nullopt when the channel is absent or disabled.
std::optional<Rail> hwmon_rail(const fs::path& dir, const std::string& chip, int n) {
  const std::string i = std::to_string(n);
  std::string enabled;
  if (sysfs::try_read(dir / ("in" + i + "_enable"), &enabled) == 0 && enabled == "0")
    return std::nullopt;
  Rail r;
  if (sysfs::exists(dir / ("power" + i + "_input"))) {
    r.power_file = dir / ("power" + i + "_input");
    r.scale_w = 1e-6;
  } else if (sysfs::exists(dir / ("in" + i + "_input")) &&
             sysfs::exists(dir / ("curr" + i + "_input"))) {
    r.volt_file = dir / ("in" + i + "_input");
    r.curr_file = dir / ("curr" + i + "_input");
  } else {
    return std::nullopt;
  }
  r.label = first_label(dir, {"power" + i + "_label", "in" + i + "_label", "curr" + i + "_label"});
  if (r.label.empty() && chip == "ina238") r.label = first_label(dir, {"label"});
  if (r.label.empty()) r.label = chip + "-" + dir.filename().string() + "-" + i;
  return r;
}

void scan_hwmon(const fs::path& hwmon, std::vector<Rail>& rails) {
  for (const auto& name : sysfs::list(hwmon)) {
    std::string chip;
    if (sysfs::try_read(hwmon / name / "name", &chip) != 0 || !kHwmonChips.count(chip)) continue;
    for (int n = 1; n <= 3; ++n)  // in1..in3 are bus voltages; ina3221's in4..in6 are shunts
      if (auto r = hwmon_rail(hwmon / name, chip, n)) rails.push_back(*r);
  }
}

void scan_iio(const fs::path& iio, std::vector<Rail>& rails) {
  for (const auto& name : sysfs::list(iio)) {
    const fs::path dir = iio / name;
    std::string chip;
    if (sysfs::try_read(dir / "name", &chip) != 0 || chip.find("ina3221") == std::string::npos)
      continue;
    for (int n = 0; n < 3; ++n) {
      const std::string i = std::to_string(n);
      if (!sysfs::exists(dir / ("in_power" + i + "_input"))) continue;
      Rail r{first_label(dir, {"rail_name_" + i}), dir / ("in_power" + i + "_input"), 1e-3, {}, {}};
      if (r.label.empty()) r.label = chip + "-" + name + "-" + i;
      rails.push_back(r);
    }
  }
}

// Unconnected channels ("NC" on AGX Orin) and rails that cannot be read are left out.
std::vector<Rail> usable(std::vector<Rail> rails, std::vector<std::string>& problems) {
  std::vector<Rail> out;
  std::set<std::string> seen;
  for (auto& r : rails) {
    if (r.label == "NC" || !seen.insert(r.label).second) continue;
    try {
      rail_power_w(r);
      out.push_back(std::move(r));
    } catch (const Error& e) {
      problems.push_back(e.what());
    }
  }
  return out;
}

std::set<std::string> domain_rails(const std::vector<Rail>& rails) {
  for (const auto& r : rails)
    if (kTotalRails.count(r.label)) return {r.label};
  std::set<std::string> all;
  for (const auto& r : rails) all.insert(r.label);
  return all;
}

void fill_info(BackendInfo& info, const std::vector<Rail>& rails,
               const std::set<std::string>& domains) {
  info.available = true;
  info.status = "power rails sampled and integrated";
  for (const auto& r : rails)
    (domains.count(r.label) ? info.domains : info.components).push_back(r.label);
  info.measures =
      domains.size() == 1 && kTotalRails.count(*domains.begin())
          ? "the whole module at its input rail " + *domains.begin() +
                "; other rails shown as parts"
          : "the listed rails only (no module input rail found): anything not on them is missed";
}

}  // namespace

Probe probe_jetson(const DetectOptions& options, const Clock& clock) {
  Probe p;
  p.info.name = "jetson";
  p.info.measures = "on-board INA3221/INA238 power rails (Jetson): the module input and its parts";
  std::vector<Rail> found;
  scan_hwmon(sysfs::under(options.sysfs_root, "/sys/class/hwmon"), found);
  scan_iio(sysfs::under(options.sysfs_root, "/sys/bus/iio/devices"), found);
  std::vector<std::string> problems;
  std::vector<Rail> rails = usable(std::move(found), problems);
  if (rails.empty()) {
    p.info.status =
        problems.empty() ? "no INA3221/INA238 power monitors in hwmon or iio" : problems.front();
    if (!problems.empty()) p.problem = "jetson: " + p.info.status;
    return p;
  }
  std::set<std::string> domains = domain_rails(rails);
  fill_info(p.info, rails, domains);
  p.source = std::make_unique<JetsonSource>(std::move(rails), std::move(domains), clock);
  return p;
}

}  // namespace etuner::meter
