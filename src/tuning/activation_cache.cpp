#include "tuning/activation_cache.h"

#include "etuner/tuning.h"

namespace etuner::tuning {
namespace {

torch::Tensor index_tensor(const std::vector<int64_t>& v, const torch::Device& device) {
  return torch::tensor(v, torch::kLong).to(device);
}

}  // namespace

void ActivationCache::use_prefix(int prefix) {
  if (prefix == prefix_) return;
  reset();
  prefix_ = prefix;
}

void ActivationCache::reset() {
  prefix_ = -1;
  capacity_ = -1;
  store_ = torch::Tensor();
  slot_of_.clear();
  id_in_slot_.clear();
  used_in_call_.clear();
  next_victim_ = 0;
}

void ActivationCache::allocate(const torch::Tensor& out) {
  const double per_row = static_cast<double>(out[0].numel() * out.element_size());
  capacity_ = static_cast<int64_t>(budget_bytes_ / per_row);
  if (capacity_ <= 0) return;
  auto sizes = out.sizes().vec();
  sizes[0] = capacity_;
  store_ = torch::empty(sizes, out.options());
  id_in_slot_.assign(capacity_, -1);
  used_in_call_.assign(capacity_, -1);
}

// Slots are written round robin, so the one under the pointer is the oldest written; a slot
// this call reads or wrote is skipped (its row is still to be served).
int64_t ActivationCache::free_slot() {
  for (int64_t tries = 0; tries < capacity_; ++tries) {
    const int64_t slot = next_victim_;
    next_victim_ = (next_victim_ + 1) % capacity_;
    if (used_in_call_[slot] == call_) continue;
    if (id_in_slot_[slot] >= 0) slot_of_.erase(id_in_slot_[slot]);
    id_in_slot_[slot] = -1;
    return slot;
  }
  return -1;
}

// One batched copy into the store instead of one tiny copy (kernel launch) per row.
void ActivationCache::store(const std::vector<int64_t>& ids, const std::vector<int64_t>& missing,
                            const torch::Tensor& fresh) {
  std::vector<int64_t> src, dst;
  for (size_t k = 0; k < missing.size(); ++k) {
    const int64_t id = ids[missing[k]];
    if (id < 0 || slot_of_.count(id)) continue;  // uncacheable, or a repeat within the call
    const int64_t slot = free_slot();
    if (slot < 0) break;
    slot_of_[id] = slot;
    id_in_slot_[slot] = id;
    used_in_call_[slot] = call_;
    src.push_back(static_cast<int64_t>(k));
    dst.push_back(slot);
  }
  if (dst.empty()) return;
  store_.index_copy_(0, index_tensor(dst, store_.device()),
                     fresh.index_select(0, index_tensor(src, fresh.device())));
}

torch::Tensor ActivationCache::get(const std::vector<int64_t>& ids, const Compute& compute) {
  ++call_;
  std::vector<int64_t> hit_pos, hit_slots, missing;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto it = ids[i] >= 0 ? slot_of_.find(ids[i]) : slot_of_.end();
    if (it == slot_of_.end()) {
      missing.push_back(static_cast<int64_t>(i));
      continue;
    }
    hit_pos.push_back(static_cast<int64_t>(i));
    hit_slots.push_back(it->second);
    used_in_call_[it->second] = call_;
  }
  hits_ += static_cast<int64_t>(hit_pos.size());
  misses_ += static_cast<int64_t>(missing.size());

  torch::Tensor fresh;
  if (!missing.empty()) {
    fresh = compute(torch::tensor(missing, torch::kLong));
    if (capacity_ < 0) allocate(fresh);
    if (capacity_ > 0) store(ids, missing, fresh);
  }
  if (hit_pos.empty()) return fresh;  // every row was computed, in order
  auto cached = store_.index_select(0, index_tensor(hit_slots, store_.device()));
  if (missing.empty()) return cached;  // every row was a hit, in order
  auto sizes = fresh.sizes().vec();
  sizes[0] = static_cast<int64_t>(ids.size());
  auto out = torch::empty(sizes, fresh.options());
  out.index_copy_(0, index_tensor(missing, out.device()), fresh);
  out.index_copy_(0, index_tensor(hit_pos, out.device()), cached);
  return out;
}

std::shared_ptr<ActivationCache> new_activation_cache(double budget_mb) {
  return std::make_shared<ActivationCache>(budget_mb);
}

void forget_all(ActivationCache& cache) { cache.reset(); }

}  // namespace etuner::tuning
