// Named presets: a scheduler, a freezer and adaptation options under one name. A preset is a
// row in this table, never a branch in the harness.
#include <algorithm>

#include "etuner/error.h"
#include "etuner/adapt.h"
#include "etuner/presets.h"
#include "etuner/freeze.h"
#include "etuner/sched.h"

namespace etuner::policy {
namespace {

struct Preset {
  std::string name;
  std::string description;
  std::string scheduler;
  std::string freezer;
  std::string adapter;
};

const std::vector<Preset>& presets() {
  static const std::vector<Preset> table = {
      {"immediate", "a full round for every arriving labeled batch (the baseline)", "immediate",
       "none", "none"},
      {"never", "no fine-tuning: the pretrained model serves the whole stream", "never", "none",
       "none"},
      {"lazy", "lazytune scheduling alone: merged, budgeted rounds; eager after a change",
       "lazytune", "none", "none"},
      {"freeze", "immediate rounds with similarity-guided prefix freezing", "immediate",
       "simfreeze", "none"},
      // Why etuner adapts BatchNorm statistics: docs/algorithms.md, "BatchNorm statistics in
      // etuner".
      {"etuner",
       "lazytune + simfreeze: merged, budgeted rounds with a converged prefix frozen; "
       "BatchNorm statistics follow answered requests",
       "lazytune", "simfreeze", "bn"},
      {"etuner-ssl", "etuner + confident pseudo-labels of answered requests merged into rounds",
       "lazytune", "simfreeze", "bn-ssl"},
      {"etuner-noadapt", "etuner without label-free adaptation (ablation)", "lazytune", "simfreeze",
       "none"},
      {"immediate-bn",
       "immediate + BatchNorm statistics adapted from answered requests "
       "(ablation: the adaptation without etuner's scheduling and freezing)",
       "immediate", "none", "bn"},
      {"periodic-bn", "periodic + BatchNorm statistics adapted from answered requests", "periodic",
       "none", "bn"},
      {"catchup-bn",
       "a round on the whole pending queue whenever the device is free + BatchNorm statistics "
       "adapted from answered requests",
       "catchup", "none", "bn"},
      {"tta",
       "test-time adaptation alone: no fine-tuning rounds; EATA-style entropy steps on "
       "answered requests",
       "never", "none", "eata"},
      // Peer baselines (docs/peers.md).
      {"periodic", "peer: a round every 4 labeled batches on all pending data, every block trains",
       "periodic", "none", "none"},
      {"egeria", "peer: immediate rounds with Egeria-style plasticity freezing (EuroSys'23)",
       "immediate", "egeria", "none"},
      {"autofreeze", "peer: immediate rounds with AutoFreeze-style gradient-norm freezing",
       "immediate", "autofreeze", "none"},
      {"ekya",
       "peer: Ekya-style windows of 4 batches, a micro-profiler picks epochs x replay "
       "(NSDI'22)",
       "ekya", "none", "none"},
      {"oracle", "peer floor: knows the true scenario changes, trains at each, merges after",
       "oracle", "none", "none"},
  };
  return table;
}

const Preset* find_preset(const std::string& name) {
  for (const auto& p : presets())
    if (p.name == name) return &p;
  return nullptr;
}

nlohmann::json entry(const nlohmann::json& params, const std::string& component) {
  return params.is_object() ? params.value(component, nlohmann::json::object())
                            : nlohmann::json::object();
}

// The adapter reads its own entry, and the numbers under "adapt" when it adapts at all
// (`{"adapt": {"bn_chunk": 30}}` sets every adapting policy of a bench run; `none` ignores it).
nlohmann::json adapter_params(const nlohmann::json& params, const std::string& adapter) {
  auto p = entry(params, adapter);
  if (adapter == "none" || !params.is_object() || !params.contains("adapt")) return p;
  if (!params["adapt"].is_object()) throw ConfigError("policy params: \"adapt\" must be an object");
  for (const auto& [k, v] : params["adapt"].items()) p[k] = v;
  return p;
}

Policy build(const std::string& name, const std::string& description, const std::string& sched_name,
             const std::string& freezer_name, const std::string& adapter_name,
             const nlohmann::json& params) {
  Policy p;
  p.name = name;
  p.description = description;
  p.scheduler_name = sched_name;
  p.freezer_name = freezer_name;
  p.adapter_name = adapter_name;
  p.scheduler = sched::registry().make(sched_name, entry(params, sched_name));
  p.freezer = freeze::registry().make(freezer_name, entry(params, freezer_name));
  p.adapt = *adapt::registry().make(adapter_name, adapter_params(params, adapter_name));
  return p;
}

}  // namespace

Policy make(const std::string& name, const nlohmann::json& params) {
  if (const Preset* p = find_preset(name))
    return build(p->name, p->description, p->scheduler, p->freezer, p->adapter, params);
  const auto plus = name.find('+');
  if (plus == std::string::npos) {
    std::string valid;
    for (const auto& n : preset_names()) valid += (valid.empty() ? "" : ", ") + n;
    throw ConfigError("unknown policy '" + name + "' (valid: " + valid +
                      ", or <scheduler>+<freezer>[+<adapter>])");
  }
  const auto plus2 = name.find('+', plus + 1);
  const std::string s = name.substr(0, plus);
  const std::string f =
      name.substr(plus + 1, plus2 == std::string::npos ? plus2 : plus2 - plus - 1);
  const std::string a = plus2 == std::string::npos ? "none" : name.substr(plus2 + 1);
  return build(name, "scheduler " + s + " with freezer " + f + " and adapter " + a, s, f, a,
               params);
}

void check_params(const nlohmann::json& params) {
  if (params.is_null()) return;
  if (!params.is_object())
    throw ConfigError(
        "policy params: expected an object keyed by scheduler, freezer or adapter name");
  auto known = sched::registry().names();
  for (const auto& f : freeze::registry().names()) known.push_back(f);
  for (const auto& a : adapt::registry().names()) known.push_back(a);
  known.push_back("adapt");
  for (const auto& [key, value] : params.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string valid;
    for (const auto& n : known) valid += (valid.empty() ? "" : ", ") + n;
    throw ConfigError("policy params: unknown component '" + key + "' (valid: " + valid + ")");
  }
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& p : presets()) names.push_back(p.name);
  return names;
}

std::string preset_help(const std::string& name) {
  const Preset* p = find_preset(name);
  return p ? p->description : "";
}

}  // namespace etuner::policy
