// NVML, loaded at run time: dlopen(libnvidia-ml.so.1), so etuner builds and runs without the
// NVIDIA driver. Per GPU: the total-energy counter (mJ, Volta and later) where it exists,
// else power usage (mW) sampled by the meter's thread and integrated.
#include <dlfcn.h>

#include "etuner/error.h"
#include "meter/source.h"

namespace etuner::meter {
namespace {

struct LibraryCloser {
  void operator()(void* handle) const { dlclose(handle); }
};
using Library = std::unique_ptr<void, LibraryCloser>;

// nvmlDevice_t is a pointer to an opaque struct and nvmlReturn_t an int-sized enum, so the
// table's void* / int signatures call the same ABI as NVML's own prototypes.
template <class Fn>
Fn* symbol(void* lib, const char* name) {
  void* f = dlsym(lib, name);
  if (!f) throw DeviceError(std::string("symbol ") + name + " missing (driver too old?)");
  return reinterpret_cast<Fn*>(f);
}

NvmlApi bind(void* lib) {
  NvmlApi api;
  api.init_v2 = symbol<int()>(lib, "nvmlInit_v2");
  api.shutdown = symbol<int()>(lib, "nvmlShutdown");
  api.device_get_count_v2 = symbol<int(unsigned*)>(lib, "nvmlDeviceGetCount_v2");
  api.device_get_handle_by_index_v2 =
      symbol<int(unsigned, void**)>(lib, "nvmlDeviceGetHandleByIndex_v2");
  api.device_get_total_energy_consumption =
      symbol<int(void*, unsigned long long*)>(lib, "nvmlDeviceGetTotalEnergyConsumption");
  api.device_get_power_usage = symbol<int(void*, unsigned*)>(lib, "nvmlDeviceGetPowerUsage");
  auto* error_string = symbol<const char*(int)>(lib, "nvmlErrorString");
  api.error_string = [error_string](int rc) {
    const char* s = error_string(rc);
    return std::string(s ? s : "unknown NVML error");
  };
  return api;
}

// One nvmlInit_v2 .. nvmlShutdown pair, and the library that must outlive it.
class Session {
 public:
  Session(NvmlApi api, Library lib) : lib_(std::move(lib)), api_(std::move(api)) {}
  ~Session() {
    if (initialized_) api_.shutdown();
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // NVML requires init before any other call; everything else goes through check().
  void init() {
    check(api_.init_v2(), "nvmlInit_v2");
    initialized_ = true;
  }
  void check(int rc, const std::string& what) const {
    if (rc != kNvmlSuccess) throw DeviceError(what + ": " + message(rc));
  }
  std::string message(int rc) const {
    return api_.error_string ? api_.error_string(rc) : "code " + std::to_string(rc);
  }
  const NvmlApi& api() const { return api_; }

 private:
  Library lib_;  // declared first: destroyed after api_ and after shutdown
  NvmlApi api_;
  bool initialized_ = false;
};

struct Gpu {
  void* handle = nullptr;
  std::string key;  // "gpu0"
  bool counter = false;
  unsigned long long first_mj = 0;
};

class NvmlSource final : public Source {
 public:
  NvmlSource(std::unique_ptr<Session> session, std::vector<Gpu> gpus, Clock clock)
      : session_(std::move(session)), gpus_(std::move(gpus)), clock_(std::move(clock)) {}
  std::string name() const override { return "nvml"; }

  Reading read() override {
    Reading r;
    Watts power;
    for (const auto& g : gpus_) {
      if (g.counter)
        r.domains[g.key] = since_open_j(g);
      else
        power[g.key] = power_w(g);
    }
    if (power.empty()) return r;
    integral_.add(clock_(), power);
    for (const auto& [key, j] : integral_.energy_j()) r.domains[key] = j;
    return r;
  }

