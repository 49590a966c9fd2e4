#include "runtime/signals.h"

#include <cmath>

#include "etuner/tuning.h"

namespace etuner::runtime {
namespace {

constexpr double kLabelDropChange = 0.3;  // test-then-train accuracy drop read as a change

// Standard error of the difference of two accuracies measured on n1 and n2 samples (binomial).
double gain_standard_error(double p1, int n1, double p2, int64_t n2) {
  if (std::isnan(p1) || n1 <= 0 || n2 <= 0) return policy::kUnknown;
  return std::sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / static_cast<double>(n2));
}

}  // namespace

Signals::Signals(const std::vector<int>& known_classes, Ledger& ledger, bool answer_confidence)
    : ledger_(ledger), answer_confidence_(answer_confidence) {
  for (int c : known_classes) {
    if (c >= static_cast<int>(seen_class_.size())) seen_class_.resize(c + 1, false);
    seen_class_[c] = true;
  }
}

double Signals::observe_batch(model::BlockModel& serving, const torch::Tensor& x,
                              const torch::Tensor& y, int version) {
  ledger_.begin_decide();
  const double acc = tuning::evaluate(serving, x, y).accuracy;
  ledger_.count_decision_pass(Ledger::Decision::kTestThenTrain, x.size(0));
  record_accuracy(acc);
  drop_readable_ = true;
  if (gain_open_ && version >= gain_version_) close_gain(acc, x.size(0));
  ledger_.end_decide();
  return acc;
}

std::pair<double, int> Signals::observe_round_scores(const torch::Tensor& hits,
                                                     const std::vector<int64_t>& batch_rows) {
  const auto h = hits.to(torch::kCPU, torch::kDouble);
  int64_t at = 0;
  for (const int64_t rows : batch_rows) {
    if (rows <= 0 || at + rows > h.size(0)) break;
    record_accuracy(h.slice(0, at, at + rows).mean().item<double>());
    at += rows;
  }
  if (at == 0) return {policy::kUnknown, 0};
  drop_readable_ = !std::exchange(skip_next_round_reading_, false);
  const double acc = h.slice(0, 0, at).mean().item<double>();
  if (gain_open_) close_gain(acc, at);
  return {acc, static_cast<int>(at)};
}

void Signals::on_answered(const Prediction& p) {
  requests_since_round_ += static_cast<int>(p.labels.size(0));
  if (!answer_confidence_ || p.confidence.numel() == 0) return;
  gap_confidence_sum_ += p.confidence.to(torch::kDouble).sum().item<double>();
  gap_answers_ += p.confidence.numel();
}

void Signals::close_answer_gap() {
  if (gap_answers_ == 0) return;
  if (!std::isnan(newest_confidence_))
    recent_confidence_ = std::isnan(recent_confidence_)
                             ? newest_confidence_
                             : 0.7 * recent_confidence_ + 0.3 * newest_confidence_;
  newest_confidence_ = gap_confidence_sum_ / static_cast<double>(gap_answers_);
  gap_confidence_sum_ = 0;
  gap_answers_ = 0;
}

void Signals::record_accuracy(double acc) {
  newest_accuracy_ = acc;
  ++accuracy_readings_;
  recent_accuracy_ = std::isnan(recent_accuracy_) ? acc : 0.7 * recent_accuracy_ + 0.3 * acc;
}

void Signals::close_gain(double acc, int64_t n) {
  last_gain_ = acc - round_before_acc_;
  last_gain_se_ = gain_standard_error(round_before_acc_, round_before_n_, acc, n);
  gain_open_ = false;
}

// Runs for test-then-train and for the change detector, so a freezer under `immediate` also
// hears of new classes.
void Signals::note_classes(const torch::Tensor& y) {
  ledger_.begin_decide();
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
  ledger_.end_decide();
}

// A change from the requests' inputs, new class ids, or a collapse of test-then-train
// accuracy. Only a shift of the inputs unfreezes every block: new classes over the same
// inputs need new class-specific features, not new early ones, and retraining every block at
// the stream's lr on a few samples of them wrecks the features the old classes rely on; the
// freezer hears of new classes separately.
bool Signals::detect_change() {
  ledger_.begin_decide();
  const bool from_requests = monitor_.end_gap();
  const bool dropped = std::exchange(drop_readable_, false) && !std::isnan(recent_accuracy_) &&
                       newest_accuracy_ < recent_accuracy_ - kLabelDropChange;
  const bool from_labels = new_classes_ || dropped;
  ++gaps_since_change_;
  const bool change = from_requests || from_labels;
  if (change) {
    requests_changed_ = from_requests;
    drift_sched_ = true;
    freeze_.drift = freeze_.drift || from_requests;
    freeze_.new_classes = freeze_.new_classes || new_classes_;
    ledger_.count_drift();
    gaps_since_change_ = 0;
    skip_next_round_reading_ = true;
  }
  ledger_.end_decide();
  return change;
}

void Signals::on_round(double end_s, double before_acc, int before_n, bool published, int version) {
  ++rounds_;
  last_round_end_s_ = end_s;
  requests_since_round_ = 0;
  drift_sched_ = false;
  round_before_acc_ = before_acc;
  round_before_n_ = before_n;
  gain_open_ = published;
  gain_version_ = version;
}

FreezeFlags Signals::take_freeze_flags() { return std::exchange(freeze_, FreezeFlags{}); }

void Signals::fill(policy::ScheduleSignals& s) const {
  s.rounds_run = rounds_;
  s.last_round_end_s = last_round_end_s_;
  s.requests_since_round = requests_since_round_;
  s.new_classes = new_classes_;
  s.label_space_grew = label_space_grew_;
  s.newest_batch_accuracy = newest_accuracy_;
  s.recent_accuracy = recent_accuracy_;
  s.accuracy_readings = accuracy_readings_;
  s.newest_answer_confidence = newest_confidence_;
  s.recent_answer_confidence = recent_confidence_;
  s.drift = drift_sched_;
  s.last_round_gain = last_gain_;
  s.last_round_gain_se = last_gain_se_;
}

}  // namespace etuner::runtime
