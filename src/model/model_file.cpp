#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "etuner/error.h"
#include "model/zoo.h"

namespace etuner::model {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw ModelError("cannot " + what + " model file '" + path + "': " + std::strerror(err));
}

void write_all(int fd, const std::string& path, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write", path, errno);
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void write_model_file(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("create", tmp, errno);
  try {
    write_all(fd, tmp, bytes);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());  // a full disk gets its space back
    throw;
  }
  if (::close(fd) != 0) {  // some file systems report a failed write only here
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("write", tmp, err);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw ModelError("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
}

}  // namespace etuner::model
