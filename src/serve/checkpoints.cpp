#include "serve/checkpoints.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <vector>

#include "etuner/error.h"

namespace etuner::serve {
namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_fail_writes{false};

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw IoError("cannot open '" + path + "' to fsync it");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw IoError("fsync of '" + path + "' failed");
}

// "a/b", "a/b/" -> "a"; "b" -> ".".
std::string parent_dir(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();  // a trailing slash
  p = p.parent_path();
  return p.empty() ? "." : p.string();
}

}  // namespace

std::string checkpoint_path(const std::string& dir, int version) {
  return dir + "/v" + std::to_string(version) + ".pt";
}

void make_durable_dir(const std::string& dir) {
  std::vector<std::string> missing;  // dir and each missing parent, deepest first
  for (fs::path p = fs::path(dir).lexically_normal(); !p.empty() && !fs::exists(p);
       p = fs::path(parent_dir(p.string())))
    missing.push_back(p.string());
  fs::create_directories(dir);
  for (const auto& level : missing) fsync_path(parent_dir(level), O_RDONLY | O_DIRECTORY);
  if (missing.empty()) fsync_path(parent_dir(dir), O_RDONLY | O_DIRECTORY);
}

void write_checkpoint(const std::string& dir, const model::BlockModel& m, int version) {
  // The power-loss test lost checkpoints/ whole without its parent's fsync (docs/serve.md,
  // "Power loss").
  make_durable_dir(dir);
  const std::string final_path = checkpoint_path(dir, version), tmp = final_path + ".part";
  if (g_fail_writes)
    throw IoError("cannot write checkpoint '" + tmp + "': No space left on device (test fault)");
  m.save(tmp);                // serialized in memory, then written with every error checked
  fsync_path(tmp, O_RDONLY);  // the bytes are on disk before the name points at them
  std::error_code ec;
  fs::rename(tmp, final_path, ec);
  if (ec) throw IoError("cannot rename '" + tmp + "': " + ec.message());
  fsync_path(dir, O_RDONLY | O_DIRECTORY);  // and the rename itself is durable
}

void fail_checkpoint_writes_for_tests(bool on) { g_fail_writes = on; }

void prune_checkpoints(const std::string& dir, int keep) {
  std::error_code ec;
  const std::string keep_name = "v" + std::to_string(keep) + ".pt";
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name != keep_name && name.rfind('v', 0) == 0) fs::remove(e.path(), ec);
  }
}

}  // namespace etuner::serve
