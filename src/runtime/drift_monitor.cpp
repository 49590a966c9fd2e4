// Label-free change detection from the inference inputs. Each answered request contributes
// per-channel statistics of its pixels (mean, standard deviation, mean absolute gradient:
// brightness, contrast/noise, sharpness/blur). When the gap between two labeled batches
// ends, the mean feature vector of the newest requests (this gap, with earlier gaps while it
// holds fewer than `min_window`) is compared with a reference of requests since the last
// change, feature by feature, as a z-score under the reference's own spread; the largest z
// above `z_threshold` is a change. Cheap: no forward pass, no labels.
#include <cmath>

#include "runtime/drift_monitor.h"

namespace etuner::runtime {
namespace {

// [n, 3C]: per image and channel, mean, std and mean |horizontal + vertical gradient|.
torch::Tensor image_features(const torch::Tensor& images) {
  auto x = images.to(torch::kCPU, torch::kFloat);
  auto flat = x.flatten(2);
  auto dx = (x.narrow(3, 1, x.size(3) - 1) - x.narrow(3, 0, x.size(3) - 1)).abs().flatten(2);
  auto dy = (x.narrow(2, 1, x.size(2) - 1) - x.narrow(2, 0, x.size(2) - 1)).abs().flatten(2);
  return torch::cat({flat.mean(2), flat.std(2), dx.mean(2) + dy.mean(2)}, 1);
}

}  // namespace

void DriftMonitor::observe(const torch::Tensor& images) {
  if (images.size(0) == 0 || images.dim() != 4 || images.size(2) < 2 || images.size(3) < 2) return;
  torch::NoGradGuard no_grad;
  auto f = image_features(images);
  gap_ = gap_.defined() ? torch::cat({gap_, f}) : f;
}

DriftMonitor::Signature DriftMonitor::signature_of(const torch::Tensor& features) {
  Signature s;
  s.n = features.size(0);
  s.mean = features.mean(0);
  // A floor on the spread: features that never vary (a constant channel) must not turn
  // float noise into a change.
  s.var =
      (s.n > 1 ? features.var(0) : torch::zeros_like(s.mean)) + (s.mean.abs() * 1e-2 + 1e-4).pow(2);
  return s;
}

double DriftMonitor::distance(const Signature& window, const Signature& reference) {
  const double n = static_cast<double>(window.n), m = static_cast<double>(reference.n);
  auto z = (window.mean - reference.mean).abs() / (reference.var * (1 / n + 1 / m)).sqrt();
  return z.max().item<double>();
}

double DriftMonitor::score(const torch::Tensor& window) const {
  if (!ref_.defined() || ref_.size(0) < min_reference_) return 0;
  return distance(signature_of(window), signature_of(ref_));
}

// The window keeps the shortest run of newest gaps that holds `min_window` requests; older
// gaps join the reference.
void DriftMonitor::retire_old_gaps() {
  int64_t held = 0;
  for (const auto& g : window_) held += g.size(0);
  while (window_.size() > 1 && held - window_.front().size(0) >= min_window_) {
    held -= window_.front().size(0);
    ref_ = ref_.defined() ? torch::cat({ref_, window_.front()}) : window_.front();
    window_.pop_front();
  }
  if (ref_.defined() && ref_.size(0) > max_reference_)
    ref_ = ref_.slice(0, ref_.size(0) - max_reference_);
}

bool DriftMonitor::end_gap() {
  if (!gap_.defined()) return false;
  window_.push_back(gap_);
  gap_ = torch::Tensor();
  retire_old_gaps();
  const auto window = torch::cat(std::vector<torch::Tensor>(window_.begin(), window_.end()));
  last_score_ = score(window);
  if (last_score_ <= z_threshold_) return false;
  ended_ = signature_of(ref_);
  began_ = signature_of(window_.back());  // the window may still hold the old scenario
  ref_ = window_.back();                  // the new scenario is the reference from now on
  window_.clear();
  return true;
}

}  // namespace etuner::runtime
