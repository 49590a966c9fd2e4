// LD_PRELOAD shim for the power-loss test: keeps a durable shadow of one directory tree.
//
//   LD_PRELOAD=libetuner_powercut.so ETUNER_POWERCUT_DIR=/data ETUNER_POWERCUT_SHADOW=/shadow
//     [ETUNER_POWERCUT_KILL_AT=N] etuner serve --data-dir /data ...
//
// Only durability points are intercepted: fsync and fdatasync (and sync, syncfs). When one
// targets a file under ETUNER_POWERCUT_DIR, that file's current bytes are copied into the
// shadow; when it targets a directory there, the directory's current listing is (the model is
// in shadow.h). Writes, renames, creates and unlinks need no interception: they reach the
// shadow only through a later fsync, exactly as they reach the disk. A SIGKILL then stands for
// the power cut, and powercut::restore() rebuilds the tree from the shadow.
//
// ETUNER_POWERCUT_KILL_AT=N: the process kills itself with SIGKILL at the N-th such call
// (counting from 1), before it takes effect: a cut just before a chosen durability point.
// ETUNER_POWERCUT_TRACE set: each such call is logged to stderr (number, path), so a
// failure can be traced to the last durability points before the cut.
//
// The application's fd is not used for I/O here; the shadow opens what it copies itself and
// never calls an intercepted function, so nothing recurses. Calls are serialized by one mutex:
// a shadow update is a copy and a rename, and at most one runs at a time.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>

#include "shadow.h"

namespace {

using etuner::powercut::Shadow;

struct Config {
  bool on = false;
  Shadow shadow;
  long kill_at = 0;
  bool trace = false;
};

const Config& config() {
  static const Config c = [] {
    Config c;
    const char* dir = std::getenv("ETUNER_POWERCUT_DIR");
    const char* shadow = std::getenv("ETUNER_POWERCUT_SHADOW");
    char real[PATH_MAX];
    if (!dir || !shadow || !::realpath(dir, real)) return c;
    c.on = true;
    c.shadow = {real, shadow};
    if (const char* k = std::getenv("ETUNER_POWERCUT_KILL_AT")) c.kill_at = std::atol(k);
    c.trace = std::getenv("ETUNER_POWERCUT_TRACE") != nullptr;
    return c;
  }();
  return c;
}

std::mutex g_mu;
std::atomic<long> g_calls{0};

// The path of fd relative to the watched root, or false when it lies elsewhere.
bool relative_path(int fd, std::string& rel) {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf);
  if (n <= 0) return false;
  const std::string path(buf, static_cast<size_t>(n)), &root = config().shadow.root;
  if (path == root) {
    rel.clear();
    return true;
  }
  if (path.compare(0, root.size() + 1, root + "/") != 0) return false;
  rel = path.substr(root.size() + 1);
  return true;
}

void count_call(const std::string& rel) {
  const long n = ++g_calls;
  const bool cut = config().kill_at > 0 && n == config().kill_at;
  if (config().trace)
    std::fprintf(stderr, "powercut: %ssync %ld of '%s'\n", cut ? "cut before " : "", n,
                 rel.c_str());
  if (cut) ::kill(::getpid(), SIGKILL);
}

// A shadow that cannot be kept would make the test pass or fail for no reason: stop.
[[noreturn]] void broken(const std::exception& e) {
  std::fprintf(stderr, "powercut shim: %s\n", e.what());
  std::abort();
}

// Called after the real fsync succeeded on fd.
void record(int fd) {
  if (!config().on) return;
  std::string rel;
  if (!relative_path(fd, rel)) return;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return;
  try {
    if (S_ISDIR(st.st_mode) && st.st_nlink > 0) {  // a removed directory has no listing
      etuner::powercut::sync_dir(config().shadow, rel);
    } else if (S_ISREG(st.st_mode)) {
      etuner::powercut::sync_file(config().shadow, fd);
    }
  } catch (const std::exception& e) {
    broken(e);
  }
}

void record_all() {
  if (!config().on) return;
  try {
    etuner::powercut::sync_all(config().shadow);
  } catch (const std::exception& e) {
    broken(e);
  }
}

int durable(int fd, long nr) {
  std::lock_guard<std::mutex> lock(g_mu);
  std::string rel;
  if (config().on && relative_path(fd, rel)) count_call(rel);
  const int rc = static_cast<int>(::syscall(nr, fd));
  if (rc == 0) record(fd);
  return rc;
}

}  // namespace

extern "C" {

int fsync(int fd) { return durable(fd, SYS_fsync); }
int fdatasync(int fd) { return durable(fd, SYS_fdatasync); }

int syncfs(int fd) {
  std::lock_guard<std::mutex> lock(g_mu);
  const int rc = static_cast<int>(::syscall(SYS_syncfs, fd));
  if (rc == 0) record_all();
  return rc;
}

void sync() {
  std::lock_guard<std::mutex> lock(g_mu);
  ::syscall(SYS_sync);
  record_all();
}

}  // extern "C"
