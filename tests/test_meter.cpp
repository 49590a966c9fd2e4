// Meter tests: fake powercap/hwmon/iio trees written to a temp dir, a fake NVML function
// table, and a fake clock, so nothing here needs root, a GPU or real RAPL.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "etuner/error.h"
#include "etuner/meter.h"

namespace {

namespace fs = std::filesystem;
using namespace etuner::meter;

constexpr std::uint64_t kRange = 262143328850;  // a real package max_energy_range_uj

// NVML as an injected table: per-device return codes and readings, and the call order.
struct FakeNvml {
  struct Device {
    int energy_rc = kNvmlSuccess;
    unsigned long long mj = 0;
    int power_rc = kNvmlSuccess;
    unsigned mw = 0;
  };
  int init_rc = kNvmlSuccess;
  std::vector<Device> devices;
  std::vector<std::string> calls;
  std::atomic<int> power_reads{0};

  NvmlApi api() {
    NvmlApi a;
    a.init_v2 = [this] {
      calls.push_back("init");
      return init_rc;
    };
    a.shutdown = [this] {
      calls.push_back("shutdown");
      return kNvmlSuccess;
    };
    a.device_get_count_v2 = [this](unsigned* n) {
      calls.push_back("count");
      *n = unsigned(devices.size());
      return kNvmlSuccess;
    };
    a.device_get_handle_by_index_v2 = [this](unsigned i, void** h) {
      *h = &devices.at(i);
      return kNvmlSuccess;
    };
    a.device_get_total_energy_consumption = [](void* h, unsigned long long* mj) {
      auto* d = static_cast<Device*>(h);
      *mj = d->mj;
      return d->energy_rc;
    };
    a.device_get_power_usage = [this](void* h, unsigned* mw) {
      ++power_reads;
      *mw = static_cast<Device*>(h)->mw;
      return static_cast<Device*>(h)->power_rc;
    };
    a.error_string = [](int rc) {
      return rc == kNvmlNotSupported ? "Not Supported" : "Driver Not Loaded";
    };
    return a;
  }
};

class MeterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("etuner-meter-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& rel, const std::string& text) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text << "\n";
  }
  void zone(const std::string& dir, const std::string& name, std::uint64_t uj,
            std::uint64_t range = kRange) {
    write("sys/class/powercap/" + dir + "/name", name);
    write("sys/class/powercap/" + dir + "/max_energy_range_uj", std::to_string(range));
    set_uj(dir, uj);
  }
  void set_uj(const std::string& dir, std::uint64_t uj) {
    write("sys/class/powercap/" + dir + "/energy_uj", std::to_string(uj));
  }
  void rail(int n, const std::string& label, int mv, int ma) {
    const std::string d = "sys/class/hwmon/hwmon0/", i = std::to_string(n);
    write(d + "name", "ina3221");
    write(d + "in" + i + "_label", label);
    write(d + "in" + i + "_input", std::to_string(mv));
    write(d + "curr" + i + "_input", std::to_string(ma));
  }

  // The real detection code on the fake tree, a fake clock and captured warnings.
  DetectOptions options() {
    DetectOptions o;
    o.sysfs_root = root_.string();
    o.nvml_library = "";
    o.sample_period_s = 0;
    o.clock = [this] { return now_s_; };
    o.warn = [this](const std::string& line) { warnings_.push_back(line); };
    return o;
  }
  DetectOptions with_nvml() {
    DetectOptions o = options();
    o.nvml = nvml_.api();
    return o;
  }
  Measurement window(
      Meter& m, double seconds, const std::function<void()>& during = [] {},
      const std::string& key = "round") {
    m.begin(key);
    during();
    now_s_ += seconds;
    return m.end(key);
  }

  const etuner::DeviceProfile& profile_ =
      etuner::device_profile("cpu-2core");  // 20 W round, 5 W idle
  fs::path root_;
  double now_s_ = 100;
  std::vector<std::string> warnings_;
  FakeNvml nvml_;
};

