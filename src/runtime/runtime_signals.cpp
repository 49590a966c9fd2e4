// The runtime's measurements for the policies: test-then-train accuracy, held-out gain,
// scenario changes (labels and requests) and block similarity. Everything here is decision
// overhead and is metered as such ("decide", or inside the round for similarity).
#include <algorithm>
#include <cmath>

#include "etuner/error.h"
#include "etuner/runtime.h"
#include "etuner/tuning.h"

namespace etuner::runtime {
namespace {

constexpr int kProbeSamples = 32;         // CKA probe: enough for a stable n x n Gram matrix
constexpr double kLabelDropChange = 0.3;  // test-then-train accuracy drop read as a change

// Standard error of the difference of two accuracies measured on n1 and n2 samples (binomial).
double gain_standard_error(double p1, int n1, double p2, int64_t n2) {
  if (std::isnan(p1) || n1 <= 0 || n2 <= 0) return policy::kUnknown;
  return std::sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / static_cast<double>(n2));
}

}  // namespace

void Runtime::begin_decide() { meter_->begin("decide"); }

void Runtime::end_decide(double* also_s) {
  sync_device();
  const auto m = meter_->end("decide");
  totals_.decision_s += m.time_s;
  totals_.finetune_s += m.time_s;
  totals_.finetune_j += m.energy_j;
  if (also_s) *also_s += m.time_s;
}

// At the profile's training throughput and with no per-pass overhead: a forward-only pass
// costs at least this much on the device, so the model errs on the side of cheap decisions.
void Runtime::count_decision_pass(int64_t images, int from_unit, int to_unit) {
  const int units = static_cast<int>(flops_.unit_forward_flops.size());
  if (units == 0) return;  // no input seen yet: nothing to count
  const int to = to_unit < 0 ? units : std::min(to_unit, units);
  const double f = static_cast<double>(images) * flops_.range(std::min(from_unit, to), to);
  totals_.decision_flops += f;
  totals_.modeled_s += f / cfg_.profile.train_flops_per_s;
}

// Test-then-train: how well the serving model does on data it has not trained on. Also
// closes the held-out gain of the last round once its version answers.
double Runtime::observe_batch(const torch::Tensor& x, const torch::Tensor& y) {
  begin_decide();
  const double acc = tuning::evaluate(*serving_, x, y).accuracy;
  count_decision_pass(x.size(0));
  newest_accuracy_ = acc;
  recent_accuracy_ = std::isnan(recent_accuracy_) ? acc : 0.7 * recent_accuracy_ + 0.3 * acc;
  if (gain_open_ && version_ >= gain_version_) {
    last_gain_ = acc - round_before_acc_;
    last_gain_se_ = gain_standard_error(round_before_acc_, round_before_n_, acc, x.size(0));
    gain_open_ = false;
  }
  end_decide();
  return acc;
}

// Class ids never seen before: a label scan, no forward pass. Runs for test-then-train and
// for the change detector, so a freezer under `immediate` also hears of new classes.
void Runtime::note_classes(const torch::Tensor& y) {
  begin_decide();
  // One host copy and a raw accessor: a per-element item() is a tensor op per label.
  const auto labels = y.to(torch::kCPU, torch::kLong).contiguous();
  const auto ids = labels.accessor<int64_t, 1>();
  new_classes_ = false;
  for (int64_t i = 0; i < ids.size(0); ++i) {
    const auto c = static_cast<size_t>(ids[i]);
    if (c >= seen_class_.size()) seen_class_.resize(c + 1, false);
    if (!seen_class_[c]) new_classes_ = label_space_grew_ = true;
    seen_class_[c] = true;
  }
  end_decide();
}

