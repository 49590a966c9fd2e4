#include "runtime/pending.h"

#include <cmath>
#include <numeric>

#include "etuner/policy.h"

namespace etuner::runtime {
namespace {

void append_ids(std::vector<int64_t>& to, int64_t first, int64_t n) {
  const size_t at = to.size();
  to.resize(at + n);
  std::iota(to.begin() + at, to.end(), first);
}

}  // namespace

int64_t Pending::new_ids(int64_t n) {
  const int64_t first = next_id_;
  next_id_ += n;
  return first;
}

void Pending::add(PendingBatch b) {
  samples_ += static_cast<int>(b.rows());
  seen_ += b.rows();
  batches_.push_back(std::move(b));
}

int Pending::oldest_batch_samples() const {
  return batches_.empty() ? 0 : static_cast<int>(batches_.front().rows());
}

std::vector<PendingBatch> Pending::retire_oldest(int n) {
  std::vector<PendingBatch> out;
  for (int dropped = 0; !batches_.empty() && dropped < n;) {
    auto b = std::move(batches_.front());
    batches_.pop_front();
    samples_ -= static_cast<int>(b.rows());
    dropped += static_cast<int>(b.rows());
    append_ids(consumed_.retired, b.first_id, b.rows());
    out.push_back(std::move(b));
  }
  return out;
}

Taken Pending::take(int take, int drop) {
  Taken t;
  t.retired = retire_oldest(drop);
  std::vector<torch::Tensor> xs, ys;
  for (int taken = 0; !batches_.empty() && (take <= 0 || taken < take);) {
    auto b = std::move(batches_.front());
    batches_.pop_front();
    samples_ -= static_cast<int>(b.rows());
    if (xs.empty()) t.first_id = b.first_id;
    taken += static_cast<int>(b.rows());
    t.batch_rows.push_back(b.rows());
    xs.push_back(b.x);
    ys.push_back(b.y);
  }
  if (!xs.empty()) {
    t.x = torch::cat(xs);
    t.y = torch::cat(ys);
  }
  return t;
}

std::pair<double, int> Pending::accuracy_of(int take, int drop) const {
  double sum = 0;
  int n = 0, skipped = 0, used = 0;
  const int want = take > 0 ? take : samples_ - drop;
  for (const auto& b : batches_) {
    const int rows = static_cast<int>(b.rows());
    if (skipped < drop) {
      skipped += rows;
      continue;
    }
    if (used >= want) break;
    used += rows;
    if (!std::isnan(b.accuracy)) {
      sum += b.accuracy * rows;
      n += rows;
    }
  }
  return {n ? sum / n : policy::kUnknown, n};
}

void Pending::record_trained(int64_t first_id, int64_t n, bool quarantined) {
  append_ids(quarantined ? consumed_.quarantined : consumed_.trained, first_id, n);
}

Consumed Pending::take_consumed() { return std::exchange(consumed_, Consumed{}); }

}  // namespace etuner::runtime
