#include <algorithm>

#include "runtime/replay_buffer.h"

namespace etuner::runtime {
namespace {

void grow(std::vector<int64_t>& v, int64_t c) {
  if (c >= static_cast<int64_t>(v.size())) v.resize(c + 1, 0);
}

}  // namespace

// Reservoir sampling (Vitter's algorithm R): every seen sample is kept with equal probability.
// Class-balanced: Chrysakis & Moens, "Online Continual Learning from Imbalanced Data" (ICML
// 2020), class-balancing reservoir sampling: while full, a sample of a class that is not
// among the largest in the buffer replaces a random sample of a largest class; a sample of a
// largest class replaces a random one of its own class with probability held / seen of that
// class. A class-incremental stream then keeps a fair share of its new classes instead of
// the ~5% a plain reservoir seeded with thousands of pretraining samples gives them.
void ReplayBuffer::add(const torch::Tensor& x, const torch::Tensor& y, int64_t first_id) {
  if (capacity_ <= 0) return;
  if (!x_.defined()) {
    auto sizes = x.sizes().vec();
    sizes[0] = capacity_;
    x_ = torch::empty(sizes, x.options());
    y_ = torch::empty({capacity_}, y.options());
    slot_label_.assign(capacity_, -1);
    slot_id_.assign(capacity_, -1);
  }
  const auto labels = y.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t* label = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < x.size(0); ++i, ++seen_) {
    grow(held_, label[i]);
    grow(seen_of_class_, label[i]);
    ++seen_of_class_[label[i]];
    int64_t slot = filled_;
    if (filled_ == capacity_) {
      slot = class_balanced_ ? balanced_slot(label[i]) : reservoir_slot();
      if (slot < 0) continue;
      --held_[slot_label_[slot]];
    } else {
      ++filled_;
    }
    x_[slot].copy_(x[i]);
    y_[slot].copy_(y[i]);
    slot_label_[slot] = label[i];
    slot_id_[slot] = first_id < 0 ? -1 : first_id + i;
    ++held_[label[i]];
  }
}

int64_t ReplayBuffer::reservoir_slot() {
  const int64_t slot = std::uniform_int_distribution<int64_t>(0, seen_)(rng_);
  return slot < capacity_ ? slot : -1;
}

int64_t ReplayBuffer::balanced_slot(int64_t label) {
  const int64_t most = *std::max_element(held_.begin(), held_.end());
  if (held_[label] < most) {
    std::vector<int64_t> largest;
    for (size_t c = 0; c < held_.size(); ++c)
      if (held_[c] == most) largest.push_back(static_cast<int64_t>(c));
    const auto pick = std::uniform_int_distribution<size_t>(0, largest.size() - 1)(rng_);
    return random_slot_of(largest[pick]);
  }
  const int64_t draw = std::uniform_int_distribution<int64_t>(1, seen_of_class_[label])(rng_);
  return draw <= held_[label] ? random_slot_of(label) : -1;
}

int64_t ReplayBuffer::random_slot_of(int64_t label) {
  int64_t k = std::uniform_int_distribution<int64_t>(0, held_[label] - 1)(rng_);
  for (int64_t s = 0; s < filled_; ++s)
    if (slot_label_[s] == label && k-- == 0) return s;
  return -1;  // unreachable while held_ matches slot_label_
}

std::pair<torch::Tensor, torch::Tensor> ReplayBuffer::sample(int n, std::vector<int64_t>* ids) {
  n = static_cast<int>(std::min<int64_t>(n, filled_));
  if (ids) ids->clear();
  if (n <= 0) return {};
  std::vector<int64_t> rows(filled_);
  for (int64_t i = 0; i < filled_; ++i) rows[i] = i;
  for (int i = 0; i < n; ++i)  // partial Fisher-Yates
    std::swap(rows[i], rows[std::uniform_int_distribution<int64_t>(i, filled_ - 1)(rng_)]);
  rows.resize(n);
  if (ids)
    for (int64_t r : rows) ids->push_back(slot_id_[r]);
  auto idx = torch::tensor(rows, torch::kLong).to(x_.device());
  return {x_.index_select(0, idx), y_.index_select(0, idx)};
}

}  // namespace etuner::runtime
