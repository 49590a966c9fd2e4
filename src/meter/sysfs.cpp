#include "meter/sysfs.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "etuner/error.h"

namespace etuner::meter::sysfs {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::string rstrip(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

}  // namespace

fs::path under(const std::string& root, const std::string& path) {
  return fs::path(root.empty() ? "/" : root) / fs::path(path).relative_path();
}

int try_read(const fs::path& path, std::string* out) {
  errno = 0;
  File f(std::fopen(path.c_str(), "r"));
  if (!f) return errno ? errno : EIO;
  char buf[256];
  std::string text;
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, n);
  // sysfs reports a failing driver read (EIO, ENODATA) as a read error, not at open.
  if (std::ferror(f.get())) return errno ? errno : EIO;
  *out = rstrip(std::move(text));
  return 0;
}

std::string read_text(const fs::path& path) {
  std::string text;
  const int err = try_read(path, &text);
  if (err != 0) throw IoError(path.string() + ": " + std::strerror(err));
  return text;
}

std::uint64_t read_u64(const fs::path& path) {
  const std::string text = read_text(path);
  if (text.empty() || !std::all_of(text.begin(), text.end(), ::isdigit))
    throw IoError(path.string() + ": expected a non-negative integer, read '" + text + "'");
  return std::stoull(text);
}

double read_number(const fs::path& path) {
  const std::string text = read_text(path);
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw IoError(path.string() + ": expected a number, read '" + text + "'");
  return v;
}

bool exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

std::vector<std::string> list(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace etuner::meter::sysfs
