// Registries written out by hand: a table of {name, one-line help, factory from JSON params}.
// Static self-registration gets dropped by the linker; an explicit table cannot be.
//
//   const Registry<Scheduler>& r = etuner::sched::registry();
//   auto s = r.make("immediate", {});     // unknown names throw ConfigError listing valid ones
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "etuner/error.h"

namespace etuner {

template <class T>
struct RegistryEntry {
  std::string name;
  std::string help;
  std::function<std::unique_ptr<T>(const nlohmann::json& params)> factory;
};

template <class T>
class Registry {
 public:
  Registry(std::string family, std::vector<RegistryEntry<T>> entries)
      : family_(std::move(family)), entries_(std::move(entries)) {}

  std::unique_ptr<T> make(const std::string& name, const nlohmann::json& params) const {
    return find(name).factory(params.is_null() ? nlohmann::json::object() : params);
  }

  const RegistryEntry<T>& find(const std::string& name) const {
    for (const auto& e : entries_)
      if (e.name == name) return e;
    throw ConfigError("unknown " + family_ + " '" + name + "' (valid: " + names_joined() + ")");
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
  }

  const std::vector<RegistryEntry<T>>& entries() const { return entries_; }

 private:
  std::string names_joined() const {
    std::string s;
    for (const auto& e : entries_) s += (s.empty() ? "" : ", ") + e.name;
    return s;
  }

  std::string family_;
  std::vector<RegistryEntry<T>> entries_;
};

}  // namespace etuner
