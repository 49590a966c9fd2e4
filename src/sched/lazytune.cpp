// lazytune: when to tune and how much. Rounds merge k pending batches; k doubles while the
// last round taught the model little (held-out gain below `min_gain`; optionally also within
// `gain_z` standard errors of zero) and halves when it taught a lot. A detected scenario
// change (label-free from requests, or from labels) makes it eager: a prompt round at the
// stream's full epochs, then `eager_rounds` more (optionally more still while each round
// keeps teaching, up to `max_eager` rounds in all; off by default, see docs/algorithms.md).
// After new classes, rounds stay unmerged while the new classes' accuracy still rises.
// Outside the eager phase a round trains `settled_epochs` epochs: merged data from a converged
// scenario teaches little per pass, and the step budget is where the savings come from.
// With `converged_epochs`, a merged round right after one that taught less than `min_gain`
// trains that many epochs: the gain, not the phase, says the scenario has converged.
// docs/algorithms.md has every rule and default and why.
#include <algorithm>
#include <cmath>

#include "etuner/fields.h"
#include "sched/schedulers.h"

namespace etuner::sched {
namespace {

struct LazyParams {
  int max_merge = 2;     // most batches merged into one round (4 cost 1-2 points on CIFAR)
  int start_merge = 2;   // the pretrained model is deployed converged on its own data
  int eager_rounds = 1;  // full-epoch rounds that follow a change's prompt round
  int max_eager = 0;  // most rounds of a change's eager phase while rounds keep teaching (0 = off)
  int settled_epochs = 0;    // epochs of a round outside the eager phase (0 = the stream's)
  int converged_epochs = 1;  // epochs of a merged round after a small gain (0 = off)
  double min_gain = 0.02;    // held-out accuracy gain (fraction) below which a round "converged"
  double gain_z = 0;         // a gain must also exceed this many of its standard errors (0 = off)
  double surprise = 0.15;    // newest batch this far below the running accuracy: train now
  double replay_per_fresh =
      2;  // replayed samples per fresh one (capped by the stream's); <0 = stream's
  bool ttt_from_rounds = true;  // test-then-train from rounds' first epochs (SignalNeeds)
  int shelf = 0;                // versions kept by scenario and recalled when it recurs (0 = off)
  // > 0: `surprise` reads the answers' confidence instead of test-then-train accuracy: the
  // newest gap's mean confidence this far below its running mean (label-free, no pass).
  double surprise_confidence = 0.1;
  // After new classes, no merging until the newest batches' accuracy (which then holds the
  // new classes) has risen and then not risen by `min_gain` for this many readings (0 = off).
  int class_patience = 3;
};

LazyParams parse(const nlohmann::json& j) {
  Fields f(j, "lazytune");
  LazyParams p;
  p.max_merge = f.get("max_merge", p.max_merge);
  p.start_merge = f.get("start_merge", p.start_merge);
  p.eager_rounds = f.get("eager_rounds", p.eager_rounds);
  p.max_eager = f.get("max_eager", p.max_eager);
  p.settled_epochs = f.get("settled_epochs", p.settled_epochs);
  p.converged_epochs = std::max(0, f.get("converged_epochs", p.converged_epochs));
  p.min_gain = f.get("min_gain", p.min_gain);
  p.gain_z = f.get("gain_z", p.gain_z);
  p.surprise = f.get("surprise", p.surprise);
  p.replay_per_fresh = f.get("replay_per_fresh", p.replay_per_fresh);
  p.ttt_from_rounds = f.get("ttt_from_rounds", p.ttt_from_rounds);
  p.shelf = std::max(0, f.get("shelf", p.shelf));
  p.surprise_confidence = f.get("surprise_confidence", p.surprise_confidence);
  p.class_patience = std::max(0, f.get("class_patience", p.class_patience));
  f.finish();  // unknown parameters are errors that list the valid ones
  return p;
}

class LazyTune final : public policy::Scheduler {
 public:
  explicit LazyTune(LazyParams p) : p_(p), merge_(std::clamp(p.start_merge, 1, p.max_merge)) {}