// --- modeled ---------------------------------------------------------------------------

TEST_F(MeterTest, ModeledIsTimeTimesProfilePowerForTheKey) {
  auto m = make_modeled(profile_);
  for (const auto& [key, w] :
       std::map<std::string, double>{{"round", 20}, {"infer", 20}, {"idle", 5}}) {
    m->begin(key);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const Measurement r = m->end(key);
    EXPECT_GT(r.time_s, 0);
    EXPECT_DOUBLE_EQ(r.energy_j, r.time_s * w) << key;
    EXPECT_EQ(r.source, "modeled");
  }
  EXPECT_THROW((void)m->end("round"), etuner::Error);
}

TEST_F(MeterTest, DetectOnEmptyTreeWithoutNvmlIsModeledAndQuiet) {
  auto m = detect(profile_, options());
  EXPECT_EQ(m->source(), "modeled");
  const Measurement r = window(*m, 3.0);
  EXPECT_EQ(r.source, "modeled");
  EXPECT_DOUBLE_EQ(r.energy_j, 60.0);
  EXPECT_TRUE(warnings_.empty());
  const auto infos = describe(profile_, options());
  ASSERT_EQ(infos.size(), 4u);
  EXPECT_EQ(infos[0].name, "jetson");
  EXPECT_EQ(infos[1].name, "nvml");
  EXPECT_EQ(infos[2].name, "rapl");
  EXPECT_EQ(infos[3].name, "modeled");
  for (size_t i = 0; i < 3; ++i) EXPECT_FALSE(infos[i].available) << infos[i].name;
  EXPECT_TRUE(infos[3].available);
}

// --- RAPL ------------------------------------------------------------------------------

