// What the schedulers read, measured as data arrives: test-then-train accuracy and the
// held-out gain of the last round, new classes, scenario changes (labels and requests), and
// the round bookkeeping. A new scheduler signal goes here (and into policy.h), nowhere else.
#pragma once
#include <torch/torch.h>

#include <utility>
#include <vector>

#include "etuner/model.h"
#include "etuner/policy.h"
#include "etuner/runtime_records.h"
#include "runtime/drift_monitor.h"
#include "runtime/ledger.h"

namespace etuner::runtime {

// What a detected change or a new class means for the freezer's next check.
struct FreezeFlags {
  bool drift = false;        // the inputs shifted: unfreeze
  bool new_classes = false;  // a class new to the model arrived
};

class Signals {
 public:
  // `answer_confidence`: keep the answers' confidence per gap (SignalNeeds).
  Signals(const std::vector<int>& known_classes, Ledger& ledger, bool answer_confidence = false);

  // Test-then-train: the serving model on a batch before any training on it. Also closes the
  // held-out gain of the last round once its version (`version`) answers.
  double observe_batch(model::BlockModel& serving, const torch::Tensor& x, const torch::Tensor& y,
                       int version);
  // Test-then-train from a round's first epoch (SignalNeeds::test_then_train_from_rounds):
  // `hits` scores the round's fresh samples, batch by batch as `batch_rows` says, oldest
  // first. The working model holds every round so far, so these samples also close the last
  // round's held-out gain. Returns their accuracy and count (the round's "before").
  std::pair<double, int> observe_round_scores(const torch::Tensor& hits,
                                              const std::vector<int64_t>& batch_rows);
  // Class ids never seen before: a label scan, no forward pass.
  void note_classes(const torch::Tensor& y);
  void observe_requests(const torch::Tensor& x) { monitor_.observe(x); }
  // Every answer the runtime gave (a whole predict call): a signal read from answers, such as
  // their confidence, is measured here without touching the runtime.
  void on_answered(const Prediction& p);
  // A labeled batch arrived: the answers since the last one make a gap's confidence.
  void close_answer_gap();
  // At the end of every request gap: true if the scenario changed.
  bool detect_change();

  // A round started at `now_s` on samples whose test-then-train accuracy was `before_acc`
  // (over `before_n` samples), and ends at `end_s`; its version will be `version`.
  void on_round(double end_s, double before_acc, int before_n, bool published, int version);
  // The freezer's flags since its last check (cleared by reading).
  FreezeFlags take_freeze_flags();

  void fill(policy::ScheduleSignals& s) const;
  int gaps_since_change() const { return gaps_since_change_; }
  // The last change came from the requests (the monitor's ended() and began() describe it).
  bool requests_changed() const { return requests_changed_; }
  const DriftMonitor& monitor() const { return monitor_; }
  int rounds() const { return rounds_; }

 private:
  void record_accuracy(double acc);
  void close_gain(double acc, int64_t n);

  Ledger& ledger_;
  std::vector<bool> seen_class_;
  bool new_classes_ = false;
  bool label_space_grew_ = false;
  double newest_accuracy_ = policy::kUnknown;
  double recent_accuracy_ = policy::kUnknown;
  int64_t accuracy_readings_ = 0;
  bool answer_confidence_;
  double gap_confidence_sum_ = 0;
  int64_t gap_answers_ = 0;
  double newest_confidence_ = policy::kUnknown;
  double recent_confidence_ = policy::kUnknown;
  // A drop of test-then-train accuracy is read as a change once per reading. Readings from
  // rounds come a round late: the round after a change scores the batches that made it, so
  // its drop is the change already detected, not a new one.
  bool drop_readable_ = false;
  bool skip_next_round_reading_ = false;
  // Drift: detected changes wait here until a round (scheduler) and a check (freezer) see them.
  DriftMonitor monitor_;
  bool drift_sched_ = false;
  FreezeFlags freeze_;
  bool requests_changed_ = false;
  int gaps_since_change_ = 1 << 20;
  // Held-out gain: test-then-train accuracy of the batches a round trained on (before it) and
  // of the first batch after it, i.e. on data neither version trained on.
  double round_before_acc_ = policy::kUnknown;
  int round_before_n_ = 0;  // samples behind round_before_acc_
  bool gain_open_ = false;
  int gain_version_ = 0;  // the version the open gain measures
  double last_gain_ = policy::kUnknown;
  double last_gain_se_ = policy::kUnknown;
  int rounds_ = 0;
  double last_round_end_s_ = 0;
  int requests_since_round_ = 0;
};

}  // namespace etuner::runtime
