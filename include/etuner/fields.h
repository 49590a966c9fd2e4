// Strict reading of JSON objects: every key is known, every error names its field.
//
//   etuner::Fields f(j, "stream.train");
//   double lr = f.get("lr", 0.01);          // optional with default
//   auto name = f.require<std::string>("name");
//   f.finish();                              // throws if j had keys nobody read
//
// Unknown keys are errors that list the valid ones, so a typo never silently
// falls back to a default.
#pragma once
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "etuner/error.h"

namespace etuner {

class Fields {
 public:
  Fields(const nlohmann::json& j, std::string path);

  bool has(const std::string& key) const { return json_.contains(key); }
  std::string path_of(const std::string& key) const { return path_ + "." + key; }

  template <class T>
  T get(const std::string& key, const T& fallback) {
    known_.insert(key);
    if (!json_.contains(key) || json_.at(key).is_null()) return fallback;
    return convert<T>(key);
  }

  template <class T>
  T require(const std::string& key) {
    known_.insert(key);
    if (!json_.contains(key)) throw ConfigError(path_of(key) + ": required field is missing");
    return convert<T>(key);
  }

  // The raw child (or null) for nested readers; marks the key as known.
  const nlohmann::json& child(const std::string& key);

  // Throws ConfigError naming the unknown keys and listing the valid ones.
  void finish() const;

 private:
  template <class T>
  T convert(const std::string& key) const {
    try {
      return json_.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
      throw ConfigError(path_of(key) + ": wrong type (" + json_.at(key).dump() + ")");
    }
  }

  const nlohmann::json& json_;
  std::string path_;
  std::set<std::string> known_;
};

// Reads a JSON file; IoError names the path, ConfigError the parse position.
nlohmann::json read_json_file(const std::string& path);

// Writes JSON atomically (temp file + rename), pretty-printed.
void write_json_file(const std::string& path, const nlohmann::json& j);

}  // namespace etuner
