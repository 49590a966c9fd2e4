// Per-unit forward FLOPs from weight shapes and measured activation sizes.
//
// The rule (docs/models.md): a 4-D weight (a convolution) costs 2 * numel * H * W, where
// H x W is the unit's output resolution; a 2-D weight (a linear layer) costs 2 * numel;
// biases and BatchNorm are ignored. One refinement: in a unit that downsamples, the 4-D
// weights before the unit's first depthwise weight ([C,1,k,k], k > 1) run at the unit's
// *input* resolution. That is exactly MobileNetV2's expansion conv ahead of a stride-2
// depthwise conv; a unit with no depthwise conv (ResNet) is unaffected.
#include "etuner/error.h"
#include "etuner/model.h"

namespace etuner::model {

namespace {

struct Resolution {
  double in = 1, out = 1;  // H * W of the unit's input and output (1 for [N, F] tensors)
};

double spatial(const torch::Tensor& t) { return t.dim() == 4 ? t.size(2) * t.size(3) : 1.0; }

bool is_depthwise(const torch::Tensor& w) {
  return w.dim() == 4 && w.size(1) == 1 && w.size(2) * w.size(3) > 1;
}

double unit_flops(const std::vector<torch::Tensor>& params, Resolution r) {
  const bool has_dw = std::any_of(params.begin(), params.end(), is_depthwise);
  bool at_input = has_dw && r.out < r.in;
  double flops = 0;
  for (const auto& w : params) {
    if (is_depthwise(w)) at_input = false;
    if (w.dim() == 4) flops += 2.0 * w.numel() * (at_input ? r.in : r.out);
    if (w.dim() == 2) flops += 2.0 * w.numel();
  }
  return flops;
}

void check_range(const FlopsProfile& p, int from, int to) {
  const int n = static_cast<int>(p.unit_forward_flops.size());
  if (from < 0 || from > to || to > n)
    throw ModelError("FlopsProfile::range(" + std::to_string(from) + ", " + std::to_string(to) +
                     "): not a range of [0, " + std::to_string(n) + "]");
}

}  // namespace

double FlopsProfile::total() const { return range(0, static_cast<int>(unit_forward_flops.size())); }

double FlopsProfile::range(int from, int to) const {
  check_range(*this, from, to);
  double sum = 0;
  for (int i = from; i < to; ++i) sum += unit_forward_flops[i];
  return sum;
}

// Runs on an eval-mode clone: the caller's model keeps its modes and BatchNorm statistics
// without BlockModel needing a getter for per-unit modes.
FlopsProfile profile_flops(BlockModel& m, const torch::Tensor& sample) {
  if (sample.dim() != 4)
    throw ModelError("profile_flops: sample must be [1,C,H,W], got " +
                     std::to_string(sample.dim()) + " dims");
  auto probe = m.clone();
  probe->set_training(false);
  torch::NoGradGuard no_grad;
  auto params = probe->unit_parameters(0);
  torch::Tensor x = params.empty() ? sample : sample.to(params.front().device());
  FlopsProfile p;
  for (int i = 0; i < probe->num_units(); ++i) {
    torch::Tensor y = probe->forward_unit(i, x);
    p.unit_forward_flops.push_back(unit_flops(probe->unit_parameters(i), {spatial(x), spatial(y)}));
    x = y;
  }
  return p;
}

}  // namespace etuner::model