// Mean test-then-train accuracy of the batches a round will train on (oldest first), and the
// number of samples it was measured on.
std::pair<double, int> Runtime::pending_accuracy(int take, int drop) const {
  double sum = 0;
  int n = 0, skipped = 0, used = 0;
  const int want = take > 0 ? take : pending_samples_ - drop;
  for (const auto& b : pending_) {
    const int rows = static_cast<int>(b.x.size(0));
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

// At the end of every request gap: a change from the requests' inputs, new class ids, or a
// collapse of test-then-train accuracy. A change resets the probe and pseudo-labels.
void Runtime::detect_change() {
  begin_decide();
  const bool from_requests = monitor_.end_gap();
  const bool from_labels = new_classes_ || (!std::isnan(recent_accuracy_) &&
                                            newest_accuracy_ < recent_accuracy_ - kLabelDropChange);
  ++gaps_since_change_;
  if (from_requests || from_labels) {
    // Only a shift of the inputs unfreezes every block: new classes over the same inputs need
    // new class-specific features, not new early ones, and retraining every block at the
    // stream's lr on a few samples of them wrecks the features the old classes rely on (loss
    // 10-18 on the tuning stream); the freezer hears of new classes separately.
    drift_sched_ = true;
    drift_freeze_ = drift_freeze_ || from_requests;
    new_classes_freeze_ = new_classes_freeze_ || new_classes_;
    ++totals_.drifts;
    gaps_since_change_ = 0;
    probe_ = probe_prefix_ = torch::Tensor();
    probe_prev_.clear();
    pseudo_x_ = pseudo_y_ = torch::Tensor();
  }
  end_decide();
}

// Every epoch start: the freezer's check. Similarity is measured only when the freezer asked
// for it at the previous check, on a probe fixed since the last change.
int Runtime::choose_prefix(int round, int epoch) {
  policy::FreezeSignals s;
  s.num_blocks = working_->num_blocks();
  s.frozen_prefix = frozen_prefix_;
  s.round_start = epoch == 0;
  s.round = round;
  s.epoch = epoch;
  s.drift = drift_freeze_;
  s.new_classes = new_classes_freeze_;
  drift_freeze_ = new_classes_freeze_ = false;
  // Checks with a measurement are round starts: rounds are short (1-2 epochs), and a probe
  // forward per epoch would cost more than freezing saves on small models.
  if (measure_next_ && !s.drift && s.round_start) measure_similarity(s);
  measure_peer_signals(s);  // gradient norms, plasticity: only what the freezer needs()
  const auto plan = policy_.freezer->decide(s);
  const int before = frozen_prefix_;
  frozen_prefix_ = std::clamp(plan.frozen_prefix, 0, working_->num_blocks());
  if (frozen_prefix_ != before) probe_prefix_ = torch::Tensor();  // other blocks train now
  measure_next_ = plan.measure_similarity;
  round_min_prefix_ = epoch == 0 ? frozen_prefix_ : std::min(round_min_prefix_, frozen_prefix_);
  if (measure_next_ && probe_prev_.empty()) measure_similarity(s);  // the first reference
  return frozen_prefix_;
}

void Runtime::measure_similarity(policy::FreezeSignals& s) {
  meter_->begin("similarity");
  if (!probe_.defined() && round_fresh_.defined())
    probe_ = round_fresh_.slice(0, 0, std::min<int64_t>(kProbeSamples, round_fresh_.size(0)));
  if (probe_.defined()) {
    // Frozen blocks did not change: 1 without a Gram matrix, and their output on the probe is
    // the one kept at an earlier check while the prefix stayed the same.
    const int from = probe_prefix_.defined() ? frozen_prefix_ : 0;
    auto outs =
        tuning::block_outputs(*working_, from > 0 ? probe_prefix_ : probe_, frozen_prefix_, from);
    count_decision_pass(probe_.size(0), from, working_->num_blocks());
    if (from > 0 && cfg_.verify_cache) verify_probe_prefix(outs, from);
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
  sync_device();
  totals_.similarity_s += meter_->end("similarity").time_s;  // already inside the round's window
}

// Tests: the outputs computed from the kept prefix output equal a pass from the probe.
void Runtime::verify_probe_prefix(const std::vector<torch::Tensor>& outs, int from) {
  const auto full = tuning::block_outputs(*working_, probe_, frozen_prefix_);
  for (size_t b = from; b < outs.size(); ++b)
    if (!torch::equal(outs[b], full[b]))
      throw etuner::Error("CKA probe: block " + std::to_string(b) +
                          "'s output from the kept prefix output differs from a full pass");
}

}  // namespace etuner::runtime
