// What the freezer reads and what it decided: the frozen prefix, and the CKA similarity of
// each trainable block's output on a fixed probe between two checks. The probe is the first
// fresh samples of a round after a change; the frozen prefix's output on it is kept while the
// prefix stays the same, so a check runs only the trainable blocks.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "etuner/model.h"
#include "etuner/policy.h"
#include "runtime/ledger.h"

namespace etuner::runtime {

class FreezeProbe {
 public:
  FreezeProbe(Ledger& ledger, bool verify, int probe_samples)
      : ledger_(ledger), verify_(verify), probe_samples_(probe_samples) {}

  // Before the freezer's check: similarity, if the freezer asked for it at the previous check.
  // Checks with a measurement are round starts: rounds are short (1-2 epochs), and a probe
  // forward per epoch would cost more than freezing saves on small models.
  void before_check(model::BlockModel& m, const torch::Tensor& fresh, policy::FreezeSignals& s);
  // The freezer's plan takes effect: returns the clamped prefix to train with.
  int apply(const policy::FreezePlan& plan, model::BlockModel& m, const torch::Tensor& fresh,
            policy::FreezeSignals& s);

  void add_steps(int steps) { steps_trained_ += steps; }
  // A scenario change: a new probe and no reference.
  void reset();
  // The working model went back to the last good version: kept outputs are stale.
  void forget_prefix_output() { probe_prefix_ = torch::Tensor(); }

  int frozen_prefix() const { return frozen_prefix_; }
  // Blocks frozen through the whole last round.
  int round_min_prefix() const { return round_min_prefix_; }

 private:
  void measure(model::BlockModel& m, const torch::Tensor& fresh, policy::FreezeSignals& s);
  void verify_prefix_output(model::BlockModel& m, const std::vector<torch::Tensor>& outs, int from);

  Ledger& ledger_;
  bool verify_;
  int probe_samples_;  // the fixed probe's size (FreezeNeeds::probe_samples)
  int frozen_prefix_ = 0;
  int round_min_prefix_ = 0;
  torch::Tensor probe_;                    // fixed since the last change
  std::vector<torch::Tensor> probe_prev_;  // centered Gram matrix per block at the last check
  // The probe's output of the frozen prefix's last block. Dropped whenever the prefix
  // changes, so while it is defined the prefix is the one that computed it and its blocks
  // have not changed.
  torch::Tensor probe_prefix_;
  int64_t steps_trained_ = 0;   // SGD steps of every round so far
  int64_t steps_at_probe_ = 0;  // steps_trained_ when probe_prev_ was measured
  bool measure_next_ = false;
};

}  // namespace etuner::runtime
