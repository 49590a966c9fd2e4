// Data module tests: loaders on tiny fixtures written here, shifts on synthetic images.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "etuner/data.h"
#include "etuner/error.h"
#include "etuner/shift.h"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace fs = std::filesystem;
using namespace etuner;
using namespace etuner::data;
using Bytes = std::vector<uint8_t>;

namespace {

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("etuner_test_data_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

void write_file(const std::string& path, const Bytes& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

Bytes idx_bytes(const std::vector<uint32_t>& dims, const Bytes& data) {
  Bytes out = {0, 0, 8, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(d >> shift));
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes pattern(size_t n, int mul, int add) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * mul + add) % 256);
  return b;
}

template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return std::string(e.kind()) + ": " + e.what();
  }
  return "no error";
}

// Writes the four Fashion-MNIST files (n_train 2x3 images, 2 test ones) into `dir`.
void write_fashion(const std::string& dir, bool gz) {
  auto put = [&](const std::string& name, const Bytes& b) {
    gz ? write_gz(dir + "/" + name + ".gz", b) : write_file(dir + "/" + name, b);
  };
  fs::create_directories(dir);
  put("train-images-idx3-ubyte", idx_bytes({3, 2, 3}, pattern(18, 7, 1)));
  put("train-labels-idx1-ubyte", idx_bytes({3}, {9, 0, 4}));
  put("t10k-images-idx3-ubyte", idx_bytes({2, 2, 3}, pattern(12, 5, 3)));
  put("t10k-labels-idx1-ubyte", idx_bytes({2}, {1, 2}));
}

}  // namespace

TEST(Idx, GzippedAndRawGiveTheSameExactPixels) {
  TempDir tmp;
  const Bytes pixels = pattern(3 * 4 * 5, 13, 2);
  write_gz(tmp / "img.gz", idx_bytes({3, 4, 5}, pixels));
  write_file(tmp / "img", idx_bytes({3, 4, 5}, pixels));
  write_gz(tmp / "lab.gz", idx_bytes({3}, {2, 0, 1}));
  for (const std::string suffix : {".gz", ""}) {
    Dataset d = load_idx(tmp / ("img" + suffix), tmp / "lab.gz");
    ASSERT_EQ(d.images.sizes(), torch::IntArrayRef({3, 1, 4, 5}));
    EXPECT_EQ(d.images.scalar_type(), torch::kUInt8);
    EXPECT_TRUE(torch::equal(
        d.images.flatten(),
        torch::tensor(std::vector<int64_t>(pixels.begin(), pixels.end())).to(torch::kUInt8)));
    EXPECT_TRUE(torch::equal(d.labels, torch::tensor({2, 0, 1}, torch::kLong)));
    EXPECT_EQ(d.class_names, (std::vector<std::string>{"0", "1", "2"}));
  }
}

TEST(Idx, BadFilesThrowIoErrorNamingThePath) {
  TempDir tmp;
  write_file(tmp / "bad", {1, 2, 3, 4, 5, 6, 7, 8});
  write_file(tmp / "img", idx_bytes({2, 2, 2}, pattern(8, 1, 0)));
  write_file(tmp / "short", idx_bytes({2, 2, 2}, pattern(5, 1, 0)));
  write_file(tmp / "lab2", idx_bytes({2}, {0, 1}));
  write_file(tmp / "lab3", idx_bytes({3}, {0, 1, 2}));
  EXPECT_NE(error_of([&] { load_idx(tmp / "bad", tmp / "lab3"); }).find("io: " + tmp / "bad"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load_idx(tmp / "img", tmp / "lab3"); }).find("holds 2 images"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load_idx(tmp / "short", tmp / "lab2"); }).find("truncated"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load_idx(tmp / "nope", tmp / "lab3"); }).find("io: cannot open"),
            std::string::npos);
}