  policy::RoundDecision decide(const policy::ScheduleSignals& s) override {
    auto d = next_round(s);
    d.learning_new_classes = d.run && class_phase_;  // the freezer may keep their blocks open
    return d;
  }

  policy::SignalNeeds needs() const override {
    return policy::SignalNeeds{}
        .with_test_then_train()
        .with_test_then_train_from_rounds(p_.ttt_from_rounds)
        .with_holdout_gain()
        .with_drift()
        .with_shelf_versions(p_.shelf)
        .with_answer_confidence(p_.surprise_confidence > 0);
  }

 private:
  policy::RoundDecision next_round(const policy::ScheduleSignals& s) {
    if (s.pending_batches == 0) return {};
    const bool changed = s.drift || s.new_classes;
    if (changed) begin_class_phase(s.new_classes);
    follow_new_classes(s);  // the change's own batch is the phase's first reading
    if (changed) return change();
    if (eager_left_ > 0) return budget(round(0, "eager after a change", -1), s);
    if (still_learning(s)) return budget(round(0, "still learning after a change", -1), s);
    if (class_phase_) return budget(round(0, "new classes still rising", 1), s);
    if (surprised(s)) return budget(round(0, "pending batch is informative", 1), s);
    adapt_merge(s);
    if (s.pending_batches < merge_) return {};
    return budget(settled_round(s.pending_batches), s);
  }

  // A merged round; `converged_epochs` long after a round that taught little.
  policy::RoundDecision settled_round(int batches) {
    const bool cut = p_.converged_epochs > 0 && converged_;
    return round(cut ? p_.converged_epochs : p_.settled_epochs,
                 "merged " + std::to_string(batches) + " batches" + (cut ? ", converged" : ""), 0);
  }

  // A change: train on everything pending now, at full epochs, and stay eager for a while.
  policy::RoundDecision change() {
    merge_ = 1;
    converged_ = false;  // the new scenario has taught nothing yet
    eager_left_ = p_.eager_rounds + 1;
    eager_run_ = 0;
    auto d = round(0, "scenario change", -1);
    d.recall = p_.shelf > 0;
    return d;
  }

  // After the fixed eager rounds, the phase goes on while the last round taught at least
  // `min_gain`: a class just introduced or a shift the model is still adapting to shows as
  // a held-out gain, and merging then answers requests with a model that is still far off.
  // The first small gain ends the phase for good; that gain is not read again for merging.
  bool still_learning(const policy::ScheduleSignals& s) {
    if (p_.max_eager <= 0 || eager_run_ < 0) return false;  // off: the gain is the merge rule's
    if (std::isnan(s.last_round_gain) || s.rounds_run == gain_round_) return false;  // no news yet
    gain_round_ = s.rounds_run;
    if (eager_run_ < p_.max_eager && taught(s)) return true;
    eager_run_ = -1;
    return false;
  }

  // New classes are in the requests from the moment they arrive, and the model is still
  // learning them while the accuracy on the newest batches (the new classes' samples) keeps
  // rising; a merged round then answers them with a version a batch behind. The phase ends
  // once the smoothed accuracy, having risen, has not risen by `min_gain` for
  // `class_patience` readings (a 32-sample accuracy moves about 9 points, hence the smoothing
  // and the patience). On CIFAR the new classes' accuracy can stay near 0 for a few rounds
  // before it rises; that is not "stopped rising".
  void begin_class_phase(bool new_classes) {
    class_phase_ = new_classes && p_.class_patience > 0;  // a shift without them ends it
    class_best_ = -1;
    class_stall_ = 0;
  }

  void follow_new_classes(const policy::ScheduleSignals& s) {
    if (!class_phase_) return;
    if (!std::isnan(s.newest_batch_accuracy) && s.accuracy_readings != class_reading_) {
      class_reading_ = s.accuracy_readings;
      const bool first = class_best_ < 0;
      class_smooth_ =
          first ? s.newest_batch_accuracy : 0.5 * class_smooth_ + 0.5 * s.newest_batch_accuracy;
      if (first) class_start_ = class_smooth_;
      if (first || class_smooth_ >= class_best_ + p_.min_gain) {
        class_best_ = class_smooth_;
        class_stall_ = 0;
      } else if (class_best_ >= class_start_ + p_.min_gain && ++class_stall_ >= p_.class_patience) {
        class_phase_ = false;  // it rose and then stopped
      }
    }
  }

