#include "runtime/version_shelf.h"

#include "etuner/publisher.h"

namespace etuner::runtime {
namespace {

int64_t model_bytes(model::BlockModel& m) {
  int64_t b = 0;
  for (int u = 0; u < m.num_units(); ++u) {
    for (const auto& t : m.unit_parameters(u)) b += t.numel() * t.element_size();
    for (const auto& t : m.unit_buffers(u)) b += t.numel() * t.element_size();
  }
  return b;
}

}  // namespace

VersionShelf::VersionShelf(int capacity, double z_threshold)
    : capacity_(capacity), z_threshold_(z_threshold) {}

std::deque<VersionShelf::Entry>::const_iterator VersionShelf::closest(
    const DriftMonitor::Signature& scenario) const {
  auto best = shelf_.end();
  double best_z = z_threshold_;
  for (auto it = shelf_.begin(); it != shelf_.end(); ++it) {
    const double z = DriftMonitor::distance(scenario, it->scenario);
    if (z <= best_z) best = it, best_z = z;
  }
  return best;
}

void VersionShelf::shelve(const DriftMonitor::Signature& scenario,
                          const model::BlockModel& version) {
  if (capacity_ <= 0 || !scenario.defined()) return;
  const auto same = closest(scenario);
  if (same != shelf_.end()) shelf_.erase(same);
  shelf_.push_back({scenario, snapshot(version)});
  while (static_cast<int>(shelf_.size()) > capacity_) shelf_.pop_front();
}

std::shared_ptr<model::BlockModel> VersionShelf::match(
    const DriftMonitor::Signature& scenario) const {
  if (!scenario.defined()) return nullptr;
  const auto it = closest(scenario);
  return it == shelf_.end() ? nullptr : it->version;
}

int64_t VersionShelf::bytes() const {
  int64_t b = 0;
  for (const auto& e : shelf_) b += model_bytes(*e.version);
  return b;
}

}  // namespace etuner::runtime