TEST(Idx, FashionMnistLayoutGzOrRaw) {
  for (bool gz : {true, false}) {
    TempDir tmp;
    write_fashion(tmp / "fm", gz);
    Splits s = load("fashion-mnist", tmp / "fm");
    EXPECT_EQ(s.train.size(), 3);
    EXPECT_EQ(s.test.size(), 2);
    EXPECT_EQ(s.train.class_names.at(0), "T-shirt/top");
    EXPECT_EQ(s.test.class_names.at(9), "Ankle boot");
    EXPECT_EQ(s.test.labels[1].item<int64_t>(), 2);
    EXPECT_EQ(s.test.images[1][0][1][2].item<int>(), (11 * 5 + 3) % 256);
  }
  const std::string err = error_of([] { load_fashion_mnist("/nonexistent/fm"); });
  EXPECT_NE(err.find("io: "), std::string::npos);
  EXPECT_NE(err.find("/nonexistent/fm"), std::string::npos);
  EXPECT_NE(err.find("apt-get install dataset-fashion-mnist"), std::string::npos);
}

TEST(CifarBin, Cifar10RecordsFromTheFolderOrItsParent) {
  TempDir tmp;
  const std::string dir = tmp / "cifar-10-batches-bin";
  auto records = [](int count, int seed) {
    Bytes b;
    for (int r = 0; r < count; ++r) {
      b.push_back(static_cast<uint8_t>((seed + r) % 10));
      Bytes px = pattern(3072, 3 + r, seed);
      b.insert(b.end(), px.begin(), px.end());
    }
    return b;
  };
  for (int i = 1; i <= 5; ++i)
    write_file(dir + "/data_batch_" + std::to_string(i) + ".bin", records(2, i));
  write_file(dir + "/test_batch.bin", records(3, 7));
  write_file(dir + "/batches.meta.txt",
             Bytes{'a', '\n', 'b', '\n'});  // wrong count: official names
  for (const std::string& root : {tmp.str(), dir}) {
    Splits s = load("cifar10-bin", root);
    ASSERT_EQ(s.train.images.sizes(), torch::IntArrayRef({10, 3, 32, 32}));
    ASSERT_EQ(s.test.size(), 3);
    EXPECT_EQ(s.train.labels[3].item<int64_t>(), 3);  // batch 2, record 1: (2 + 1) % 10
    EXPECT_EQ(s.test.class_names.at(9), "truck");
    // Planar CHW: channel 1, row 2, column 5 of test record 2 is byte 1024 + 2 * 32 + 5.
    EXPECT_EQ(s.test.images[2][1][2][5].item<int>(), ((1024 + 69) * 5 + 7) % 256);
  }
  const std::string err = error_of([&] { load_cifar_bin(tmp / "none", 10); });
  EXPECT_NE(err.find("make download-cifar"), std::string::npos);
  EXPECT_NE(err.find(tmp / "none"), std::string::npos);
}

TEST(CifarBin, Cifar100UsesFineLabels) {
  TempDir tmp;
  const std::string dir = tmp / "cifar-100-binary";
  Bytes rec = {3, 42};
  Bytes px = pattern(3072, 1, 9);
  rec.insert(rec.end(), px.begin(), px.end());
  write_file(dir + "/train.bin", rec);
  write_file(dir + "/test.bin", rec);
  Splits s = load("cifar100-bin", tmp.str());
  EXPECT_EQ(s.train.labels[0].item<int64_t>(), 42);
  EXPECT_EQ(s.train.num_classes(), 100);
  EXPECT_EQ(s.test.images[0][2][31][31].item<int>(), (3071 + 9) % 256);
  write_file(dir + "/test.bin", Bytes(100, 0));
  EXPECT_NE(error_of([&] { load_cifar_bin(dir, 100); }).find("not a multiple"), std::string::npos);
}

namespace {

// A w x h image with `channels` channels whose pixels encode (seed, x, y, c).
Bytes test_image(int w, int h, int channels, int seed) {
  Bytes px(static_cast<size_t>(w) * h * channels);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 29 + seed * 41) % 256);
  return px;
}

void write_png(const std::string& path, int w, int h, int channels, const Bytes& px) {
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, channels, px.data(), w * channels));
}

// Pixel (x, y, c) of an HWC buffer as stored by the loader in CHW.
int hwc_at(const Bytes& px, int w, int channels, int x, int y, int c) {
  return px[(y * w + x) * channels + c];
}

}  // namespace

