// The measured meter: windows over cumulative sources, with the fallback chain.
//
// Every window edge reads every source that still works, not just the one in use, so when
// the one in use fails mid-window the next one in the chain has its own begin reading and
// measures that same window: a failure costs accuracy of the label, never a silent zero.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "etuner/error.h"
#include "meter/source.h"

namespace etuner::meter {
namespace {

struct Snapshot {
  double t_s = 0;
  std::map<std::string, Reading> readings;  // by source name
};

struct Still {
  double value_j = 0;
  double since_s = 0;  // clock time of the read that first saw value_j
};

struct Entry {
  std::string name;  // "nvml+rapl"; "modeled" has no sources
  std::vector<std::string> sources;
};

Joules delta(const Joules& now, const Joules& then) {
  Joules d;
  for (const auto& [k, j] : now) {
    auto it = then.find(k);
    if (it != then.end()) d[k] = j - it->second;
  }
  return d;
}

std::string seconds(double s) {
  std::ostringstream out;
  out.precision(3);
  out << s << " s";
  return out.str();
}

// The chain in detection order: jetson, nvml+rapl, nvml, rapl, then modeled.
std::vector<Entry> chain(const std::vector<std::string>& names) {
  auto has = [&](const char* n) { return std::count(names.begin(), names.end(), n) > 0; };
  std::vector<Entry> entries;
  if (has("jetson")) entries.push_back({"jetson", {"jetson"}});
  if (has("nvml") && has("rapl")) entries.push_back({"nvml+rapl", {"nvml", "rapl"}});
  for (const char* n : {"nvml", "rapl"})
    if (has(n)) entries.push_back({n, {n}});
  entries.push_back({"modeled", {}});
  return entries;
}

class MeasuredMeter final : public Meter {
 public:
  MeasuredMeter(std::vector<std::unique_ptr<Source>> sources, DeviceProfile profile,
                const DetectOptions& options, Clock clock, Warn warn)
      : sources_(std::move(sources)),
        profile_(std::move(profile)),
        frozen_min_s_(options.frozen_min_window_s),
        clock_(std::move(clock)),
        warn_(std::move(warn)) {
    std::vector<std::string> names;
    for (const auto& s : sources_) names.push_back(s->name());
    entries_ = chain(names);
    if (options.sample_period_s > 0 && !sources_.empty()) start_sampler(options.sample_period_s);
  }

  ~MeasuredMeter() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (sampler_.joinable()) sampler_.join();
  }

  void begin(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mutex_);
    const double t_s = clock_();
    open_[key] = Snapshot{t_s, read_all(t_s)};
  }

  Measurement end(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = open_.find(key);
    if (it == open_.end()) throw Error("meter: end(\"" + key + "\") without begin");
    const Snapshot then = std::move(it->second);
    open_.erase(it);
    const double t_s = clock_();
    const Snapshot now{t_s, read_all(t_s)};
    return measure(key, then, now);
  }

