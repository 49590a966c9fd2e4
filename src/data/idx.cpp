// IDX files (the MNIST family's format, big-endian header then raw bytes), gzipped or raw,
// and the Fashion-MNIST release laid out as four *-ubyte(.gz) files in one folder.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <memory>

#include "data/internal.h"
#include "etuner/data.h"
#include "etuner/error.h"

namespace etuner::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFashionHint =
    "install it with `sudo apt-get install dataset-fashion-mnist` (it lands in "
    "/usr/share/datasets/fashion-mnist), or pass a root holding "
    "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]";

// A corrupt header must not turn into a terabyte allocation: no real IDX file comes close.
constexpr int64_t kMaxIdxBytes = int64_t{1} << 32;

using GzFile = std::unique_ptr<gzFile_s, decltype(&gzclose)>;

// gzopen reads uncompressed files transparently, so one reader serves .gz and raw IDX.
class IdxReader {
 public:
  explicit IdxReader(const std::string& path)
      : file_(gzopen(path.c_str(), "rb"), &gzclose), path_(path) {
    if (!file_) throw IoError("cannot open IDX file " + path);
  }

  // Checks the magic (unsigned-byte data, `ndims` dimensions) and returns the dimensions.
  std::vector<int64_t> read_header(int ndims) {
    std::array<uint8_t, 4> magic{};
    read(magic.data(), magic.size());
    if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] != ndims) {
      throw IoError(path_ + ": not an unsigned-byte IDX file with " + std::to_string(ndims) +
                    " dimensions (bad magic number)");
    }
    std::vector<int64_t> dims;
    int64_t total = 1;
    for (int i = 0; i < ndims; ++i) {
      dims.push_back(read_u32());
      total *= std::max<int64_t>(dims.back(), 1);
      if (total > kMaxIdxBytes) throw IoError(path_ + ": implausible IDX dimensions");
    }
    return dims;
  }

  void read(void* dst, size_t n) {
    auto* out = static_cast<char*>(dst);
    while (n > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, size_t{1} << 30));
      if (gzread(file_.get(), out, chunk) != static_cast<int>(chunk)) {
        throw IoError(path_ + ": truncated or unreadable IDX file");
      }
      out += chunk;
      n -= chunk;
    }
  }

 private:
  int64_t read_u32() {
    std::array<uint8_t, 4> b{};
    read(b.data(), b.size());
    return (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | b[3];
  }

  GzFile file_;
  std::string path_;
};

std::vector<std::string> numbered_names(int64_t count) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < count; ++i) names.push_back(std::to_string(i));
  return names;
}

// "<root>/<base>.gz" if present, else "<root>/<base>", else IoError with the install hint.
std::string find_idx(const std::string& root, const std::string& base) {
  for (const std::string& candidate : {root + "/" + base + ".gz", root + "/" + base}) {
    if (fs::is_regular_file(candidate)) return candidate;
  }
  throw IoError("Fashion-MNIST file " + root + "/" + base + ".gz not found: " + kFashionHint);
}

Dataset load_fashion_split(const std::string& root, const std::string& prefix) {
  static const std::vector<std::string> kNames = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                  "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};
  Dataset d = load_idx(find_idx(root, prefix + "-images-idx3-ubyte"),
                       find_idx(root, prefix + "-labels-idx1-ubyte"));
  if (d.num_classes() > static_cast<int>(kNames.size())) {
    throw IoError(root + ": Fashion-MNIST labels must be 0..9");
  }
  d.class_names = kNames;
  return d;
}

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path) {
  IdxReader images_in(images_path);
  const auto dims = images_in.read_header(3);
  IdxReader labels_in(labels_path);
  const auto count = labels_in.read_header(1);
  if (count[0] != dims[0]) {
    throw IoError(images_path + " holds " + std::to_string(dims[0]) + " images but " + labels_path +
                  " holds " + std::to_string(count[0]) + " labels");
  }
  Dataset d;
  d.images = torch::empty({dims[0], 1, dims[1], dims[2]}, torch::kUInt8);
  images_in.read(d.images.data_ptr<uint8_t>(), static_cast<size_t>(d.images.numel()));
  auto labels_u8 = torch::empty({count[0]}, torch::kUInt8);
  labels_in.read(labels_u8.data_ptr<uint8_t>(), static_cast<size_t>(count[0]));
  d.labels = labels_u8.to(torch::kLong);
  d.class_names = numbered_names(count[0] > 0 ? d.labels.max().item<int64_t>() + 1 : 0);
  return d;
}

Splits load_fashion_mnist(const std::string& root) {
  if (!fs::is_directory(root)) {
    throw IoError("Fashion-MNIST folder " + root + " not found: " + kFashionHint);
  }
  return {load_fashion_split(root, "train"), load_fashion_split(root, "t10k")};
}

}  // namespace etuner::data
