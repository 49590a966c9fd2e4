// Named presets: a scheduler, a freezer and adaptation options under one name. A preset is a
// row in this table, never a branch in the harness.
#include <algorithm>

#include "etuner/error.h"
#include "etuner/presets.h"
#include "etuner/fields.h"
#include "etuner/freeze.h"
#include "etuner/sched.h"

namespace etuner::policy {
namespace {

struct Preset {
  std::string name;
  std::string description;
  std::string scheduler;
  std::string freezer;
  AdaptOptions adapt;
};

AdaptOptions bn() { return AdaptOptions{}.with_bn(); }

const std::vector<Preset>& presets() {
  static const std::vector<Preset> table = {
      {"immediate",
       "a full round for every arriving labeled batch (the baseline)",
       "immediate",
       "none",
       {}},
      {"never",
       "no fine-tuning: the pretrained model serves the whole stream",
       "never",
       "none",
       {}},
      {"lazy",
       "lazytune scheduling alone: merged, budgeted rounds; eager after a change",
       "lazytune",
       "none",
       {}},
      {"freeze",
       "immediate rounds with similarity-guided prefix freezing",
       "immediate",
       "simfreeze",
       {}},
      // Why etuner adapts BatchNorm statistics: docs/algorithms.md, "BatchNorm statistics in
      // etuner".
      {"etuner",
       "lazytune + simfreeze: merged, budgeted rounds with a converged prefix frozen; "
       "BatchNorm statistics follow answered requests",
       "lazytune", "simfreeze", bn()},
      {"etuner-ssl", "etuner + confident pseudo-labels of answered requests merged into rounds",
       "lazytune", "simfreeze", AdaptOptions{}.with_bn().with_pseudo_labels()},
      {"etuner-noadapt",
       "etuner without label-free adaptation (ablation)",
       "lazytune",
       "simfreeze",
       {}},
      {"immediate-bn",
       "immediate + BatchNorm statistics adapted from answered requests "
       "(ablation: the adaptation without etuner's scheduling and freezing)",
       "immediate", "none", bn()},
      // Peer baselines (docs/peers.md).
      {"periodic",
       "peer: a round every 4 labeled batches on all pending data, every block trains",
       "periodic",
       "none",
       {}},
      {"egeria",
       "peer: immediate rounds with Egeria-style plasticity freezing (EuroSys'23)",
       "immediate",
       "egeria",
       {}},
      {"autofreeze",
       "peer: immediate rounds with AutoFreeze-style gradient-norm freezing",
       "immediate",
       "autofreeze",
       {}},
      {"ekya",
       "peer: Ekya-style windows of 4 batches, a micro-profiler picks epochs x replay "
       "(NSDI'22)",
       "ekya",
       "none",
       {}},
      {"oracle",
       "peer floor: knows the true scenario changes, trains at each, merges after",
       "oracle",
       "none",
       {}},
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

// The preset's adaptation kind stays; its numbers may be set (`{"adapt": {...}}`).
AdaptOptions adapt_options(AdaptOptions a, const nlohmann::json& params) {
  if (!params.is_object() || !params.contains("adapt")) return a;
  Fields f(params["adapt"], "adapt");
  a.pseudo_threshold = f.get("pseudo_threshold", a.pseudo_threshold);
  a.bn_chunk = std::max(1, f.get("bn_chunk", a.bn_chunk));
  a.bn_images = std::max(0, f.get("bn_images", a.bn_images));
  a.bn_alpha = std::clamp(f.get("bn_alpha", a.bn_alpha), 0.0, 1.0);
  f.finish();
  return a;
}

Policy build(const std::string& name, const std::string& description, const std::string& sched_name,
             const std::string& freezer_name, const AdaptOptions& adapt,
             const nlohmann::json& params) {
  Policy p;
  p.name = name;
  p.description = description;
  p.scheduler_name = sched_name;
  p.freezer_name = freezer_name;
  p.scheduler = sched::registry().make(sched_name, entry(params, sched_name));
  p.freezer = freeze::registry().make(freezer_name, entry(params, freezer_name));
  p.adapt = adapt_options(adapt, params);
  return p;
}

}  // namespace

Policy make(const std::string& name, const nlohmann::json& params) {
  if (const Preset* p = find_preset(name))
    return build(p->name, p->description, p->scheduler, p->freezer, p->adapt, params);
  const auto plus = name.find('+');
  if (plus == std::string::npos) {
    std::string valid;
    for (const auto& n : preset_names()) valid += (valid.empty() ? "" : ", ") + n;
    throw ConfigError("unknown policy '" + name + "' (valid: " + valid +
                      ", or <scheduler>+<freezer>)");
  }
  const std::string s = name.substr(0, plus), f = name.substr(plus + 1);
  return build(name, "scheduler " + s + " with freezer " + f, s, f, {}, params);
}

void check_params(const nlohmann::json& params) {
  if (params.is_null()) return;
  if (!params.is_object())
    throw ConfigError("policy params: expected an object keyed by scheduler or freezer name");
  auto known = sched::registry().names();
  for (const auto& f : freeze::registry().names()) known.push_back(f);
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