  std::string source() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_[active_].name;
  }

 private:
  // Reads every working source; one that throws has failed for the rest of the run.
  std::map<std::string, Reading> read_all(double t_s) {
    std::map<std::string, Reading> out;
    for (auto& s : sources_) {
      if (failed_.count(s->name())) continue;
      try {
        out[s->name()] = s->read();
        track(s->name(), out[s->name()], t_s);
      } catch (const std::exception& e) {
        fail(s->name(), std::string("reading failed (") + e.what() + ")");
      }
    }
    return out;
  }

  // When each domain last moved, over every read (window edges and the sampler), so a
  // counter that has stood still long enough is caught even through short windows.
  void track(const std::string& s, const Reading& r, double t_s) {
    for (const auto& [k, j] : r.domains) {
      auto [it, fresh] = still_[s].try_emplace(k, Still{j, t_s});
      if (!fresh && it->second.value_j != j) it->second = Still{j, t_s};
    }
  }

  void fail(const std::string& source, const std::string& why) {
    failed_.insert(source);
    const size_t was = active_;
    while (!usable(entries_[active_])) ++active_;  // modeled, last, is always usable
    const std::string line =
        source + " " + why + "; using " + entries_[active_].name + " for the rest of the run";
    if (active_ != was) note_ = "fallback: " + line;
    warn_("etuner meter: " + line);
  }

  bool usable(const Entry& e) const {
    return std::none_of(e.sources.begin(), e.sources.end(),
                        [&](const auto& s) { return failed_.count(s) > 0; });
  }

  Measurement measure(const std::string& key, const Snapshot& then, const Snapshot& now) {
    Measurement m;
    m.time_s = now.t_s - then.t_s;
    // Each failed try moves active_ on; modeled, which reads nothing, always succeeds.
    while (!try_entry(entries_[active_], then, now, m)) continue;
    m.note = note_;
    for (const auto& [d, j] : m.domain_energy_j) m.energy_j += j;
    if (m.source == "modeled") model(key, m);
    return m;
  }

  void model(const std::string& key, Measurement& m) const {
    m.energy_j = m.time_s * modeled_power_w(profile_, key);
    m.domain_energy_j = {{"modeled:" + profile_.name, m.energy_j}};
    m.component_energy_j.clear();
  }

  // Fills m from one entry's sources, or fails the first frozen or missing one (which moves
  // the chain on) and returns false so the caller tries the next entry.
  bool try_entry(const Entry& e, const Snapshot& then, const Snapshot& now, Measurement& m) {
    m.source = e.name;
    m.domain_energy_j.clear();
    m.component_energy_j.clear();
    for (const auto& s : e.sources) {
      if (!then.readings.count(s) || !now.readings.count(s)) {
        if (!failed_.count(s)) fail(s, "has no reading for this window");
        return false;
      }
      if (!add_source(s, then.readings.at(s), now.readings.at(s), now.t_s, m)) return false;
    }
    return true;
  }

  bool add_source(const std::string& s, const Reading& then, const Reading& now, double now_t_s,
                  Measurement& m) {
    Joules d = delta(now.domains, then.domains);
    if (const std::string frozen = drop_frozen(s, d, now_t_s); !frozen.empty()) {
      fail(s, "reading frozen or zero (" + frozen + ")");
      return false;
    }
    for (const auto& [k, j] : d) m.domain_energy_j[k] = j;
    for (const auto& [k, j] : delta(now.components, then.components)) m.component_energy_j[k] = j;
    return true;
  }

  // Frozen: no joules in this window and no movement for frozen_min_s_, which no powered
  // device's counter survives. Frozen domains are dropped (warned once); if every domain is
  // frozen, returns what to say and the whole source has failed.
  std::string drop_frozen(const std::string& s, Joules& d, double now_t_s) {
    for (const auto& k : dropped_[s]) d.erase(k);
    std::vector<std::string> frozen;
    double still_s = 0;
    for (const auto& [k, j] : d) {
      const double for_s = now_t_s - still_[s][k].since_s;
      if (j > 0 || for_s < frozen_min_s_) continue;
      frozen.push_back(k);
      still_s = std::max(still_s, for_s);
    }
    if (frozen.empty()) return "";
    const std::string what = join(frozen) + " unchanged for " + seconds(still_s);
    if (frozen.size() == d.size()) return what;
    for (const auto& k : frozen) {
      d.erase(k);
      dropped_[s].insert(k);
    }
    warn_("etuner meter: " + s + " frozen: " + what + "; dropped, the other " + s +
          " domains are still measured");
    return "";
  }

  static std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  }

  // Reads often enough that power readings integrate finely and no RAPL counter wraps twice
  // between reads; the readings themselves are discarded.
  void start_sampler(double period_s) {
    sampler_ = std::thread([this, period_s] {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto period = std::chrono::duration<double>(period_s);
      while (!wake_.wait_for(lock, period, [this] { return stop_; })) read_all(clock_());
    });
  }

  std::vector<std::unique_ptr<Source>> sources_;
  DeviceProfile profile_;
  double frozen_min_s_;
  Clock clock_;
  Warn warn_;
  std::vector<Entry> entries_;
  size_t active_ = 0;
  std::set<std::string> failed_;
  std::map<std::string, std::set<std::string>> dropped_;
  std::map<std::string, std::map<std::string, Still>> still_;  // source -> domain
  std::string note_;
  std::map<std::string, Snapshot> open_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread sampler_;  // last: started after, and joined before, everything it touches
};

}  // namespace

std::unique_ptr<Meter> make_measured(std::vector<std::unique_ptr<Source>> sources,
                                     const DeviceProfile& profile, const DetectOptions& options,
                                     const Clock& clock, const Warn& warn) {
  return std::make_unique<MeasuredMeter>(std::move(sources), profile, options, clock, warn);
}

}  // namespace etuner::meter
