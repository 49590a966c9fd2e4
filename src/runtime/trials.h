// Micro-profiling for schedulers that ask for it (ekya, docs/peers.md): each candidate
// configuration trains a copy of the working model briefly and is scored on pending samples
// held out from every trial. Decision overhead; the published model never sees them.
#pragma once
#include <cstdint>
#include <vector>

#include "etuner/model.h"
#include "etuner/policy.h"
#include "etuner/train_config.h"
#include "runtime/ledger.h"
#include "runtime/pending.h"
#include "runtime/replay_buffer.h"

namespace etuner::runtime {

struct TrialInputs {
  const Pending& pending;
  const model::BlockModel& working;
  ReplayBuffer& replay;  // trials draw replayed samples as rounds do
  const tuning::TrainConfig& train;
  uint64_t seed = 0;  // the run's seed
  int round = 0;      // rounds so far: the trials' seeds
};

std::vector<policy::ProfileResult> run_trials(const std::vector<policy::ProfileCandidate>& c,
                                              const TrialInputs& in, Ledger& ledger);

}  // namespace etuner::runtime
