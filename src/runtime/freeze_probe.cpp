#include "runtime/freeze_probe.h"

#include <algorithm>

#include "etuner/error.h"
#include "etuner/tuning.h"

namespace etuner::runtime {
void FreezeProbe::reset() {
  probe_ = probe_prefix_ = torch::Tensor();
  probe_prev_.clear();
}

void FreezeProbe::before_check(model::BlockModel& m, const torch::Tensor& fresh,
                               policy::FreezeSignals& s) {
  s.num_blocks = m.num_blocks();
  s.frozen_prefix = frozen_prefix_;
  if (measure_next_ && !s.drift && s.round_start) measure(m, fresh, s);
}

int FreezeProbe::apply(const policy::FreezePlan& plan, model::BlockModel& m,
                       const torch::Tensor& fresh, policy::FreezeSignals& s) {
  const int before = frozen_prefix_;
  frozen_prefix_ = std::clamp(plan.frozen_prefix, 0, m.num_blocks());
  if (frozen_prefix_ != before) probe_prefix_ = torch::Tensor();  // other blocks train now
  measure_next_ = plan.measure_similarity;
  round_min_prefix_ = s.epoch == 0 ? frozen_prefix_ : std::min(round_min_prefix_, frozen_prefix_);
  if (measure_next_ && probe_prev_.empty()) measure(m, fresh, s);  // the first reference
  return frozen_prefix_;
}

void FreezeProbe::measure(model::BlockModel& m, const torch::Tensor& fresh,
                          policy::FreezeSignals& s) {
  ledger_.begin_probe();
  if (!probe_.defined() && fresh.defined())
    probe_ = fresh.slice(0, 0, std::min<int64_t>(probe_samples_, fresh.size(0)));
  if (probe_.defined()) {
    // Frozen blocks did not change: 1 without a Gram matrix, and their output on the probe is
    // the one kept at an earlier check while the prefix stayed the same.
    const int from = probe_prefix_.defined() ? frozen_prefix_ : 0;
    auto outs = tuning::block_outputs(m, from > 0 ? probe_prefix_ : probe_, frozen_prefix_, from);
    ledger_.count_decision_pass(Ledger::Decision::kProbe, probe_.size(0), from, m.num_blocks());
    if (from > 0 && verify_) verify_prefix_output(m, outs, from);
    if (from == 0 && frozen_prefix_ > 0) probe_prefix_ = outs[frozen_prefix_ - 1];
    std::vector<torch::Tensor> grams(outs.size());
    for (size_t b = frozen_prefix_; b < outs.size(); ++b) grams[b] = tuning::centered_gram(outs[b]);
    if (probe_prev_.size() == grams.size()) {
      s.similarity_steps = static_cast<int>(steps_trained_ - steps_at_probe_);
      s.similarity.assign(grams.size(), 1.0);
      for (size_t b = frozen_prefix_; b < grams.size(); ++b)
        if (probe_prev_[b].defined())
          s.similarity[b] = tuning::linear_cka_gram(grams[b], probe_prev_[b]);
    }
    probe_prev_ = std::move(grams);
    steps_at_probe_ = steps_trained_;
  }
  ledger_.end_probe();
}

// The reference path: the outputs computed from the kept prefix output equal a full pass.
void FreezeProbe::verify_prefix_output(model::BlockModel& m, const std::vector<torch::Tensor>& outs,
                                       int from) {
  const auto full = tuning::block_outputs(m, probe_, frozen_prefix_);
  for (size_t b = from; b < outs.size(); ++b)
    if (!torch::equal(outs[b], full[b]))
      throw etuner::Error("CKA probe: block " + std::to_string(b) +
                          "'s output from the kept prefix output differs from a full pass");
}

}  // namespace etuner::runtime
