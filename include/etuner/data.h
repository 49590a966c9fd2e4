// Datasets: images as uint8 NCHW tensors plus int64 labels, loaded from real files.
//
//   auto splits = etuner::data::load("fashion-mnist", "");   // "" = the default root
//   torch::Tensor x = etuner::data::to_float(splits.train.images.index({torch::indexing::Slice(0,
//   32)}));
//
// Sources: "fashion-mnist" (gzipped or raw IDX), "cifar10-bin" / "cifar100-bin" (the official
// binary release), "imagefolder" (<root>/{train,test}/<class>/*.jpg|png, classes sorted by
// name unless the spec lists them). Missing data throws IoError naming the path and how to
// get it.
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

// uint8 [N,C,H,W] -> float in [0,1].
torch::Tensor to_float(const torch::Tensor& images_u8);

// The rows of `d` whose label is in `classes`, in their original order.
std::vector<int64_t> indices_of_classes(const Dataset& d, const std::vector<int>& classes);

}  // namespace etuner::data
