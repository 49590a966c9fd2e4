// One server per data directory: an exclusive flock on DATA_DIR/LOCK, held while the server
// lives, the holder's pid written into the file. The kernel drops the lock when the process
// ends, kill -9 included, so a stale LOCK file never blocks a restart.
#pragma once
#include <string>

namespace etuner::serve {

class DirLock {
 public:
  // Throws ConfigError naming the holder's pid when another process holds the lock.
  explicit DirLock(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace etuner::serve