TEST_F(MeterTest, RaplWindowDeltasAndPerDomainSums) {
  for (int p : {0, 1}) {
    const std::string pkg = "intel-rapl:" + std::to_string(p);
    zone(pkg, "package-" + std::to_string(p), 1000000);
    zone(pkg + ":0", "core", 500000);
    zone(pkg + ":1", "dram", 700000);
  }
  zone("intel-rapl:2", "psys", 0);
  auto m = detect(profile_, options());
  ASSERT_EQ(m->source(), "rapl");
  const Measurement r = window(*m, 2.0, [&] {
    set_uj("intel-rapl:0", 3000000);    // +2 J
    set_uj("intel-rapl:1", 2000000);    // +1 J
    set_uj("intel-rapl:0:1", 1200000);  // +0.5 J
    set_uj("intel-rapl:1:1", 950000);   // +0.25 J
    set_uj("intel-rapl:0:0", 1500000);  // inside package-0: not summed
    set_uj("intel-rapl:2", 9000000);    // contains the packages: not summed
  });
  EXPECT_EQ(r.source, "rapl");
  EXPECT_DOUBLE_EQ(r.time_s, 2.0);
  EXPECT_NEAR(r.domain_energy_j.at("package-0"), 2.0, 1e-9);
  EXPECT_NEAR(r.domain_energy_j.at("package-1"), 1.0, 1e-9);
  EXPECT_NEAR(r.domain_energy_j.at("package-0/dram"), 0.5, 1e-9);
  EXPECT_NEAR(r.domain_energy_j.at("package-1/dram"), 0.25, 1e-9);
  EXPECT_EQ(r.domain_energy_j.size(), 4u);
  EXPECT_NEAR(r.energy_j, 3.75, 1e-9);
  EXPECT_NEAR(r.component_energy_j.at("package-0/core"), 1.0, 1e-9);
  EXPECT_NEAR(r.component_energy_j.at("psys"), 9.0, 1e-9);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(MeterTest, RaplCounterWrapAround) {
  zone("intel-rapl:0", "package-0", kRange - 500000);
  auto m = detect(profile_, options());
  const Measurement r = window(*m, 2.0, [&] { set_uj("intel-rapl:0", 1500000); });
  EXPECT_NEAR(r.energy_j, 2.0, 1e-9);
}

TEST_F(MeterTest, TwoWrapsInOneWindowAreCaughtByReadsInBetween) {
  const std::uint64_t range = 10000000;  // 10 J, so wraps are easy to write down
  zone("intel-rapl:0", "package-0", 9000000, range);
  auto m = detect(profile_, options());
  m->begin("a");
  set_uj("intel-rapl:0", 1000000);  // wrapped: +2 J
  m->begin("b");                    // any read (the sampling thread's too) keeps count
  set_uj("intel-rapl:0", 500000);   // wrapped again: +9.5 J
  now_s_ += 2;
  EXPECT_NEAR(m->end("b").energy_j, 9.5, 1e-9);
  EXPECT_NEAR(m->end("a").energy_j, 11.5, 1e-9);
}

TEST_F(MeterTest, OverlappingKeysEachGetTheirOwnWindow) {
  zone("intel-rapl:0", "package-0", 0);
  auto m = detect(profile_, options());
  m->begin("idle");
  set_uj("intel-rapl:0", 1000000);
  now_s_ += 1;
  m->begin("infer");
  set_uj("intel-rapl:0", 4000000);
  now_s_ += 1;
  const Measurement infer = m->end("infer");
  const Measurement idle = m->end("idle");
  EXPECT_NEAR(infer.energy_j, 3.0, 1e-9);
  EXPECT_DOUBLE_EQ(infer.time_s, 1.0);
  EXPECT_NEAR(idle.energy_j, 4.0, 1e-9);
  EXPECT_DOUBLE_EQ(idle.time_s, 2.0);
}

TEST_F(MeterTest, RaplFamiliesAreReadOnceEach) {
  zone("intel-rapl:0", "package-0", 0);
  zone("intel-rapl-mmio:0", "package-0", 0);  // the same counter through MMIO
  zone("amd-rapl:1", "package-1", 0);
  auto m = detect(profile_, options());
  const Measurement r = window(*m, 2.0, [&] {
    set_uj("intel-rapl:0", 1000000);
    set_uj("intel-rapl-mmio:0", 1000000);
    set_uj("amd-rapl:1", 2000000);
  });
  EXPECT_EQ(r.domain_energy_j.size(), 2u);
  EXPECT_NEAR(r.energy_j, 3.0, 1e-9);
}

TEST_F(MeterTest, RootOnlyEnergyIsReportedAndWarned) {
  zone("intel-rapl:0", "package-0", 1000);
  fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  ::chmod((root_ / "sys/class/powercap/intel-rapl:0/energy_uj").c_str(), 0400);  // as Linux >= 5.10
  auto check = [this] {
    const auto infos = describe(profile_, options());
    const bool said = !infos[2].available && infos[2].status.find("root-only") != std::string::npos;
    auto m = detect(profile_, options());
    const bool warned = warnings_.size() == 1 && warnings_[0].find("rapl") != std::string::npos &&
                        warnings_[0].find("modeled") != std::string::npos;
    return said && warned && m->source() == "modeled";
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(check());
    return;
  }
  // Root reads anything: check as nobody, in a child process.
  EXPECT_EXIT(
      {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) std::_Exit(3);
        std::_Exit(check() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// --- frozen, zero and missing readings ---------------------------------------------------

TEST_F(MeterTest, FrozenCounterWarnsOnceAndFallsBackForTheRestOfTheRun) {
  zone("intel-rapl:0", "package-0", 1000000);
  auto m = detect(profile_, options());
  const Measurement r = window(
      *m, 2.0, [] {}, "idle");  // counter never moves
  EXPECT_EQ(r.source, "modeled");
  EXPECT_DOUBLE_EQ(r.energy_j, 2.0 * 5.0);
  EXPECT_NE(r.note.find("rapl"), std::string::npos);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("rapl"), std::string::npos);
  EXPECT_NE(warnings_[0].find("frozen"), std::string::npos);
  EXPECT_NE(warnings_[0].find("using modeled"), std::string::npos);
  // It stays modeled even when the counter moves again, and says nothing more.
  const Measurement next = window(*m, 1.0, [&] { set_uj("intel-rapl:0", 9000000); });
  EXPECT_EQ(next.source, "modeled");
  EXPECT_DOUBLE_EQ(next.energy_j, 20.0);
  EXPECT_EQ(m->source(), "modeled");
  EXPECT_EQ(warnings_.size(), 1u);
}

TEST_F(MeterTest, ShortWindowsAreNotJudgedFrozen) {
  zone("intel-rapl:0", "package-0", 1000000);
  auto m = detect(profile_, options());
  const Measurement r = window(*m, 0.5);  // below frozen_min_window_s (1 s)
  EXPECT_EQ(r.source, "rapl");
  EXPECT_EQ(r.energy_j, 0.0);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(MeterTest, ShortWindowsCatchACounterStillForLong) {
  zone("intel-rapl:0", "package-0", 1000000);
  auto m = detect(profile_, options());
  EXPECT_EQ(window(
                *m, 0.5, [] {}, "infer")
                .source,
            "rapl");
  now_s_ += 1.0;  // between requests; the counter has not moved since the first read
  const Measurement r = window(
      *m, 0.5, [] {}, "infer");
  EXPECT_EQ(r.source, "modeled");
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("unchanged for 2 s"), std::string::npos) << warnings_[0];
}

TEST_F(MeterTest, FrozenDomainIsDroppedWhileOthersMove) {
  zone("intel-rapl:0", "package-0", 0);
  zone("intel-rapl:0:0", "dram", 0);
  auto m = detect(profile_, options());
  const Measurement r = window(*m, 2.0, [&] { set_uj("intel-rapl:0", 4000000); });
  EXPECT_EQ(r.source, "rapl");
  EXPECT_EQ(r.domain_energy_j.count("package-0/dram"), 0u);
  EXPECT_NEAR(r.energy_j, 4.0, 1e-9);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("package-0/dram"), std::string::npos);
  window(*m, 2.0, [&] { set_uj("intel-rapl:0", 5000000); });
  EXPECT_EQ(warnings_.size(), 1u);
}

TEST_F(MeterTest, MissingReadingFallsBackWithinTheSameWindow) {
  zone("intel-rapl:0", "package-0", 0);
  auto m = detect(profile_, options());
  const Measurement r =
      window(*m, 0.25, [&] { fs::remove(root_ / "sys/class/powercap/intel-rapl:0/energy_uj"); });
  EXPECT_EQ(r.source, "modeled");
  EXPECT_DOUBLE_EQ(r.energy_j, 0.25 * 20.0);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("rapl reading failed"), std::string::npos);
}

TEST_F(MeterTest, DefaultWarningsAreStderrLinesSaidOnce) {
  zone("intel-rapl:0", "package-0", 1000000);
  DetectOptions o = options();
  o.warn = nullptr;
  ::testing::internal::CaptureStderr();
  auto m = detect(profile_, o);
  window(*m, 2.0);
  window(*m, 2.0);
  nvml_.devices = {{kNvmlNotSupported, 0, kNvmlNotSupported, 0}};
  o.nvml = nvml_.api();
  detect(profile_, o);  // a detection problem is said once per process, however often detected
  detect(profile_, o);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2) << err;
  EXPECT_EQ(err.rfind("etuner meter: rapl", 0), 0u) << err;
  EXPECT_NE(err.find("using modeled"), std::string::npos) << err;
}

