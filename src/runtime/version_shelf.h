// Recurring scenarios (issue 20, section 4; RECL, NSDI'23, keeps a model zoo the same way):
// at a detected change of the requests, the version that served the ending scenario is
// shelved under that scenario's request signature; when a later change begins a scenario
// whose requests match a shelved signature (the detector's own z, at or under its
// threshold), that version can be recalled instead of retraining from the last one.
#pragma once
#include <deque>
#include <memory>

#include "etuner/model.h"
#include "runtime/drift_monitor.h"

namespace etuner::runtime {

class VersionShelf {
 public:
  // At most `capacity` versions (the oldest goes first); `z_threshold`: the detector's.
  VersionShelf(int capacity, double z_threshold);

  // Keeps a copy of `version` for `scenario`; a shelved version of the same scenario (its
  // signature within the threshold) is replaced.
  void shelve(const DriftMonitor::Signature& scenario, const model::BlockModel& version);
  // The shelved version whose scenario is closest to `scenario`, if within the threshold.
  std::shared_ptr<model::BlockModel> match(const DriftMonitor::Signature& scenario) const;

  int size() const { return static_cast<int>(shelf_.size()); }
  int64_t bytes() const;  // parameters and buffers of every shelved version

 private:
  struct Entry {
    DriftMonitor::Signature scenario;
    std::shared_ptr<model::BlockModel> version;
  };
  // The entry closest to `scenario` within the threshold; end() if none.
  std::deque<Entry>::const_iterator closest(const DriftMonitor::Signature& scenario) const;

  int capacity_;
  double z_threshold_;
  std::deque<Entry> shelf_;  // oldest first
};

}  // namespace etuner::runtime