TEST(ImageFolder, PngPixelsLabelsAndOrderAreExact) {
  TempDir tmp;
  // Written out of order: classes and files must come back sorted by name.
  write_png(tmp / "train/zebra/b.png", 6, 4, 3, test_image(6, 4, 3, 1));
  write_png(tmp / "train/zebra/a.png", 6, 4, 3, test_image(6, 4, 3, 2));
  write_png(tmp / "train/ant/x.png", 6, 4, 3, test_image(6, 4, 3, 3));
  write_png(tmp / "test/zebra/c.png", 6, 4, 4, test_image(6, 4, 4, 4));  // RGBA: alpha dropped
  write_file(tmp / "train/ant/notes.txt", Bytes{'h', 'i'});
  Splits s = load("imagefolder", tmp.str());
  EXPECT_EQ(s.train.class_names, (std::vector<std::string>{"ant", "zebra"}));
  EXPECT_TRUE(torch::equal(s.train.labels, torch::tensor({0, 1, 1}, torch::kLong)));
  ASSERT_EQ(s.train.images.sizes(), torch::IntArrayRef({3, 3, 4, 6}));
  const Bytes a = test_image(6, 4, 3, 2);  // zebra/a.png is row 1
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(s.train.images[1][c][3][5].item<int>(), hwc_at(a, 6, 3, 5, 3, c));
    EXPECT_EQ(s.train.images[1][c][0][1].item<int>(), hwc_at(a, 6, 3, 1, 0, c));
  }
  EXPECT_EQ(s.test.images[0][2][1][2].item<int>(), hwc_at(test_image(6, 4, 4, 4), 6, 4, 2, 1, 2));
  EXPECT_EQ(s.test.labels[0].item<int64_t>(), 1);
}

TEST(ImageFolder, JpegIsCloseAndGrayPngHasOneChannel) {
  TempDir tmp;
  Bytes smooth(16 * 16 * 3);
  for (size_t i = 0; i < smooth.size(); ++i)
    smooth[i] = static_cast<uint8_t>(30 + (i / 3 % 16) * 6 + (i / 48) * 3 + (i % 3) * 20);
  fs::create_directories(tmp / "train/k");
  fs::create_directories(tmp / "test/k");
  ASSERT_TRUE(stbi_write_jpg((tmp / "train/k/0.jpg").c_str(), 16, 16, 3, smooth.data(), 95));
  ASSERT_TRUE(stbi_write_jpg((tmp / "test/k/0.JPG").c_str(), 16, 16, 3, smooth.data(), 95));
  Splits s = load_image_folder(tmp.str());
  ASSERT_EQ(s.test.images.sizes(), torch::IntArrayRef({1, 3, 16, 16}));
  const auto want = torch::tensor(std::vector<int64_t>(smooth.begin(), smooth.end()))
                        .view({1, 16, 16, 3})
                        .permute({0, 3, 1, 2});
  EXPECT_LT((s.test.images.to(torch::kLong) - want).abs().max().item<int64_t>(), 8);

  TempDir gray;
  const Bytes px = test_image(5, 3, 1, 7);
  write_png(gray / "train/k/0.png", 5, 3, 1, px);
  write_png(gray / "test/k/0.png", 5, 3, 1, px);
  Splits g = load_image_folder(gray.str());
  ASSERT_EQ(g.train.images.sizes(), torch::IntArrayRef({1, 1, 3, 5}));
  EXPECT_EQ(g.train.images[0][0][2][4].item<int>(), hwc_at(px, 5, 1, 4, 2, 0));
}

TEST(ImageFolder, ErrorsNameTheFileOrTheLayout) {
  TempDir tmp;
  write_png(tmp / "train/k/0.png", 4, 4, 3, test_image(4, 4, 3, 0));
  write_png(tmp / "train/k/1.png", 8, 8, 3, test_image(8, 8, 3, 0));
  write_png(tmp / "test/k/0.png", 4, 4, 3, test_image(4, 4, 3, 0));
  const std::string err = error_of([&] { load_image_folder(tmp.str()); });
  EXPECT_NE(err.find("io: " + tmp / "train/k/1.png"), std::string::npos) << err;
  EXPECT_NE(err.find("share one size"), std::string::npos) << err;
  fs::remove(tmp / "train/k/1.png");
  write_png(tmp / "test/q/0.png", 4, 4, 3, test_image(4, 4, 3, 0));
  EXPECT_NE(error_of([&] { load_image_folder(tmp.str()); }).find("class not present in train"),
            std::string::npos);
  const std::string missing = error_of([] { load_image_folder("/nonexistent/imgs"); });
  EXPECT_NE(missing.find("/nonexistent/imgs/{train,test}/<class>/"), std::string::npos) << missing;
}