// --- NVML --------------------------------------------------------------------------------

TEST_F(MeterTest, NvmlEnergyCounterInitFirstShutdownLast) {
  nvml_.devices = {{kNvmlSuccess, 1000, kNvmlSuccess, 0}, {kNvmlSuccess, 5000, kNvmlSuccess, 0}};
  {
    auto m = detect(profile_, with_nvml());
    ASSERT_EQ(m->source(), "nvml");
    const Measurement r = window(*m, 2.0, [&] {
      nvml_.devices[0].mj += 300000;
      nvml_.devices[1].mj += 100000;
    });
    EXPECT_NEAR(r.domain_energy_j.at("gpu0"), 300.0, 1e-9);
    EXPECT_NEAR(r.domain_energy_j.at("gpu1"), 100.0, 1e-9);
    EXPECT_NEAR(r.energy_j, 400.0, 1e-9);
  }
  ASSERT_FALSE(nvml_.calls.empty());
  EXPECT_EQ(nvml_.calls.front(), "init");
  EXPECT_EQ(nvml_.calls.back(), "shutdown");
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(MeterTest, NvmlPowerOnlyGpuIsIntegrated) {
  nvml_.devices = {{kNvmlNotSupported, 0, kNvmlSuccess, 100000}};  // 100 W
  auto m = detect(profile_, with_nvml());
  EXPECT_EQ(describe(profile_, with_nvml())[1].status.find("power"), 0u);
  const Measurement r = window(*m, 2.0, [&] { nvml_.devices[0].mw = 140000; });
  EXPECT_NEAR(r.energy_j, 0.5 * (100 + 140) * 2.0, 1e-9);  // trapezoid over the window
  EXPECT_EQ(r.source, "nvml");
}

TEST_F(MeterTest, NvmlNotSupportedIsUnavailableAndWarned) {
  nvml_.devices = {{kNvmlNotSupported, 0, kNvmlNotSupported, 0}};  // Jetson's iGPU
  const BackendInfo info = describe(profile_, with_nvml())[1];
  EXPECT_FALSE(info.available);
  EXPECT_NE(info.status.find("Not Supported"), std::string::npos);
  auto m = detect(profile_, with_nvml());
  EXPECT_EQ(m->source(), "modeled");
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("nvml"), std::string::npos);
  EXPECT_NE(warnings_[0].find("using modeled"), std::string::npos);
  EXPECT_EQ(nvml_.calls.back(), "shutdown");
}

