// Image folders: <root>/{train,test}/<class>/*.jpg|*.jpeg|*.png, decoded with stb_image.
//
// Classes are the sorted subfolder names of train/ (the official order when they are exactly
// the CIFAR-10 classes); files are sorted by name so that the order never depends on the
// file system. Decoding runs on torch's intra-op threads: CIFAR-10 as 60k small JPEGs is
// decode-bound, and at::parallel_for rethrows the first error on the calling thread.
#include <ATen/Parallel.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "data/internal.h"
#include "etuner/data.h"
#include "etuner/error.h"

namespace etuner::data {
namespace {

namespace fs = std::filesystem;

struct Item {
  std::string path;
  int64_t label = 0;
};

std::string layout_hint(const std::string& root) {
  return "expected the layout " + root + "/{train,test}/<class>/<name>.{jpg,jpeg,png}";
}

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

std::vector<std::string> sorted_subfolders(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> class_order(const std::vector<std::string>& sorted_names) {
  const auto& cifar = detail::cifar10_class_names();
  const std::set<std::string> as_set(sorted_names.begin(), sorted_names.end());
  if (as_set == std::set<std::string>(cifar.begin(), cifar.end())) return cifar;
  return sorted_names;
}

std::vector<std::string> sorted_images(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && is_image_file(entry.path()))
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<Item> list_split(const std::string& split_dir,
                             const std::vector<std::string>& classes) {
  for (const auto& name : sorted_subfolders(split_dir)) {
    if (std::find(classes.begin(), classes.end(), name) == classes.end()) {
      throw IoError(split_dir + "/" + name +
                    ": class not present in train/ (classes: " + detail::join(classes) + ")");
    }
  }
  std::vector<Item> items;
  for (size_t label = 0; label < classes.size(); ++label) {
    const fs::path dir = fs::path(split_dir) / classes[label];
    if (!fs::is_directory(dir)) continue;
    for (auto& path : sorted_images(dir))
      items.push_back({std::move(path), static_cast<int64_t>(label)});
  }
  if (items.empty()) throw IoError(split_dir + ": no .jpg/.jpeg/.png images found");
  return items;
}

// Size and channel count of the split, from its first image: 1 if it is grayscale, else 3
// (an alpha channel is dropped).
detail::ImageInfo probe_split(const std::vector<Item>& items) {
  detail::ImageInfo info;
  if (!detail::probe_image(detail::read_file(items[0].path), &info)) {
    throw IoError(items[0].path + ": not a PNG or JPEG image");
  }
  info.channels = info.channels <= 2 ? 1 : 3;
  return info;
}

// HWC pixels into one CHW slot of the batch.
void store_chw(const std::vector<uint8_t>& hwc, int64_t plane, int channels, uint8_t* chw) {
  for (int c = 0; c < channels; ++c) {
    for (int64_t i = 0; i < plane; ++i) chw[c * plane + i] = hwc[i * channels + c];
  }
}

Dataset load_split(const std::string& split_dir, const std::vector<std::string>& classes) {
  const auto items = list_split(split_dir, classes);
  const auto info = probe_split(items);
  const auto n = static_cast<int64_t>(items.size());
  Dataset d;
  d.images = torch::empty({n, info.channels, info.height, info.width}, torch::kUInt8);
  d.labels = torch::empty({n}, torch::kLong);
  d.class_names = classes;
  uint8_t* images = d.images.data_ptr<uint8_t>();
  int64_t* labels = d.labels.data_ptr<int64_t>();
  const int64_t plane = int64_t{info.height} * info.width;
  at::parallel_for(0, n, 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const auto hwc = detail::decode_image(detail::read_file(items[i].path), info.channels, info,
                                            items[i].path);
      store_chw(hwc, plane, info.channels, images + i * plane * info.channels);
      labels[i] = items[i].label;
    }
  });
  return d;
}

}  // namespace

Splits load_image_folder(const std::string& root) {
  const std::string train = root + "/train";
  const std::string test = root + "/test";
  if (!fs::is_directory(train) || !fs::is_directory(test)) {
    throw IoError("image folder " + root + " not found or incomplete: " + layout_hint(root));
  }
  const auto classes = class_order(sorted_subfolders(train));
  if (classes.empty()) throw IoError(train + " has no class folders: " + layout_hint(root));
  Splits splits{load_split(train, classes), load_split(test, classes)};
  if (splits.train.images.sizes().slice(1) != splits.test.images.sizes().slice(1)) {
    throw IoError(root + ": train and test images differ in size or channel count");
  }
  return splits;
}

}  // namespace etuner::data
