// Publisher: versions of a model. The deployed one (immutable once published), the next one
// waiting for its deploy time, and the version number. A snapshot is a clone in eval mode, so
// a serving thread can hold one while the working copy trains. The runtime stages a round's
// version and deploys it when stream time reaches the round's end; serve deploys a version
// at once, as soon as it is durable.
//
//   etuner::runtime::Publisher versions(model, /*version=*/0);
//   versions.deploy(trained);         // version 1, a snapshot of `trained`
//   auto m = versions.deployed();     // what answers now
#pragma once
#include <limits>
#include <memory>

#include "etuner/model.h"

namespace etuner::runtime {

class Publisher {
 public:
  // `version`: the number `initial` already has (serve restores a committed version).
  explicit Publisher(const model::BlockModel& initial, int version = 0);

  // A trained version, deployed once stream time reaches `ready_s`. `consumed`: labeled
  // samples consumed when its round started (how far it lags the labels).
  void stage(const model::BlockModel& trained, double ready_s, int64_t consumed);
  // Deploys the staged version if its time has come; true if it did.
  bool deploy_if_ready(double now_s);
  // Deploys a snapshot of `trained` now, as the next version (any staged one is dropped).
  void deploy(const model::BlockModel& trained, int64_t consumed = 0);

  const std::shared_ptr<model::BlockModel>& deployed() const { return deployed_; }
  int version() const { return version_; }
  double next_deploy_s() const;
  // Labeled samples the deployed version's round had consumed.
  int64_t deployed_consumed() const { return deployed_consumed_; }

 private:
  std::shared_ptr<model::BlockModel> deployed_;  // immutable once published
  std::shared_ptr<model::BlockModel> next_;      // trained, waiting for its deploy time
  double next_ready_s_ = 0;
  int64_t next_consumed_ = 0, deployed_consumed_ = 0;
  int version_ = 0;
};

// A clone in eval mode: what a version is.
std::shared_ptr<model::BlockModel> snapshot(const model::BlockModel& m);

}  // namespace etuner::runtime