TEST_F(MeterTest, NvmlInitFailureMakesNoOtherCall) {
  nvml_.init_rc = 9;
  nvml_.devices = {{}};
  EXPECT_FALSE(describe(profile_, with_nvml())[1].available);
  EXPECT_EQ(nvml_.calls, std::vector<std::string>{"init"});
}

TEST_F(MeterTest, MissingNvmlLibraryIsQuietlyAbsent) {
  DetectOptions o = options();
  o.nvml_library = "libnvidia-ml-absent-for-etuner-tests.so.1";
  const BackendInfo info = describe(profile_, o)[1];
  EXPECT_FALSE(info.available);
  EXPECT_NE(info.status.find("not found"), std::string::npos);
  EXPECT_EQ(detect(profile_, o)->source(), "modeled");
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(MeterTest, SamplingThreadIntegratesBetweenEdges) {
  nvml_.devices = {{kNvmlNotSupported, 0, kNvmlSuccess, 50000}};  // 50 W
  DetectOptions o = with_nvml();
  o.clock = nullptr;  // real time for a real thread
  o.sample_period_s = 0.005;
  auto m = detect(profile_, o);
  m->begin("round");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const Measurement r = m->end("round");
  EXPECT_GT(nvml_.power_reads.load(), 5);
  EXPECT_NEAR(r.energy_j, 50.0 * r.time_s, 0.01 * 50.0 * r.time_s);
}

// --- Jetson rails ------------------------------------------------------------------------

TEST_F(MeterTest, JetsonHwmonInputRailIsTheDomainOthersAreParts) {
  rail(1, "VDD_IN", 5000, 1000);         // 5 W
  rail(2, "VDD_CPU_GPU_CV", 5000, 400);  // 2 W
  rail(3, "VDD_SOC", 5000, 200);         // 1 W
  auto m = detect(profile_, options());
  ASSERT_EQ(m->source(), "jetson");
  const Measurement r = window(*m, 2.0, [&] { rail(1, "VDD_IN", 5000, 1400); });  // 5 W -> 7 W
  EXPECT_NEAR(r.energy_j, 12.0, 1e-9);
  EXPECT_EQ(r.domain_energy_j.size(), 1u);
  EXPECT_NEAR(r.component_energy_j.at("VDD_CPU_GPU_CV"), 4.0, 1e-9);
  EXPECT_NEAR(r.component_energy_j.at("VDD_SOC"), 2.0, 1e-9);
}

TEST_F(MeterTest, JetsonIioAndIna238RailsAreSummedWithoutAnInputRail) {
  const std::string iio = "sys/bus/iio/devices/iio:device0/";
  write(iio + "name", "ina3221x");
  write(iio + "rail_name_0", "GPU");
  write(iio + "in_power0_input", "3000");  // mW
  write(iio + "rail_name_1", "CPU");
  write(iio + "in_power1_input", "1000");
  write("sys/class/hwmon/hwmon3/name", "ina238");
  write("sys/class/hwmon/hwmon3/label", "VDD_DDR");
  write("sys/class/hwmon/hwmon3/power1_input", "500000");  // uW
  auto m = detect(profile_, options());
  const Measurement r = window(*m, 2.0);
  EXPECT_NEAR(r.domain_energy_j.at("GPU"), 6.0, 1e-9);
  EXPECT_NEAR(r.domain_energy_j.at("CPU"), 2.0, 1e-9);
  EXPECT_NEAR(r.domain_energy_j.at("VDD_DDR"), 1.0, 1e-9);
  EXPECT_NEAR(r.energy_j, 9.0, 1e-9);
}

TEST_F(MeterTest, JetsonZeroPowerIsFrozen) {
  rail(1, "VDD_IN", 5000, 0);
  auto m = detect(profile_, options());
  const Measurement r = window(*m, 2.0);
  EXPECT_EQ(r.source, "modeled");
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("jetson"), std::string::npos);
}

