// RAPL through the Linux powercap tree: /sys/class/powercap/<family>:<pkg>[:<sub>]/ with
// name, energy_uj and max_energy_range_uj. Intel and AMD (since 5.8) both appear as
// intel-rapl; amd-rapl and intel-rapl-mmio zones are used where intel-rapl lacks the name.
#include <cerrno>
#include <cstring>
#include <regex>
#include <set>

#include "etuner/error.h"
#include "meter/source.h"
#include "meter/sysfs.h"

namespace etuner::meter {
namespace {

namespace fs = std::filesystem;

// Preferred first: intel-rapl-mmio duplicates the package counter of intel-rapl:N.
const std::vector<std::string> kFamilies = {"intel-rapl", "amd-rapl", "intel-rapl-mmio"};

struct Zone {
  fs::path energy_file;
  std::uint64_t max_uj = 0;
  std::string key;      // "package-0", "package-0/dram"
  bool domain = false;  // summed into energy_j, or a component inside one
  std::uint64_t last_uj = 0;
  double total_j = 0;
};

// Energy since the last read through at most one wrap. The counter counts up to
// max_energy_range_uj and starts again at 0 (exact to one counter unit, ~61 uJ); more than
// one wrap between reads is prevented by reading often (the meter's sampling thread), as a
// wrap takes minutes even at full power.
std::uint64_t wrapped_delta_uj(std::uint64_t last, std::uint64_t now, std::uint64_t max) {
  return now >= last ? now - last : (max - last) + now;
}

class RaplSource final : public Source {
 public:
  explicit RaplSource(std::vector<Zone> zones) : zones_(std::move(zones)) {}
  std::string name() const override { return "rapl"; }

  Reading read() override {
    Reading r;
    for (auto& z : zones_) {
      const std::uint64_t now = sysfs::read_u64(z.energy_file);
      z.total_j += wrapped_delta_uj(z.last_uj, now, z.max_uj) * 1e-6;
      z.last_uj = now;
      (z.domain ? r.domains : r.components)[z.key] = z.total_j;
    }
    return r;
  }

 private:
  std::vector<Zone> zones_;
};

struct ZoneDir {
  std::string dir;     // "intel-rapl:0:1"
  std::string family;  // "intel-rapl"
  std::string parent;  // "intel-rapl:0" for a subzone, "" for a top-level zone
};

std::vector<ZoneDir> zone_dirs(const fs::path& powercap) {
  static const std::regex re("^(intel-rapl|amd-rapl|intel-rapl-mmio):([0-9]+)(:[0-9]+)?$");
  std::vector<ZoneDir> dirs;
  for (const auto& family : kFamilies)
    for (const auto& name : sysfs::list(powercap)) {
      std::smatch m;
      if (!std::regex_match(name, m, re) || m[1] != family) continue;
      dirs.push_back({name, family, m[3].matched ? family + ":" + m[2].str() : ""});
    }
  return dirs;
}

// Packages and their dram are disjoint; core/uncore sit inside the package and psys
// (the platform) contains it, so those are components, never summed.
bool is_domain(const std::string& name, bool top_level) {
  return top_level ? name != "psys" : name == "dram";
}

struct Scan {
  std::vector<Zone> zones;
  std::vector<std::string> problems;
  int denied = 0;
};

// "package-0", or "package-0/dram" for a subzone; "" when a name file is unreadable.
std::string zone_key(const fs::path& powercap, const ZoneDir& d, std::string* name) {
  if (sysfs::try_read(powercap / d.dir / "name", name) != 0) return "";
  if (d.parent.empty()) return *name;
  std::string parent;
  if (sysfs::try_read(powercap / d.parent / "name", &parent) != 0) return "";
  return parent + "/" + *name;
}

// The zone's counter and range, read once to start from; "" or what is wrong.
std::string open_zone(const fs::path& dir, Zone& z, int* err) {
  std::string energy, range;
  *err = sysfs::try_read(dir / "energy_uj", &energy);
  if (*err != 0) return dir.filename().string() + "/energy_uj: " + std::strerror(*err);
  if (sysfs::try_read(dir / "max_energy_range_uj", &range) != 0)
    return dir.filename().string() +
           "/max_energy_range_uj unreadable: wrap-around cannot be handled";
  try {
    z.max_uj = sysfs::read_u64(dir / "max_energy_range_uj");
    z.last_uj = sysfs::read_u64(dir / "energy_uj");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void add_zone(const fs::path& powercap, const ZoneDir& d, std::set<std::string>& keys, Scan& scan) {
  std::string name;
  const std::string key = zone_key(powercap, d, &name);
  if (key.empty() || !keys.insert(key).second) return;  // unnamed, or seen via a preferred family
  Zone z{powercap / d.dir / "energy_uj", 0, key, is_domain(name, d.parent.empty())};
  int err = 0;
  const std::string problem = open_zone(powercap / d.dir, z, &err);
  if (err == EACCES || err == EPERM) ++scan.denied;
  if (problem.empty())
    scan.zones.push_back(std::move(z));
  else
    scan.problems.push_back(problem);
}

Scan scan_zones(const fs::path& powercap) {
  Scan scan;
  std::set<std::string> keys;
  for (const auto& d : zone_dirs(powercap)) add_zone(powercap, d, keys, scan);
  return scan;
}

bool has_domain(const std::vector<Zone>& zones) {
  for (const auto& z : zones)
    if (z.domain) return true;
  return false;
}

void fill_info(BackendInfo& info, const std::vector<Zone>& zones) {
  info.available = true;
  info.status = "energy counters (powercap energy_uj), wrap-around handled";
  for (const auto& z : zones) (z.domain ? info.domains : info.components).push_back(z.key);
}

std::string unavailable_reason(const Scan& scan, const fs::path& powercap) {
  if (scan.denied > 0)
    return "energy_uj is root-only (Linux >= 5.10, CVE-2020-8694); docs/metering.md shows how "
           "to grant read access";
  if (scan.problems.empty())
    return "no RAPL zones under " + powercap.string() +
           " (not Intel/AMD, or a VM without powercap)";
  return scan.problems.front();
}

}  // namespace

Probe probe_rapl(const DetectOptions& options) {
  Probe p;
  p.info.name = "rapl";
  p.info.measures =
      "CPU package(s): cores, caches, uncore; DRAM where exposed. Not GPUs, disks "
      "or the rest of the board";
  const fs::path powercap = sysfs::under(options.sysfs_root, "/sys/class/powercap");
  Scan scan = scan_zones(powercap);
  if (has_domain(scan.zones)) {
    fill_info(p.info, scan.zones);
    p.source = std::make_unique<RaplSource>(std::move(scan.zones));
    return p;
  }
  p.info.status = unavailable_reason(scan, powercap);
  if (!scan.problems.empty()) p.problem = "rapl: " + p.info.status;
  return p;
}

}  // namespace etuner::meter
