// Small-file reads for sysfs trees (powercap, hwmon, iio). Private to the meter module.
//
// The root is injectable (DetectOptions::sysfs_root), so tests write a fake tree to a temp
// dir and the same code reads it.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace etuner::meter::sysfs {

namespace fs = std::filesystem;

// `root` joined with an absolute-looking sysfs path ("/sys/class/powercap").
fs::path under(const std::string& root, const std::string& path);

// Reads a small file into `out` (trailing whitespace stripped). Returns 0 or the errno, so a
// probe can tell "absent" (ENOENT) from "root-only" (EACCES) without exceptions.
int try_read(const fs::path& path, std::string* out);

// The text of the file; throws IoError naming the path and the errno text.
std::string read_text(const fs::path& path);

// The file as a non-negative integer (energy_uj, in1_input, ...); throws IoError if it is
// missing, unreadable or not a number.
std::uint64_t read_u64(const fs::path& path);

// The file as a signed number (hwmon currents can read slightly negative at no load).
double read_number(const fs::path& path);

bool exists(const fs::path& path);

// Entry names in `dir`, sorted; empty when the dir does not exist.
std::vector<std::string> list(const fs::path& dir);

}  // namespace etuner::meter::sysfs
