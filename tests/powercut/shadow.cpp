#include "shadow.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace etuner::powercut {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("powercut shadow: " + what + ": " + std::strerror(errno));
}

// Inode number and birth time: an inode number reused after an unlink is another file.
std::string file_id(int fd, const char* path, int flags) {
  struct statx x {};
  if (::statx(fd, path, flags, STATX_INO | STATX_BTIME, &x) != 0) fail("statx");
  std::string id = std::to_string(x.stx_ino);
  if (x.stx_mask & STATX_BTIME)
    id += "-" + std::to_string(x.stx_btime.tv_sec) + "." + std::to_string(x.stx_btime.tv_nsec);
  return id;
}

// "@" for root, "@a%b" for root/a/b: a file name for any depth.
std::string dir_key(const std::string& rel) {
  std::string key = "@" + rel;
  for (auto& c : key)
    if (c == '/') c = '%';
  return key;
}

void write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("write");
    data += w;
    n -= static_cast<size_t>(w);
  }
}

// dst gets every byte readable from src (from offset 0), all at once: written aside, renamed.
void copy_atomically(int src, const std::string& dst) {
  const std::string tmp = dst + ".tmp";
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) fail("create " + tmp);
  std::vector<char> buf(1 << 20);
  off_t at = 0;
  for (;;) {
    const ssize_t r = ::pread(src, buf.data(), buf.size(), at);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("read for " + dst);
    if (r == 0) break;
    write_all(out, buf.data(), static_cast<size_t>(r));
    at += r;
  }
  ::close(out);
  if (::rename(tmp.c_str(), dst.c_str()) != 0) fail("rename " + tmp);
}

void write_text_atomically(const std::string& dst, const std::string& text) {
  const std::string tmp = dst + ".tmp";
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) fail("create " + tmp);
  write_all(out, text.data(), text.size());
  ::close(out);
  if (::rename(tmp.c_str(), dst.c_str()) != 0) fail("rename " + tmp);
}

void make_dirs(const Shadow& s) {
  fs::create_directories(s.shadow + "/blobs");
  fs::create_directories(s.shadow + "/dirs");
}

void restore_dir(const Shadow& s, const std::string& rel, const std::string& target) {
  std::ifstream listing(s.shadow + "/dirs/" + dir_key(rel));
  std::string line;
  while (std::getline(listing, line)) {
    std::istringstream in(line);
    std::string type, id;
    in >> type >> id;
    std::string name;
    std::getline(in, name);
    name.erase(0, 1);  // the space before the name
    const std::string path = target + "/" + name;
    if (type == "d") {
      fs::create_directory(path);
      restore_dir(s, rel.empty() ? name : rel + "/" + name, path);
    } else if (fs::exists(s.shadow + "/blobs/" + id)) {
      fs::copy_file(s.shadow + "/blobs/" + id, path, fs::copy_options::overwrite_existing);
    } else {
      std::ofstream(path, std::ios::binary);  // the name survived, no byte was ever fsynced
    }
  }
}

}  // namespace

void sync_file(const Shadow& s, int fd) {
  const std::string id = file_id(fd, "", AT_EMPTY_PATH);
  // Reopened for reading: the caller's descriptor may be write-only.
  const int in = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) fail("reopen fd " + std::to_string(fd));
  make_dirs(s);
  try {
    copy_atomically(in, s.shadow + "/blobs/" + id);
  } catch (...) {
    ::close(in);
    throw;
  }
  ::close(in);
}

void sync_dir(const Shadow& s, const std::string& rel) {
  const std::string dir = rel.empty() ? s.root : s.root + "/" + rel;
  std::string text;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    const auto st = e.symlink_status();
    if (fs::is_directory(st))
      text += "d - " + name + "\n";
    else if (fs::is_regular_file(st))
      text += "f " + file_id(AT_FDCWD, e.path().c_str(), AT_SYMLINK_NOFOLLOW) + " " + name + "\n";
  }
  make_dirs(s);
  write_text_atomically(s.shadow + "/dirs/" + dir_key(rel), text);
}

void sync_all(const Shadow& s) {
  sync_dir(s, "");
  for (const auto& e : fs::recursive_directory_iterator(s.root)) {
    const auto rel = fs::relative(e.path(), s.root).string();
    const auto st = e.symlink_status();
    if (fs::is_directory(st)) {
      sync_dir(s, rel);
    } else if (fs::is_regular_file(st)) {
      const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) fail("open " + e.path().string());
      sync_file(s, fd);
      ::close(fd);
    }
  }
}

void restore(const Shadow& s, const std::string& target) {
  fs::remove_all(target);
  fs::create_directories(target);
  restore_dir(s, "", target);
}

}  // namespace etuner::powercut
