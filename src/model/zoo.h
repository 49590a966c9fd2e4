// Private to src/model: the zoo's network builders and the BlockModel that wraps them.
//
// A builder returns the units of one network as torch::nn::Sequential modules (blocks,
// then the head); ZooModel owns them under one root module so that parameter and buffer
// names ("block3.1.conv1.weight") are stable for save/load.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "etuner/model.h"

namespace etuner::model {

struct ZooUnits {
  std::vector<torch::nn::Sequential> blocks;
  torch::nn::Sequential head{nullptr};
};

namespace zoo {

// The units of zoo network `name` (the table in zoo.cpp), initialized from torch's global
// RNG (the layers' own init, then init_convs); throws ConfigError for an unknown name or an
// input the network cannot take.
ZooUnits make_units(const std::string& name, const InputShape& shape);

ZooUnits resnet20(const InputShape& shape);
ZooUnits mobilenetv2(const InputShape& shape);
ZooUnits smallcnn(const InputShape& shape);
ZooUnits tiny(const InputShape& shape);

// BatchNorm2d (momentum 0.1, eps 1e-5, affine) that, while tallying and in eval mode, also
// sums its input per channel: the answering pass then gives the requests' statistics
// (BlockModel::set_tallying). Its tensors are torch::nn::BatchNorm2d's, registered in the same
// order under the same names, so model files are unchanged; its forward is the same
// functional batch_norm call. Not derived from BatchNorm2dImpl: LibTorch does not export all of
// that class's members, so a subclass does not link.
class TallyBatchNorm2dImpl : public torch::nn::Cloneable<TallyBatchNorm2dImpl> {
 public:
  explicit TallyBatchNorm2dImpl(int64_t features);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);
  void set_tallying(bool on) { tallying_ = on; }
  BatchNormTally& tally();

  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  int64_t features_;
  bool tallying_ = false;
  BatchNormTally tally_;
};
TORCH_MODULE(TallyBatchNorm2d);

// Shared layers: conv3x3 (padding 1, no bias: BN follows) + BN + ReLU.
torch::nn::Sequential conv_bn_relu(int in, int out, int stride = 1);
// Global average pool + flatten + linear: the head of every zoo network.
torch::nn::Sequential pool_linear_head(int in, int num_classes);
// Kaiming-normal (fan_out, ReLU) for every convolution under `root`, as torchvision does;
// BatchNorm keeps weight 1 / bias 0 and linear layers keep LibTorch's default init.
void init_convs(torch::nn::Module& root);

}  // namespace zoo

// Throws ModelError unless 0 <= i < m.num_units(); `what` names the operation.
void check_unit(const BlockModel& m, int i, const char* what);

// The first non-empty line of an exception's message, without c10's backtrace: LibTorch
// messages can run to pages, and ours name the path or unit anyway.
std::string brief(const std::exception& e);

// Writes a serialized model to path + ".tmp", checking every write and the close, then renames
// it to path. LibTorch's own file writer throws from a destructor when the disk fills, which
// ends in std::terminate, so models are serialized to memory first and written here.
// Throws ModelError naming the path and the system's reason (a full disk, say).
void write_model_file(const std::string& path, const std::string& bytes);

class ZooModel final : public BlockModel {
 public:
  ZooModel(std::string name, const InputShape& shape, ZooUnits units);

  std::string name() const override { return name_; }
  int num_blocks() const override { return static_cast<int>(units_.size()) - 1; }
  torch::Tensor forward_unit(int i, const torch::Tensor& x) override;
  std::vector<torch::Tensor> unit_parameters(int i) override;
  std::vector<torch::Tensor> unit_buffers(int i) override;
  std::vector<torch::Tensor> unit_norm_parameters(int i) override;
  void set_unit_training(int i, bool training) override;
  // Also carries over per-module train/eval modes and requires_grad flags, so a clone of a
  // partly frozen model is frozen the same way.
  std::unique_ptr<BlockModel> clone() const override;
  void to(const torch::Device& device) override;
  void save(const std::string& path) const override;
  void load(const std::string& path) override;
  void set_tallying(bool on) override;
  std::vector<BatchNormTally*> unit_tallies(int i) override;

 private:
  torch::Device device() const;
  void copy_state_from(const ZooModel& other);

  std::string name_;
  InputShape shape_;
  std::shared_ptr<torch::nn::Module> root_;
  std::vector<torch::nn::Sequential> units_;  // blocks then head, registered under root_
};

}  // namespace etuner::model
