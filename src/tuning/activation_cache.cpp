#include "tuning/activation_cache.h"

namespace etuner::tuning {

void ActivationCache::reset(int64_t rows) {
  rows_ = rows;
  capacity_ = -1;
  store_ = torch::Tensor();
  have_.assign(rows, false);
}

void ActivationCache::allocate(const torch::Tensor& out) {
  const double per_row = static_cast<double>(out[0].numel() * out.element_size());
  capacity_ = std::min<int64_t>(rows_, static_cast<int64_t>(budget_bytes_ / per_row));
  if (capacity_ <= 0) return;
  auto sizes = out.sizes().vec();
  sizes[0] = capacity_;
  store_ = torch::empty(sizes, out.options());
}

torch::Tensor ActivationCache::get(const torch::Tensor& rows_in, const Compute& compute) {
  // Row indices are read on the host: a no-op for the CPU indices the round loop passes.
  const auto rows = rows_in.to(torch::kCPU, torch::kLong).contiguous();
  const auto* r = rows.data_ptr<int64_t>();
  std::vector<int64_t> missing_pos;
  for (int64_t i = 0; i < rows.numel(); ++i)
    if (capacity_ < 0 || r[i] >= capacity_ || !have_[r[i]]) missing_pos.push_back(i);
  hits_ += rows.numel() - static_cast<int64_t>(missing_pos.size());
  misses_ += static_cast<int64_t>(missing_pos.size());
  if (missing_pos.size() == static_cast<size_t>(rows.numel()) && capacity_ == 0)
    return compute(rows);

  torch::Tensor out;
  if (!missing_pos.empty()) {
    auto pos = torch::tensor(missing_pos, torch::kLong);
    auto fresh = compute(rows.index_select(0, pos));
    if (capacity_ < 0) allocate(fresh);
    if (capacity_ <= 0) return fresh;  // nothing fits: every row was missing and recomputed
    auto sizes = fresh.sizes().vec();
    sizes[0] = rows.numel();
    out = torch::empty(sizes, fresh.options());
    out.index_copy_(0, pos.to(fresh.device()), fresh);
    // One batched copy into the store instead of one tiny copy (kernel launch) per row.
    std::vector<int64_t> src, dst;
    for (size_t k = 0; k < missing_pos.size(); ++k) {
      const int64_t row = r[missing_pos[k]];
      if (row >= capacity_) continue;
      src.push_back(static_cast<int64_t>(k));
      dst.push_back(row);
      have_[row] = true;
    }
    if (!dst.empty())
      store_.index_copy_(0, torch::tensor(dst, torch::kLong).to(store_.device()),
                         fresh.index_select(0, torch::tensor(src, torch::kLong).to(fresh.device())));
  }
  std::vector<int64_t> hit_pos, hit_rows;
  for (int64_t i = 0, m = 0; i < rows.numel(); ++i) {
    if (m < static_cast<int64_t>(missing_pos.size()) && missing_pos[m] == i) {
      ++m;
      continue;
    }
    hit_pos.push_back(i);
    hit_rows.push_back(r[i]);
  }
  if (hit_pos.empty()) return out;
  auto cached = store_.index_select(0, torch::tensor(hit_rows, torch::kLong).to(store_.device()));
  if (!out.defined()) return cached;  // every row was a hit, in order
  out.index_copy_(0, torch::tensor(hit_pos, torch::kLong).to(out.device()), cached);
  return out;
}

}  // namespace etuner::tuning