// --- the chain ---------------------------------------------------------------------------

TEST_F(MeterTest, FallbackOrderNvmlPlusRaplThenRaplThenModeled) {
  zone("intel-rapl:0", "package-0", 0);
  nvml_.devices = {{kNvmlSuccess, 0, kNvmlSuccess, 0}};
  auto m = detect(profile_, with_nvml());
  ASSERT_EQ(m->source(), "nvml+rapl");
  Measurement r = window(*m, 2.0, [&] {
    set_uj("intel-rapl:0", 2000000);
    nvml_.devices[0].mj = 5000;
  });
  EXPECT_EQ(r.source, "nvml+rapl");
  EXPECT_NEAR(r.energy_j, 7.0, 1e-9);
  r = window(*m, 2.0, [&] { set_uj("intel-rapl:0", 3000000); });  // the GPU counter freezes
  EXPECT_EQ(r.source, "rapl");
  EXPECT_NEAR(r.energy_j, 1.0, 1e-9);
  EXPECT_NE(r.note.find("nvml"), std::string::npos);
  r = window(
      *m, 2.0, [] {}, "idle");  // now RAPL freezes too
  EXPECT_EQ(r.source, "modeled");
  EXPECT_DOUBLE_EQ(r.energy_j, 10.0);
  ASSERT_EQ(warnings_.size(), 2u);
  EXPECT_NE(warnings_[0].find("nvml"), std::string::npos);
  EXPECT_NE(warnings_[0].find("using rapl"), std::string::npos);
  EXPECT_NE(warnings_[1].find("using modeled"), std::string::npos);
}

TEST_F(MeterTest, JetsonRailsComeFirst) {
  zone("intel-rapl:0", "package-0", 0);
  rail(1, "VDD_IN", 5000, 1000);
  EXPECT_EQ(detect(profile_, options())->source(), "jetson");
  const auto infos = describe(profile_, options());
  EXPECT_TRUE(infos[0].available);
  EXPECT_TRUE(infos[2].available);
}

}  // namespace
