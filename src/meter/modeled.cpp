#include <chrono>

#include "etuner/error.h"
#include "meter/source.h"

namespace etuner::meter {
namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

class ModeledMeter final : public Meter {
 public:
  explicit ModeledMeter(DeviceProfile profile) : profile_(std::move(profile)) {}

  void begin(const std::string& key) override { open_[key] = now_s(); }

  Measurement end(const std::string& key) override {
    auto it = open_.find(key);
    if (it == open_.end()) throw Error("meter: end(\"" + key + "\") without begin");
    Measurement m;
    m.time_s = now_s() - it->second;
    open_.erase(it);
    m.energy_j = m.time_s * modeled_power_w(profile_, key);
    m.domain_energy_j["modeled:" + profile_.name] = m.energy_j;
    m.source = "modeled";
    return m;
  }

  std::string source() const override { return "modeled"; }

 private:
  DeviceProfile profile_;
  std::map<std::string, double> open_;
};

std::string watts(double w) {
  std::string s = std::to_string(w);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s + " W";
}

}  // namespace

double modeled_power_w(const DeviceProfile& profile, const std::string& key) {
  if (key == "round" || key == "decide") return profile.train_power_w;  // both compute
  if (key == "infer") return profile.infer_power_w;
  return profile.idle_power_w;
}

BackendInfo modeled_info(const DeviceProfile& profile) {
  BackendInfo info;
  info.name = "modeled";
  info.available = true;
  info.status = "always available; a model, not a measurement";
  info.domains = {"modeled:" + profile.name};
  info.measures = "window wall time x device profile '" + profile.name + "' power: round " +
                  watts(profile.train_power_w) + ", infer " + watts(profile.infer_power_w) +
                  ", idle/other " + watts(profile.idle_power_w);
  return info;
}

std::unique_ptr<Meter> make_modeled(const DeviceProfile& profile) {
  return std::make_unique<ModeledMeter>(profile);
}

}  // namespace etuner::meter
