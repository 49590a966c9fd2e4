#include "etuner/runtime.h"

namespace etuner::runtime {

// Reservoir sampling (Vitter's algorithm R): every seen sample is kept with equal probability.
void ReplayBuffer::add(const torch::Tensor& x, const torch::Tensor& y) {
  if (capacity_ <= 0) return;
  if (!x_.defined()) {
    auto sizes = x.sizes().vec();
    sizes[0] = capacity_;
    x_ = torch::empty(sizes, x.options());
    y_ = torch::empty({capacity_}, y.options());
  }
  for (int64_t i = 0; i < x.size(0); ++i, ++seen_) {
    int64_t slot = filled_;
    if (filled_ == capacity_) {
      slot = std::uniform_int_distribution<int64_t>(0, seen_)(rng_);
      if (slot >= capacity_) continue;
    } else {
      ++filled_;
    }
    x_[slot].copy_(x[i]);
    y_[slot].copy_(y[i]);
  }
}

std::pair<torch::Tensor, torch::Tensor> ReplayBuffer::sample(int n) {
  n = static_cast<int>(std::min<int64_t>(n, filled_));
  if (n <= 0) return {};
  std::vector<int64_t> rows(filled_);
  for (int64_t i = 0; i < filled_; ++i) rows[i] = i;
  for (int i = 0; i < n; ++i)  // partial Fisher-Yates
    std::swap(rows[i], rows[std::uniform_int_distribution<int64_t>(i, filled_ - 1)(rng_)]);
  rows.resize(n);
  auto idx = torch::tensor(rows, torch::kLong).to(x_.device());
  return {x_.index_select(0, idx), y_.index_select(0, idx)};
}

}  // namespace etuner::runtime
