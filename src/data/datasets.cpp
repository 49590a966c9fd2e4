// The data module's front door: source names, default roots, dispatch and small helpers.
#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "data/internal.h"
#include "etuner/data.h"
#include "etuner/error.h"

namespace etuner::data {
namespace {

namespace fs = std::filesystem;

struct Source {
  const char* name;
  const char* data_root_entry;  // its folder under $ETUNER_DATA_ROOT
  const char* fallback;         // where it lives when ETUNER_DATA_ROOT does not have it
};

// Written out by hand, like every registry in etuner.
const std::vector<Source>& sources() {
  static const std::vector<Source> kSources = {
      {"fashion-mnist", "fashion-mnist", "/usr/share/datasets/fashion-mnist"},
      {"cifar10-bin", "cifar-10-batches-bin", "data/cifar-10-batches-bin"},
      {"cifar100-bin", "cifar-100-binary", "data/cifar-100-binary"},
      {"imagefolder", "cifar10-jpg", "../shared/data/cifar10-jpg"},
  };
  return kSources;
}

std::vector<std::string> source_names() {
  std::vector<std::string> names;
  for (const auto& s : sources()) names.emplace_back(s.name);
  return names;
}

}  // namespace

namespace detail {

const std::vector<std::string>& cifar10_class_names() {
  static const std::vector<std::string> kNames = {
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  return kNames;
}

}  // namespace detail

std::string default_root(const std::string& source) {
  for (const auto& s : sources()) {
    if (source != s.name) continue;
    const char* env = std::getenv("ETUNER_DATA_ROOT");
    if (env != nullptr && *env != '\0') {
      const std::string candidate = std::string(env) + "/" + s.data_root_entry;
      if (fs::exists(candidate)) return candidate;
    }
    return s.fallback;
  }
  return "";
}

Splits load(const std::string& source, const std::string& root) {
  const std::string dir = root.empty() ? default_root(source) : root;
  if (source == "fashion-mnist") return load_fashion_mnist(dir);
  if (source == "cifar10-bin") return load_cifar_bin(dir, 10);
  if (source == "cifar100-bin") return load_cifar_bin(dir, 100);
  if (source == "imagefolder") return load_image_folder(dir);
  if (source == "manifest")
    throw ConfigError(
        "data source 'manifest' is a recorded stream, not a data set: `etuner "
        "bench` replays it (load_manifest); pretraining needs a data set");
  throw ConfigError("data source '" + source +
                    "' is unknown; valid sources: " + detail::join(source_names()));
}

torch::Tensor to_float(const torch::Tensor& images_u8) {
  // Strict on purpose: dividing float images by 255 a second time is a silent bug.
  if (!images_u8.defined() || images_u8.scalar_type() != torch::kUInt8) {
    throw ConfigError("to_float: expects a uint8 image tensor");
  }
  return images_u8.to(torch::kFloat).div_(255.0);
}

std::vector<int64_t> indices_of_classes(const Dataset& d, const std::vector<int>& classes) {
  std::vector<int64_t> rows;
  if (d.size() == 0) return rows;
  const auto labels = d.labels.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t* l = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < d.size(); ++i) {
    if (std::find(classes.begin(), classes.end(), l[i]) != classes.end()) rows.push_back(i);
  }
  return rows;
}

}  // namespace etuner::data
