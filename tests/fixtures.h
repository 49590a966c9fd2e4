// Tiny synthetic fixtures built in code: an IDX data set written to a temp dir and a stream
// spec over it, small enough that a whole bench run takes a second or two.
#pragma once
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace etuner::fixtures {

inline std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("etuner-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

inline void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

// Class c is a bright square in one of 4 positions (c % 4) plus a stripe per c / 4, over
// seeded noise: learnable in a few steps, never trivially identical.
inline void write_idx_split(const std::string& dir, const std::string& prefix, int n, int size,
                            uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> img, lab;
  put_be32(img, 0x803);
  put_be32(img, n);
  put_be32(img, size);
  put_be32(img, size);
  put_be32(lab, 0x801);
  put_be32(lab, n);
  const int half = size / 2;
  for (int i = 0; i < n; ++i) {
    const int c = i % 10;
    lab.push_back(static_cast<uint8_t>(c));
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        const bool square = (y / half) * 2 + (x / half) == c % 4;
        const bool stripe = y == c / 4 + 1;
        const int v = (square ? 160 : 0) + (stripe ? 80 : 0) + static_cast<int>(rng() % 40);
        img.push_back(static_cast<uint8_t>(std::min(v, 255)));
      }
  }
  write_gz(dir + "/" + prefix + "-images-idx3-ubyte.gz", img);
  write_gz(dir + "/" + prefix + "-labels-idx1-ubyte.gz", lab);
}

// A Fashion-MNIST-shaped data set (10 classes) of size x size images.
inline std::string write_tiny_dataset(const std::string& name, int train = 600, int test = 200,
                                      int size = 12) {
  const auto dir = temp_dir(name);
  write_idx_split(dir, "train", train, size, 1);
  write_idx_split(dir, "t10k", test, size, 2);
  return dir;
}

// Two scenarios (clean, then darkened) over the tiny data set, model "tiny".
inline nlohmann::json tiny_spec(const std::string& root) {
  return {
      {"name", "tiny"},
      {"seed", 3},
      {"model", "tiny"},
      {"data", {{"source", "fashion-mnist"}, {"root", root}}},
      {"pretrain", {{"samples", 200}, {"epochs", 2}, {"lr", 0.05}, {"batch_size", 32}}},
      {"train",
       {{"lr", 0.01},
        {"batch_size", 16},
        {"epochs_per_round", 2},
        {"replay_samples", 16},
        {"replay_buffer", 64}}},
      {"protocol", {{"mode", "instant"}, {"device", "cpu-2core"}}},
      {"scenarios",
       {{{"name", "clean"}, {"labeled_batches", 3}, {"batch_size", 16}, {"requests_per_batch", 5}},
        {{"name", "dark"},
         {"shift", "darken"},
         {"severity", 3},
         {"labeled_batches", 3},
         {"batch_size", 16},
         {"requests_per_batch", 5}}}},
  };
}

}  // namespace etuner::fixtures
