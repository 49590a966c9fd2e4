#include "etuner/fields.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace etuner {

Fields::Fields(const nlohmann::json& j, std::string path) : json_(j), path_(std::move(path)) {
  if (!json_.is_object()) throw ConfigError(path_ + ": expected a JSON object");
}

const nlohmann::json& Fields::child(const std::string& key) {
  static const nlohmann::json kNull;
  known_.insert(key);
  return json_.contains(key) ? json_.at(key) : kNull;
}

void Fields::finish() const {
  std::string unknown;
  for (auto it = json_.begin(); it != json_.end(); ++it)
    if (!known_.count(it.key())) unknown += (unknown.empty() ? "" : ", ") + it.key();
  if (unknown.empty()) return;
  std::string valid;
  for (const auto& k : known_) valid += (valid.empty() ? "" : ", ") + k;
  throw ConfigError(path_ + ": unknown field(s) " + unknown + " (valid: " + valid + ")");
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path + ": cannot open file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(path + ": invalid JSON: " + e.what());
  }
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw IoError(tmp + ": cannot write file");
    out << j.dump(2) << "\n";
    if (!out) throw IoError(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw IoError(path + ": rename failed");
}

}  // namespace etuner
