// Block models: a network as an ordered list of blocks (the freezing units) and a head.
//
//   auto m = etuner::model::make("resnet20", {3, 32, 32, 10});
//   torch::Tensor logits = m->forward(x);              // all units
//   torch::Tensor h = m->forward_range(0, 3, x);       // blocks 0..2 (a frozen prefix)
//   torch::Tensor y = m->forward_range(3, m->num_units(), h);
//
// Units 0..num_blocks()-1 are blocks, unit num_blocks() is the head. A TorchScript module
// (load_torchscript) exposes its top-level children as units, the last child being the head.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace etuner::model {

struct InputShape {
  int channels = 3;
  int height = 32;
  int width = 32;
  int num_classes = 10;
};

// What a BatchNorm layer's inputs summed to over the eval-mode passes since the last reset:
// the statistics of answered requests, taken from the pass that answered them (the fused
// adaptation, tuning::apply_batchnorm_tallies).
struct BatchNormTally {
  torch::Tensor running_mean, running_var;  // the layer's own buffers
  torch::Tensor sum, sum_sq;                // per channel, in double; undefined until a pass
  int64_t count = 0;                        // values summed per channel
  void reset() {
    sum = sum_sq = torch::Tensor();
    count = 0;
  }
};

class BlockModel {
 public:
  virtual ~BlockModel() = default;

  virtual std::string name() const = 0;
  virtual int num_blocks() const = 0;
  // Runs unit i (0..num_blocks(); num_blocks() is the head) on x.
  virtual torch::Tensor forward_unit(int i, const torch::Tensor& x) = 0;
  virtual std::vector<torch::Tensor> unit_parameters(int i) = 0;
  virtual std::vector<torch::Tensor> unit_buffers(int i) = 0;
  // The affine parameters (weight, bias) of unit i's BatchNorm layers: a subset of
  // unit_parameters(i), what test-time adaptation trains (adapter `eata`).
  virtual std::vector<torch::Tensor> unit_norm_parameters(int i) = 0;
  // Train/eval mode of one unit (BatchNorm statistics, dropout).
  virtual void set_unit_training(int i, bool training) = 0;
  // A deep copy (parameters and buffers) on the same device.
  virtual std::unique_ptr<BlockModel> clone() const = 0;
  virtual void to(const torch::Device& device) = 0;
  virtual void save(const std::string& path) const = 0;
  virtual void load(const std::string& path) = 0;
  // While on, each BatchNorm layer that normalizes with its running statistics (eval mode)
  // also sums its input per channel into its tally. Models that cannot (TorchScript) have
  // no tallies; callers then make a separate statistics pass.
  virtual void set_tallying(bool /*on*/) {}
  virtual std::vector<BatchNormTally*> unit_tallies(int /*i*/) { return {}; }

  int num_units() const { return num_blocks() + 1; }
  torch::Tensor forward(const torch::Tensor& x) { return forward_range(0, num_units(), x); }
  torch::Tensor forward_range(int from, int to, torch::Tensor x);
  std::vector<torch::Tensor> parameters();
  std::vector<torch::Tensor> norm_parameters();  // every unit's, in unit order
  void set_training(bool training);
  bool can_tally();  // some unit has a BatchNorm tally
  // Copies parameters and buffers from a model of the same architecture.
  void copy_from(BlockModel& other);

 private:
  using UnitTensors = std::vector<torch::Tensor> (BlockModel::*)(int);
  std::vector<torch::Tensor> all_units(UnitTensors of);
};

// Zoo names: "resnet20", "mobilenetv2", "smallcnn", "tiny". Throws ConfigError otherwise.
std::unique_ptr<BlockModel> make(const std::string& name, const InputShape& shape);
std::vector<std::string> zoo_names();

// A module scripted in PyTorch (torch.jit.script/trace + save). Throws ModelError.
std::unique_ptr<BlockModel> load_torchscript(const std::string& path);

// True when `path` is a file holding a TorchScript archive (a zip with TorchScript's
// constants.pkl or code/), whatever its name; false for a torch.save() state dict, another
// file or no file.
bool is_torchscript_file(const std::string& path);

// Throws ModelError unless one zero sample of `shape` runs through the model and gives
// [1, shape.num_classes] (a head sized for other classes, or an input it cannot take).
// Leaves the model in eval mode.
void check_output_width(BlockModel& m, const InputShape& shape);

// Normalizes unit 0's input, (x - mean[c]) / std[c] per channel, for a model trained on
// normalized inputs; etuner's images are in [0, 1]. Empty mean and std return `m` itself.
// ConfigError when their sizes differ or a std is not > 0. save() writes the model alone.
std::unique_ptr<BlockModel> with_normalization(std::unique_ptr<BlockModel> m,
                                               const std::vector<double>& mean,
                                               const std::vector<double>& std_dev);

// Per-sample forward FLOPs of each unit (2 x multiply-accumulates of convolutions and
// linear layers, from the weights' shapes and each unit's output size on `sample`, [1,C,H,W]).
struct FlopsProfile {
  std::vector<double> unit_forward_flops;
  double total() const;
  double range(int from, int to) const;
};
FlopsProfile profile_flops(BlockModel& m, const torch::Tensor& sample);

}  // namespace etuner::model
