// What stands between a user's model and etuner's inputs: recognising a TorchScript file by
// what it holds, checking the head's width against the classes, and per-channel
// normalization in front of unit 0.
#include <caffe2/serialize/inline_container.h>

#include <filesystem>
#include <fstream>

#include "etuner/error.h"
#include "model/zoo.h"

namespace etuner::model {
namespace {

bool starts_like_zip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {0};
  in.read(magic, 4);
  return in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
}

// A TorchScript archive has constants.pkl and code/ beside data.pkl; a torch.save() state
// dict is a zip too, but has neither.
bool has_script_layout(const std::string& path) {
  caffe2::serialize::PyTorchStreamReader reader(path);
  if (reader.hasRecord("constants.pkl")) return true;
  for (const auto& name : reader.getAllRecords())
    if (name.rfind("code/", 0) == 0) return true;
  return false;
}

// (x - mean) / std per channel in front of unit 0; everything else is the wrapped model's.
class NormalizedModel final : public BlockModel {
 public:
  NormalizedModel(std::unique_ptr<BlockModel> inner, torch::Tensor mean, torch::Tensor std_dev)
      : inner_(std::move(inner)), mean_(std::move(mean)), std_(std::move(std_dev)) {}

  std::string name() const override { return inner_->name(); }
  int num_blocks() const override { return inner_->num_blocks(); }
  torch::Tensor forward_unit(int i, const torch::Tensor& x) override {
    if (i != 0) return inner_->forward_unit(i, x);
    return inner_->forward_unit(0, (x - mean_.to(x.device())) / std_.to(x.device()));
  }
  std::vector<torch::Tensor> unit_parameters(int i) override { return inner_->unit_parameters(i); }
  std::vector<torch::Tensor> unit_buffers(int i) override { return inner_->unit_buffers(i); }
  std::vector<torch::Tensor> unit_norm_parameters(int i) override {
    return inner_->unit_norm_parameters(i);
  }
  void set_unit_training(int i, bool training) override { inner_->set_unit_training(i, training); }
  std::unique_ptr<BlockModel> clone() const override {
    return std::make_unique<NormalizedModel>(inner_->clone(), mean_, std_);
  }
  void to(const torch::Device& device) override { inner_->to(device); }
  // The file is the user's model alone: whoever loads it applies the same normalization.
  void save(const std::string& path) const override { inner_->save(path); }
  void load(const std::string& path) override { inner_->load(path); }
  void set_tallying(bool on) override { inner_->set_tallying(on); }
  std::vector<BatchNormTally*> unit_tallies(int i) override { return inner_->unit_tallies(i); }

 private:
  std::unique_ptr<BlockModel> inner_;
  torch::Tensor mean_, std_;  // [1, C, 1, 1]
};

torch::Tensor per_channel(const std::vector<double>& v) {
  return torch::tensor(v, torch::kFloat).view({1, -1, 1, 1});
}

}  // namespace

bool is_torchscript_file(const std::string& path) {
  if (!std::filesystem::is_regular_file(path) || !starts_like_zip(path)) return false;
  try {
    return has_script_layout(path);
  } catch (const std::exception&) {  // a damaged zip: not something torch::jit::load reads
    return false;
  }
}

void check_output_width(BlockModel& m, const InputShape& shape) {
  torch::NoGradGuard no_grad;
  m.set_training(false);  // one sample through BatchNorm in training mode is an error
  torch::Tensor out;
  try {
    out = m.forward(torch::zeros({1, shape.channels, shape.height, shape.width}));
  } catch (const std::exception& e) {
    throw ModelError(m.name() + ": a [1, " + std::to_string(shape.channels) + ", " +
                     std::to_string(shape.height) + ", " + std::to_string(shape.width) +
                     "] input fails: " + brief(e));
  }
  if (out.dim() != 2 || out.size(1) != shape.num_classes)
    throw ModelError(m.name() + ": its output is " + c10::str(out.sizes()) + " for one sample; " +
                     "the data has " + std::to_string(shape.num_classes) +
                     " classes, so it must be [1, " + std::to_string(shape.num_classes) + "]");
}

std::unique_ptr<BlockModel> with_normalization(std::unique_ptr<BlockModel> m,
                                               const std::vector<double>& mean,
                                               const std::vector<double>& std_dev) {
  if (mean.empty() && std_dev.empty()) return m;
  if (mean.size() != std_dev.size())
    throw ConfigError("input.mean and input.std need one value per channel each (got " +
                      std::to_string(mean.size()) + " and " + std::to_string(std_dev.size()) + ")");
  for (double s : std_dev)
    if (!(s > 0)) throw ConfigError("input.std: every value must be > 0");
  return std::make_unique<NormalizedModel>(std::move(m), per_channel(mean), per_channel(std_dev));
}

}  // namespace etuner::model
