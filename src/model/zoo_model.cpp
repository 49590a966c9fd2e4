// ZooModel: a BlockModel over torch::nn::Sequential units registered under one root module.
#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>
#include <sstream>

#include "etuner/error.h"
#include "model/zoo.h"

namespace etuner::model {

namespace {

// Metadata keys in saved files; tensor keys are the root module's parameter/buffer names.
constexpr const char* kNameKey = "etuner_model_name";

std::string unit_name(size_t i, size_t num_units) {
  return i + 1 == num_units ? "head" : "block" + std::to_string(i);
}

std::string shape_str(torch::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t d = 0; d < sizes.size(); ++d) s += (d ? "," : "") + std::to_string(sizes[d]);
  return s + "]";
}

// Reads the tensor `name` of a zoo file, checking it has the shape of the model's `like`.
torch::Tensor read_tensor(torch::serialize::InputArchive& ar, const std::string& path,
                          const std::string& name, const torch::Tensor& like, bool is_buffer) {
  torch::Tensor t;
  if (!ar.try_read(name, t, is_buffer))
    throw ModelError("model file '" + path + "': no tensor '" + name + "'");
  if (!t.sizes().equals(like.sizes()))
    throw ModelError("model file '" + path + "': tensor '" + name + "' is " + shape_str(t.sizes()) +
                     " but the model has " + shape_str(like.sizes()));
  return t;
}

// The units for a clone, built without drawing from torch's global RNG: their initial weights
// are overwritten anyway, and drawing would shift every later random op (shuffles, dropout)
// by the number of clones and snapshots taken.
ZooUnits units_for_clone(const std::string& name, const InputShape& shape) {
  auto gen = at::detail::getDefaultCPUGenerator();
  const auto state = gen.get_state();
  auto units = zoo::make_units(name, shape);
  gen.set_state(state);
  return units;
}

}  // namespace

ZooModel::ZooModel(std::string name, const InputShape& shape, ZooUnits units)
    : name_(std::move(name)), shape_(shape), root_(std::make_shared<torch::nn::Module>(name_)) {
  units_ = std::move(units.blocks);
  units_.push_back(units.head);
  for (size_t i = 0; i < units_.size(); ++i)
    root_->register_module(unit_name(i, units_.size()), units_[i]);
}

torch::Tensor ZooModel::forward_unit(int i, const torch::Tensor& x) {
  check_unit(*this, i, "forward_unit");
  try {
    return units_[i]->forward(x);
  } catch (const c10::Error& e) {  // e.g. an input with the wrong channel count
    throw ModelError(name_ + ": unit " + std::to_string(i) + " failed: " + brief(e));
  }
}

std::vector<torch::Tensor> ZooModel::unit_parameters(int i) {
  check_unit(*this, i, "unit_parameters");
  return units_[i]->parameters();
}

std::vector<torch::Tensor> ZooModel::unit_buffers(int i) {
  check_unit(*this, i, "unit_buffers");
  return units_[i]->buffers();
}

std::vector<torch::Tensor> ZooModel::unit_norm_parameters(int i) {
  check_unit(*this, i, "unit_norm_parameters");
  std::vector<torch::Tensor> out;
  for (const auto& m : units_[i]->modules(/*include_self=*/false))
    if (m->as<zoo::TallyBatchNorm2d>() || m->as<torch::nn::BatchNorm2d>() ||
        m->as<torch::nn::BatchNorm1d>())
      for (const auto& p : m->parameters(/*recurse=*/false)) out.push_back(p);
  return out;
}

void ZooModel::set_tallying(bool on) {
  for (const auto& m : root_->modules(/*include_self=*/false))
    if (auto* bn = m->as<zoo::TallyBatchNorm2d>()) bn->set_tallying(on);
}

std::vector<BatchNormTally*> ZooModel::unit_tallies(int i) {
  check_unit(*this, i, "unit_tallies");
  std::vector<BatchNormTally*> out;
  for (const auto& m : units_[i]->modules(/*include_self=*/false))
    if (auto* bn = m->as<zoo::TallyBatchNorm2d>()) out.push_back(&bn->tally());
  return out;
}

void ZooModel::set_unit_training(int i, bool training) {
  check_unit(*this, i, "set_unit_training");
  units_[i]->train(training);
}

torch::Device ZooModel::device() const { return root_->parameters().front().device(); }

void ZooModel::to(const torch::Device& device) { root_->to(device); }

std::unique_ptr<BlockModel> ZooModel::clone() const {
  auto copy = std::make_unique<ZooModel>(name_, shape_, units_for_clone(name_, shape_));
  copy->to(device());
  copy->copy_state_from(*this);
  return copy;
}

// Values, requires_grad flags and train/eval modes. modules() lists parents before their
// children, and train() recurses, so replaying the modes in that order restores each one.
void ZooModel::copy_state_from(const ZooModel& other) {
  torch::NoGradGuard no_grad;
  auto src_p = other.root_->parameters(), dst_p = root_->parameters();
  for (size_t k = 0; k < dst_p.size(); ++k)
    dst_p[k].copy_(src_p[k]).requires_grad_(src_p[k].requires_grad());
  auto src_b = other.root_->buffers(), dst_b = root_->buffers();
  for (size_t k = 0; k < dst_b.size(); ++k) dst_b[k].copy_(src_b[k]);
  auto src_m = other.root_->modules(), dst_m = root_->modules();
  for (size_t k = 0; k < dst_m.size(); ++k) dst_m[k]->train(src_m[k]->is_training());
}

// Serialized to memory, then written to a temporary file and renamed (write_model_file): a
// crash never leaves a truncated model, and a full disk is a ModelError, not an abort.
void ZooModel::save(const std::string& path) const {
  torch::serialize::OutputArchive ar;
  ar.write(kNameKey, c10::IValue(name_));
  for (const auto& p : root_->named_parameters()) ar.write(p.key(), p.value());
  for (const auto& b : root_->named_buffers()) ar.write(b.key(), b.value(), /*is_buffer=*/true);
  std::ostringstream bytes;
  try {
    ar.save_to(bytes);
  } catch (const c10::Error& e) {
    throw ModelError("cannot serialize model '" + name_ + "': " + brief(e));
  }
  write_model_file(path, bytes.str());
}

void ZooModel::load(const std::string& path) {
  if (!std::filesystem::is_regular_file(path))
    throw ModelError("model file '" + path + "' does not exist");
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(path, device());
  } catch (const c10::Error& e) {
    throw ModelError("cannot read model file '" + path + "': " + brief(e));
  }
  c10::IValue saved_name;
  if (!ar.try_read(kNameKey, saved_name) || !saved_name.isString())
    throw ModelError("'" + path + "' is not an etuner zoo model file (no model name)");
  if (saved_name.toStringRef() != name_)
    throw ModelError("model file '" + path + "' holds a '" + saved_name.toStringRef() +
                     "' but this model is a '" + name_ + "'");
  // Read and check everything before writing, so a bad file leaves the model untouched.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> dst_src;
  for (const auto& p : root_->named_parameters())
    dst_src.emplace_back(p.value(), read_tensor(ar, path, p.key(), p.value(), false));
  for (const auto& b : root_->named_buffers())
    dst_src.emplace_back(b.value(), read_tensor(ar, path, b.key(), b.value(), true));
  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : dst_src) dst.copy_(src);
}

}  // namespace etuner::model