  // Replay in proportion to the fresh data: a round's cost is mostly its replay (256 replayed
  // per 32 fresh in a typical stream). Under domain shift the requests follow the newest
  // domain and heavy rehearsal of old ones holds the model back; once the label space has
  // grown, requests span every class seen and rehearsal is what keeps the old classes, so
  // the stream's replay stays. The change round always keeps it.
  policy::RoundDecision budget(policy::RoundDecision d, const policy::ScheduleSignals& s) const {
    if (p_.replay_per_fresh >= 0 && !s.label_space_grew)
      d.replay_samples = static_cast<int>(p_.replay_per_fresh * s.pending_samples);
    return d;
  }

  // The deployed model does much worse on the newest batch than it has lately: the pending
  // data would change the model, so stale answers cost accuracy until it trains.
  bool surprised(const policy::ScheduleSignals& s) const {
    if (p_.surprise_confidence > 0)
      return !std::isnan(s.newest_answer_confidence) && !std::isnan(s.recent_answer_confidence) &&
             s.newest_answer_confidence < s.recent_answer_confidence - p_.surprise_confidence;
    return !std::isnan(s.newest_batch_accuracy) && !std::isnan(s.recent_accuracy) &&
           s.newest_batch_accuracy < s.recent_accuracy - p_.surprise;
  }

  // Once per round: converged (small held-out gain) means lazier, a big gain means eager.
  void adapt_merge(const policy::ScheduleSignals& s) {
    if (std::isnan(s.last_round_gain) || s.rounds_run == gain_round_) return;
    gain_round_ = s.rounds_run;
    converged_ = !taught(s);
    merge_ = converged_ ? std::min(merge_ * 2, p_.max_merge) : std::max(merge_ / 2, 1);
  }

  // The last round taught the model something: its held-out gain is at least `min_gain` and,
  // with `gain_z` > 0, beyond that many standard errors. Both accuracies come from a few
  // dozen samples (a 32-sample accuracy near 50% has a standard error of 9 points), so a gain
  // of a few points is as likely noise as learning. Off by default: on the tuning timelines
  // reading the noise changed accuracy by +0.1 points on average (docs/algorithms.md).
  bool taught(const policy::ScheduleSignals& s) const {
    const double noise = std::isnan(s.last_round_gain_se) ? 0 : p_.gain_z * s.last_round_gain_se;
    return s.last_round_gain >= std::max(p_.min_gain, noise);
  }

  // merge_after > 0 sets the merge factor for the rounds that follow; otherwise unchanged.
  policy::RoundDecision round(int epochs, const std::string& why, int merge_after) {
    policy::RoundDecision d;
    d.run = true;
    d.epochs = std::max(epochs, 0);
    d.reason = why;
    if (eager_run_ >= 0) ++eager_run_;
    if (eager_left_ > 0 && --eager_left_ == 0) merge_ = std::min(2, p_.max_merge);
    if (merge_after > 0) merge_ = merge_after;
    return d;
  }

  LazyParams p_;
  int merge_;
  int eager_left_ = 0;
  int eager_run_ = -1;  // rounds since the last change while its eager phase lasts; -1 = over
  int gain_round_ = -1;
  bool converged_ = false;    // the last gain the merge rule read was below min_gain
  bool class_phase_ = false;  // new classes arrived and their accuracy is still rising
  double class_best_ = -1;    // best smoothed accuracy of the phase (-1: no reading yet)
  double class_smooth_ = 0;
  double class_start_ = 0;      // the phase's first reading: it must rise before it can stop
  int class_stall_ = 0;         // readings since the smoothed accuracy last rose by min_gain
  int64_t class_reading_ = -1;  // which reading class_smooth_ last took
};

}  // namespace

std::unique_ptr<policy::Scheduler> make_lazytune(const nlohmann::json& params) {
  return std::make_unique<LazyTune>(parse(params));
}

}  // namespace etuner::sched
