// A TorchScript module as a BlockModel: its top-level children, in order, are the units and
// the last child is the head (docs/models.md says how to script a model that way).
#include <torch/script.h>

#include <filesystem>
#include <sstream>

#include "etuner/error.h"
#include "model/zoo.h"

namespace etuner::model {

namespace {

// `dev` is the map location: storages saved on a GPU load onto it (CPU for a fresh model, as
// for zoo models; the caller moves it), so a file scripted on CUDA loads on a CPU-only host.
// A plain Device, not c10::optional: that alias is deprecated in LibTorch 2.x.
torch::jit::Module read_module(const std::string& path, const torch::Device& dev) {
  if (!std::filesystem::is_regular_file(path))
    throw ModelError("TorchScript file '" + path + "' does not exist");
  try {
    return torch::jit::load(path, dev);
  } catch (const std::exception& e) {
    throw ModelError("cannot load TorchScript file '" + path + "': " + brief(e));
  }
}

std::vector<torch::jit::Module> children_of(const torch::jit::Module& m, const std::string& path) {
  std::vector<torch::jit::Module> units;
  for (const auto& c : m.named_children()) {
    if (!c.value.find_method("forward"))
      throw ModelError("TorchScript file '" + path + "': child '" + c.name +
                       "' has no forward() (a ModuleList or ModuleDict cannot be a unit)");
    units.push_back(c.value);
  }
  if (units.size() < 2)
    throw ModelError("TorchScript file '" + path + "' has " + std::to_string(units.size()) +
                     " top-level children; it needs at least one block and a head");
  return units;
}

std::vector<std::string> child_names(const torch::jit::Module& m) {
  std::vector<std::string> names;
  for (const auto& c : m.named_children()) names.push_back(c.name);
  return names;
}

template <typename List>
std::vector<torch::Tensor> to_vector(const List& list) {
  std::vector<torch::Tensor> out;
  for (const auto& t : list) out.push_back(t);
  return out;
}

class ScriptModel final : public BlockModel {
 public:
  ScriptModel(torch::jit::Module module, std::string path)
      : module_(std::move(module)), path_(std::move(path)) {
    refresh_units();
  }

  std::string name() const override { return "torchscript:" + path_; }
  int num_blocks() const override { return static_cast<int>(units_.size()) - 1; }

  torch::Tensor forward_unit(int i, const torch::Tensor& x) override {
    check_unit(*this, i, "forward_unit");
    const bool flatten = i == num_blocks() && head_takes_features_ && x.dim() > 2;
    try {
      return units_[i].forward({flatten ? x.flatten(1) : x}).toTensor();
    } catch (const c10::Error& e) {
      throw ModelError(name() + ": unit " + std::to_string(i) + " failed: " + brief(e));
    }
  }

  std::vector<torch::Tensor> unit_parameters(int i) override {
    check_unit(*this, i, "unit_parameters");
    return to_vector(units_[i].parameters());
  }

  std::vector<torch::Tensor> unit_buffers(int i) override {
    check_unit(*this, i, "unit_buffers");
    return to_vector(units_[i].buffers());
  }

  // BatchNorm layers by their scripted class name (torch.nn.BatchNorm1d/2d/3d).
  std::vector<torch::Tensor> unit_norm_parameters(int i) override {
    check_unit(*this, i, "unit_norm_parameters");
    std::vector<torch::Tensor> out;
    for (const auto& m : units_[i].modules()) {
      const auto type = m.type()->name();
      if (!type || type->name().find("BatchNorm") == std::string::npos) continue;
      for (const auto& p : m.parameters(/*recurse=*/false)) out.push_back(p);
    }
    return out;
  }

  void set_unit_training(int i, bool training) override {
    check_unit(*this, i, "set_unit_training");
    try {
      units_[i].train(training);
    } catch (const c10::Error& e) {  // a module built without a `training` attribute
      throw ModelError(name() + ": cannot set the mode of unit " + std::to_string(i) + ": " +
                       brief(e));
    }
  }

  // Cloned without autograd: Module::clone() copies a parameter that requires grad (any
  // model scripted in Python, any checkpoint of a tuned one) into a non-leaf tensor, which an
  // optimizer refuses. The copies get their originals' requires_grad back.
  std::unique_ptr<BlockModel> clone() const override {
    auto copy = [this] {
      torch::NoGradGuard no_grad;
      return module_.clone();
    }();
    auto from = to_vector(module_.parameters()), to = to_vector(copy.parameters());
    for (size_t k = 0; k < to.size() && k < from.size(); ++k)
      to[k].requires_grad_(from[k].requires_grad());
    return std::make_unique<ScriptModel>(copy, path_);
  }

  void to(const torch::Device& device) override { module_.to(device); }

  // Serialized to memory, then written and renamed by write_model_file (see there).
  void save(const std::string& path) const override {
    std::ostringstream bytes;
    try {
      module_.save(bytes);
    } catch (const c10::Error& e) {
      throw ModelError("cannot serialize TorchScript model '" + path_ + "': " + brief(e));
    }
    write_model_file(path, bytes.str());
  }

  // Replaces the module with the file's, on this model's device; the file must have the
  // same top-level children (names and parameter shapes), so units keep their meaning.
  void load(const std::string& path) override {
    auto loaded = read_module(path, device());
    check_same_layout(loaded, path);
    module_ = loaded;
    refresh_units();
  }

 private:
  void refresh_units() {
    units_ = children_of(module_, path_);
    // A children-only model cannot express the flatten between a pooling child and a
    // linear head (torchvision's `avgpool`, `fc`), so a head that is a single layer (no
    // children) whose first parameter is a 2-D weight gets its input flattened. A head with
    // children (nn.Sequential(pool, flatten, linear)) flattens for itself and must not be
    // handed a flattened input.
    const auto& head = units_.back();
    auto head_params = head.parameters();
    head_takes_features_ =
        head.children().size() == 0 && head_params.size() > 0 && (*head_params.begin()).dim() == 2;
  }

  torch::Device device() const {
    for (const auto& p : module_.parameters()) return p.device();
    return torch::kCPU;
  }

  void check_same_layout(const torch::jit::Module& other, const std::string& path) const {
    if (child_names(other) != child_names(module_))
      throw ModelError("TorchScript file '" + path + "' has other top-level children than '" +
                       path_ + "'");
    auto mine = to_vector(module_.parameters()), theirs = to_vector(other.parameters());
    bool same = mine.size() == theirs.size();
    for (size_t k = 0; same && k < mine.size(); ++k)
      same = mine[k].sizes().equals(theirs[k].sizes());
    if (!same)
      throw ModelError("TorchScript file '" + path + "' has other parameter shapes than '" + path_ +
                       "'");
  }

  torch::jit::Module module_;
  std::string path_;
  std::vector<torch::jit::Module> units_;
  bool head_takes_features_ = false;
};

}  // namespace

std::unique_ptr<BlockModel> load_torchscript(const std::string& path) {
  return std::make_unique<ScriptModel>(read_module(path, torch::kCPU), path);
}

}  // namespace etuner::model