 private:
  unsigned long long energy_mj(const Gpu& g) const {
    unsigned long long mj = 0;
    session_->check(session_->api().device_get_total_energy_consumption(g.handle, &mj),
                    "nvmlDeviceGetTotalEnergyConsumption(" + g.key + ")");
    return mj;
  }
  double since_open_j(const Gpu& g) const {
    const unsigned long long mj = energy_mj(g);
    if (mj < g.first_mj)
      throw DeviceError(g.key + ": energy counter went backwards (driver reloaded?)");
    return (mj - g.first_mj) * 1e-3;
  }
  double power_w(const Gpu& g) const {
    unsigned mw = 0;
    session_->check(session_->api().device_get_power_usage(g.handle, &mw),
                    "nvmlDeviceGetPowerUsage(" + g.key + ")");
    return mw * 1e-3;
  }

  std::unique_ptr<Session> session_;
  std::vector<Gpu> gpus_;
  Clock clock_;
  PowerIntegral integral_;
};

// How one GPU can be read: its energy counter, else its power, else not at all (Jetson's
// integrated GPU answers NOT_SUPPORTED to both). Returns "" or why not.
std::string classify(const Session& s, Gpu& g) {
  const NvmlApi& api = s.api();
  const int rc = api.device_get_total_energy_consumption(g.handle, &g.first_mj);
  g.counter = rc == kNvmlSuccess;
  if (g.counter) return "";
  unsigned mw = 0;
  const int prc = api.device_get_power_usage(g.handle, &mw);
  if (prc == kNvmlSuccess) return "";
  return g.key + ": energy " + s.message(rc) + ", power " + s.message(prc);
}

std::string describe_gpus(const std::vector<Gpu>& gpus) {
  std::string counters, sampled;
  for (const auto& g : gpus) {
    std::string& list = g.counter ? counters : sampled;
    list += (list.empty() ? "" : ", ") + g.key;
  }
  std::string s;
  if (!counters.empty()) s = "energy counter (mJ): " + counters;
  if (!sampled.empty())
    s += std::string(s.empty() ? "" : "; ") + "power (mW) sampled and integrated: " + sampled;
  return s;
}

std::unique_ptr<Session> open_session(const DetectOptions& options, std::string* why) {
  if (options.nvml) return std::make_unique<Session>(*options.nvml, nullptr);
  if (options.nvml_library.empty()) {
    *why = "disabled (no NVML library configured)";
    return nullptr;
  }
  Library lib(dlopen(options.nvml_library.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!lib) {
    *why = options.nvml_library + " not found (no NVIDIA driver)";
    return nullptr;
  }
  NvmlApi api = bind(lib.get());
  return std::make_unique<Session>(std::move(api), std::move(lib));
}

std::vector<Gpu> find_gpus(Session& s, std::vector<std::string>& problems) {
  s.init();
  unsigned count = 0;
  s.check(s.api().device_get_count_v2(&count), "nvmlDeviceGetCount_v2");
  std::vector<Gpu> gpus;
  for (unsigned i = 0; i < count; ++i) {
    Gpu g;
    g.key = "gpu" + std::to_string(i);
    s.check(s.api().device_get_handle_by_index_v2(i, &g.handle), "nvmlDeviceGetHandleByIndex_v2");
    const std::string why = classify(s, g);
    if (why.empty())
      gpus.push_back(g);
    else
      problems.push_back(why);
  }
  if (count == 0) problems.push_back("no NVIDIA GPUs");
  return gpus;
}

}  // namespace

Probe probe_nvml(const DetectOptions& options, const Clock& clock) {
  Probe p;
  p.info.name = "nvml";
  p.info.measures = "each NVIDIA GPU's board power (GPU, its memory, VRMs, fans); not the host";
  std::unique_ptr<Session> session;
  std::vector<Gpu> gpus;
  std::vector<std::string> problems;
  try {
    session = open_session(options, &p.info.status);
    if (!session) return p;
    gpus = find_gpus(*session, problems);
  } catch (const Error& e) {
    problems.insert(problems.begin(), e.what());
  }
  if (gpus.empty()) {
    p.info.status = problems.empty() ? "no usable GPU" : problems.front();
    p.problem = "nvml: " + p.info.status;
    return p;
  }
  p.info.available = true;
  p.info.status = describe_gpus(gpus);
  for (const auto& g : gpus) p.info.domains.push_back(g.key);
  p.source = std::make_unique<NvmlSource>(std::move(session), std::move(gpus), clock);
  return p;
}

}  // namespace etuner::meter