TEST(ImageFolder, Cifar10ClassNamesGetTheOfficialOrder) {
  TempDir tmp;
  const std::vector<std::string> official = {"airplane", "automobile", "bird",  "cat",  "deer",
                                             "dog",      "frog",       "horse", "ship", "truck"};
  for (const auto& name : official) {
    write_png(tmp / ("train/" + name + "/0.png"), 2, 2, 3, test_image(2, 2, 3, 0));
    write_png(tmp / ("test/" + name + "/0.png"), 2, 2, 3, test_image(2, 2, 3, 0));
  }
  EXPECT_EQ(load_image_folder(tmp.str()).test.class_names, official);
}

TEST(Datasets, DispatchDefaultsAndHelpers) {
  EXPECT_EQ(default_root("fashion-mnist"), "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(default_root("cifar100-bin"), "data/cifar-100-binary");
  EXPECT_EQ(default_root("nope"), "");
  const std::string err = error_of([] { load("mnist", ""); });
  EXPECT_NE(err.find("config: "), std::string::npos);
  EXPECT_NE(err.find("fashion-mnist, cifar10-bin, cifar100-bin, imagefolder"), std::string::npos)
      << err;

  TempDir tmp;
  fs::create_directories(tmp / "cifar10-jpg");
  ::setenv("ETUNER_DATA_ROOT", tmp.str().c_str(), 1);
  EXPECT_EQ(default_root("imagefolder"), tmp / "cifar10-jpg");
  EXPECT_EQ(default_root("cifar10-bin"), "data/cifar-10-batches-bin");  // not under the env root
  ::unsetenv("ETUNER_DATA_ROOT");

  Dataset d;
  d.labels = torch::tensor({3, 1, 3, 0, 2}, torch::kLong);
  EXPECT_EQ(indices_of_classes(d, {3, 0}), (std::vector<int64_t>{0, 2, 3}));
  EXPECT_TRUE(indices_of_classes(Dataset{}, {1}).empty());
  const auto f = to_float(torch::tensor({0, 51, 255}, torch::kUInt8));
  EXPECT_TRUE(torch::allclose(f, torch::tensor({0.0f, 0.2f, 1.0f})));
  EXPECT_THROW(to_float(f), ConfigError);
}

namespace {

std::string real_cifar10_jpg() {
  const char* src = std::getenv("ETUNER_SOURCE_DIR");
  const std::string from_source = src ? std::string(src) + "/../shared/data/cifar10-jpg" : "";
  if (!from_source.empty() && fs::is_directory(from_source)) return from_source;
  return default_root("imagefolder");
}

}  // namespace

TEST(RealData, Cifar10JpgTreeLoadsFully) {
  const std::string root = real_cifar10_jpg();
  if (!fs::is_directory(root + "/train"))
    GTEST_SKIP() << "no CIFAR-10 JPEG tree at " << root << " (dev data only)";
  const auto start = std::chrono::steady_clock::now();
  Splits s = load_image_folder(root);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ info ] loaded " << root << " in " << seconds << " s\n";
  ASSERT_EQ(s.train.images.sizes(), torch::IntArrayRef({50000, 3, 32, 32}));
  ASSERT_EQ(s.test.images.sizes(), torch::IntArrayRef({10000, 3, 32, 32}));
  EXPECT_EQ(s.train.class_names.at(0), "airplane");
  EXPECT_TRUE(torch::equal(s.test.labels.bincount(), torch::full({10}, 1000, torch::kLong)));
  EXPECT_EQ(s.train.labels[5000].item<int64_t>(), 1);
}

TEST(RealData, FashionMnistIfInstalled) {
  const std::string root = default_root("fashion-mnist");
  if (!fs::is_directory(root))
    GTEST_SKIP() << "no Fashion-MNIST at " << root << " (apt-get install dataset-fashion-mnist)";
  Splits s = load("fashion-mnist", "");
  EXPECT_EQ(s.train.images.sizes(), torch::IntArrayRef({60000, 1, 28, 28}));
  EXPECT_EQ(s.test.size(), 10000);
  EXPECT_TRUE(torch::equal(s.test.labels.bincount(), torch::full({10}, 1000, torch::kLong)));
}
