// BlockModel's non-virtual helpers: they only use the virtual per-unit interface, so zoo
// and TorchScript models share them.
#include <sstream>

#include "etuner/error.h"
#include "etuner/model.h"
#include "model/zoo.h"

namespace etuner::model {

namespace {

std::string shape_str(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? "," : "") + std::to_string(t.size(d));
  return s + "]";
}

// Throws ModelError unless `from` and `to` pair up tensor by tensor with equal shapes;
// `what` names the tensor list in the message.
void check_pairs(const std::vector<torch::Tensor>& from, const std::vector<torch::Tensor>& to,
                 const std::string& what) {
  if (from.size() != to.size())
    throw ModelError("copy_from: " + what + " has " + std::to_string(from.size()) +
                     " tensors in the source but " + std::to_string(to.size()) + " here");
  for (size_t k = 0; k < to.size(); ++k) {
    if (!from[k].sizes().equals(to[k].sizes()))
      throw ModelError("copy_from: " + what + " tensor " + std::to_string(k) + " is " +
                       shape_str(from[k]) + " in the source but " + shape_str(to[k]) + " here");
  }
}

struct TensorPairs {
  std::vector<torch::Tensor> from, to;
  void add(std::vector<torch::Tensor> f, std::vector<torch::Tensor> t, const std::string& what) {
    check_pairs(f, t, what);
    from.insert(from.end(), f.begin(), f.end());
    to.insert(to.end(), t.begin(), t.end());
  }
};

}  // namespace

std::string brief(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::istringstream lines(c10_error ? c10_error->what_without_backtrace() : e.what());
  std::string line;
  while (std::getline(lines, line))
    if (line.find_first_not_of(" \t") != std::string::npos) return line;
  return "unknown error";
}

void check_unit(const BlockModel& m, int i, const char* what) {
  if (i < 0 || i >= m.num_units())
    throw ModelError(std::string(what) + ": unit " + std::to_string(i) + " out of range [0, " +
                     std::to_string(m.num_units()) + ") for model '" + m.name() + "'");
}

torch::Tensor BlockModel::forward_range(int from, int to, torch::Tensor x) {
  if (from < 0 || from > to || to > num_units())
    throw ModelError("forward_range(" + std::to_string(from) + ", " + std::to_string(to) +
                     "): not a range of [0, " + std::to_string(num_units()) + "] for model '" +
                     name() + "'");
  for (int i = from; i < to; ++i) x = forward_unit(i, x);
  return x;
}

// Every unit's tensors of one kind, in unit order.
std::vector<torch::Tensor> BlockModel::all_units(UnitTensors of) {
  std::vector<torch::Tensor> all;
  for (int i = 0; i < num_units(); ++i) {
    auto t = (this->*of)(i);
    all.insert(all.end(), t.begin(), t.end());
  }
  return all;
}

std::vector<torch::Tensor> BlockModel::parameters() {
  return all_units(&BlockModel::unit_parameters);
}

std::vector<torch::Tensor> BlockModel::norm_parameters() {
  return all_units(&BlockModel::unit_norm_parameters);
}

void BlockModel::set_training(bool training) {
  for (int i = 0; i < num_units(); ++i) set_unit_training(i, training);
}

bool BlockModel::can_tally() {
  for (int i = 0; i < num_units(); ++i)
    if (!unit_tallies(i).empty()) return true;
  return false;
}

void BlockModel::copy_from(BlockModel& other) {
  if (other.num_units() != num_units())
    throw ModelError("copy_from: model '" + other.name() + "' has " +
                     std::to_string(other.num_units()) + " units but '" + name() + "' has " +
                     std::to_string(num_units()));
  // Check every unit before writing any, so a mismatch leaves this model untouched.
  TensorPairs pairs;
  for (int i = 0; i < num_units(); ++i) {
    const std::string unit = "unit " + std::to_string(i);
    pairs.add(other.unit_parameters(i), unit_parameters(i), unit + " parameters");
    pairs.add(other.unit_buffers(i), unit_buffers(i), unit + " buffers");
  }
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < pairs.to.size(); ++k) pairs.to[k].copy_(pairs.from[k]);
}

}  // namespace etuner::model
