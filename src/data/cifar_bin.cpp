// CIFAR-10 / CIFAR-100 in the official binary release: fixed-size records of label byte(s)
// followed by 3x32x32 pixels in planar (CHW) order, so records copy straight into NCHW.
#include <filesystem>
#include <fstream>

#include "data/internal.h"
#include "etuner/data.h"
#include "etuner/error.h"

namespace etuner::data {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kPixels = 3 * 32 * 32;

struct Layout {
  std::string folder;              // the release's folder name
  std::vector<std::string> train;  // record files of the train split
  std::string test;
  std::string names_file;  // one class name a line
  int label_bytes = 1;     // CIFAR-100 stores coarse then fine
  std::string how_to_get;  // for the error when it is missing
};

Layout layout_for(int num_classes) {
  if (num_classes == 10) {
    return {"cifar-10-batches-bin",
            {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
             "data_batch_5.bin"},
            "test_batch.bin",
            "batches.meta.txt",
            1,
            "`make download-cifar` (it fetches https://www.cs.toronto.edu/~kriz/"
            "cifar-10-binary.tar.gz and extracts it into data/; see docs/data.md)"};
  }
  if (num_classes == 100) {
    return {"cifar-100-binary",
            {"train.bin"},
            "test.bin",
            "fine_label_names.txt",
            2,
            "downloading https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz and "
            "extracting it into data/ (docs/data.md)"};
  }
  throw ConfigError("cifar num_classes: must be 10 or 100, got " + std::to_string(num_classes));
}

// The release folder itself, or a parent holding it: whichever has the test file.
std::string resolve_folder(const std::string& root, const Layout& layout) {
  for (const std::string& dir : {root, root + "/" + layout.folder}) {
    if (fs::is_regular_file(dir + "/" + layout.test)) return dir;
  }
  throw IoError("CIFAR binary release not found: expected " + root + "/" + layout.folder + "/" +
                layout.test + " (or " + root + "/" + layout.test + "). Get it by " +
                layout.how_to_get);
}

std::vector<std::string> read_names(const std::string& path, int num_classes) {
  std::vector<std::string> names;
  std::ifstream in(path);
  for (std::string line; in && std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  if (static_cast<int>(names.size()) == num_classes) return names;
  // The names file is optional metadata; the labels stay usable without it.
  if (num_classes == 10) return detail::cifar10_class_names();
  names.clear();
  for (int i = 0; i < num_classes; ++i) names.push_back(std::to_string(i));
  return names;
}

// Appends the records of one file; the last label byte is the one used (fine for CIFAR-100).
void read_records(const std::string& path, int label_bytes, std::vector<uint8_t>* pixels,
                  std::vector<int64_t>* labels) {
  const auto bytes = detail::read_file(path);
  const int64_t record = label_bytes + kPixels;
  if (bytes.empty() || static_cast<int64_t>(bytes.size()) % record != 0) {
    throw IoError(path + ": size " + std::to_string(bytes.size()) + " is not a multiple of the " +
                  std::to_string(record) + "-byte CIFAR record");
  }
  for (size_t at = 0; at < bytes.size(); at += static_cast<size_t>(record)) {
    labels->push_back(bytes[at + label_bytes - 1]);
    pixels->insert(pixels->end(), bytes.begin() + static_cast<int64_t>(at) + label_bytes,
                   bytes.begin() + static_cast<int64_t>(at) + record);
  }
}

Dataset load_split(const std::string& dir, const std::vector<std::string>& files,
                   const Layout& layout, const std::vector<std::string>& names) {
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (const auto& f : files) {
    if (!fs::is_regular_file(dir + "/" + f))
      throw IoError("CIFAR file " + dir + "/" + f + " is missing");
    read_records(dir + "/" + f, layout.label_bytes, &pixels, &labels);
  }
  const auto n = static_cast<int64_t>(labels.size());
  for (int64_t label : labels) {
    if (label >= static_cast<int64_t>(names.size())) throw IoError(dir + ": label out of range");
  }
  Dataset d;
  d.images = torch::from_blob(pixels.data(), {n, 3, 32, 32}, torch::kUInt8).clone();
  d.labels = torch::from_blob(labels.data(), {n}, torch::kLong).clone();
  d.class_names = names;
  return d;
}

}  // namespace

Splits load_cifar_bin(const std::string& root, int num_classes) {
  const Layout layout = layout_for(num_classes);
  const std::string dir = resolve_folder(root, layout);
  const auto names = read_names(dir + "/" + layout.names_file, num_classes);
  return {load_split(dir, layout.train, layout, names),
          load_split(dir, {layout.test}, layout, names)};
}

}  // namespace etuner::data
