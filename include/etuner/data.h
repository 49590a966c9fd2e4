// Datasets: images as uint8 NCHW tensors plus int64 labels, loaded from real files.
//
//   auto splits = etuner::data::load("fashion-mnist", "");   // "" = the default root
//   torch::Tensor x = etuner::data::to_float(splits.train.images.index({torch::indexing::Slice(0,
//   32)}));
//
// Sources: "fashion-mnist" (gzipped or raw IDX), "cifar10-bin" / "cifar100-bin" (the official
// binary release), "imagefolder" (<root>/{train,test}/<class>/*.jpg|png, classes sorted by
// name unless the spec lists them). Missing data throws IoError naming the path and how to
// get it. A recorded stream is a manifest instead (load_manifest).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace etuner::data {

struct Dataset {
  torch::Tensor images;  // [N, C, H, W] uint8
  torch::Tensor labels;  // [N] int64
  std::vector<std::string> class_names;
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  int num_classes() const { return static_cast<int>(class_names.size()); }
};

struct Splits {
  Dataset train;
  Dataset test;
};

// Where each source lives when the spec gives no root ("" if it has no default).
std::string default_root(const std::string& source);

// Dispatches on source; root "" means default_root(source).
Splits load(const std::string& source, const std::string& root);

Dataset load_idx(const std::string& images_path, const std::string& labels_path);
Splits load_fashion_mnist(const std::string& root);
Splits load_cifar_bin(const std::string& root, int num_classes);  // 10 or 100
Splits load_image_folder(const std::string& root);

// A recorded stream (data source "manifest", docs/data.md): one row per image.
struct ManifestRow {
  double time_s = 0;
  std::string path;      // relative paths are taken from the manifest's folder
  int64_t label = -1;    // -1: unlabeled
  std::string scenario;  // "" = the previous row's
  size_t line = 0;       // in the manifest file, for messages
};

struct Manifest {
  std::vector<ManifestRow> rows;  // by time_s; rows with equal times keep the file's order
  torch::Tensor images;           // [N, C, H, W] uint8, one per row, in rows' order
};

// The stream's image size: 0 = the first image's. Another size is resized (bilinear) when
// `resize` is set, else an IoError naming the row's line.
struct ImageSize {
  int height = 0;
  int width = 0;
  bool resize = false;
};

// Reads a JSONL (one object per line) or .csv (a header line) manifest with columns time,
// path, label (empty or absent: unlabeled), scenario. Channels follow the first image (1 if
// it is grayscale, else 3). Throws ConfigError (unknown column, bad number, label outside
// 0..num_classes-1) or IoError (missing or undecodable image), naming the file and line.
Manifest load_manifest(const std::string& path, int num_classes, ImageSize size);

// uint8 [N,C,H,W] resized to height x width (bilinear, rounded), uint8.
torch::Tensor resize_images(const torch::Tensor& images_u8, int height, int width);

// uint8 [N,C,H,W] -> float in [0,1].
torch::Tensor to_float(const torch::Tensor& images_u8);

// The rows of `d` whose label is in `classes`, in their original order.
std::vector<int64_t> indices_of_classes(const Dataset& d, const std::vector<int>& classes);

}  // namespace etuner::data
