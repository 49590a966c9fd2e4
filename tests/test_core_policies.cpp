// The rules of lazytune and simfreeze, exact values on synthetic signals.
#include <gtest/gtest.h>

#include "etuner/presets.h"
#include "etuner/error.h"
#include "etuner/freeze.h"
#include "etuner/sched.h"

using namespace etuner;

namespace {

policy::ScheduleSignals pending(int batches, int rounds_run = 0) {
  policy::ScheduleSignals s;
  s.pending_batches = batches;
  s.pending_samples = batches * 32;
  s.oldest_batch_samples = batches ? 32 : 0;
  s.rounds_run = rounds_run;
  return s;
}

policy::FreezeSignals check(std::vector<double> sim, int prefix, bool drift = false) {
  policy::FreezeSignals s;
  s.num_blocks = static_cast<int>(sim.size());
  s.similarity = std::move(sim);
  s.similarity_steps = 1;
  s.frozen_prefix = prefix;
  s.drift = drift;
  return s;
}

}  // namespace

TEST(LazyTune, WaitsForTwoBatchesThenTrainsAllOfThemWithTwiceAsMuchReplay) {
  auto s = sched::registry().make("lazytune", {});
  EXPECT_FALSE(s->decide(pending(1)).run);
  auto d = s->decide(pending(2));
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.take_samples, 0);  // everything pending
  EXPECT_EQ(d.epochs, 0);        // the stream's epochs
  EXPECT_EQ(d.replay_samples, 128);
}

TEST(LazyTune, KeepsTheStreamsReplayOnceTheLabelSpaceGrew) {
  auto s = sched::registry().make("lazytune", {});
  auto sig = pending(2);
  sig.label_space_grew = true;
  EXPECT_EQ(s->decide(sig).replay_samples, -1);
}

TEST(LazyTune, AChangeTrainsAtOnceAtFullEpochsThenOneMoreEagerRound) {
  auto s = sched::registry().make("lazytune", {});
  auto sig = pending(1);
  sig.drift = true;
  auto d = s->decide(sig);
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.epochs, 0);           // the stream's epochs_per_round
  EXPECT_EQ(d.replay_samples, -1);  // the change round keeps the stream's replay
  d = s->decide(pending(1, 1));
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.epochs, 0);
  EXPECT_EQ(d.replay_samples, 64);
  EXPECT_FALSE(s->decide(pending(1, 2)).run);  // back to merging two
  EXPECT_TRUE(s->decide(pending(2, 2)).run);
}

TEST(LazyTune, WithMaxEagerAChangeStaysEagerWhileRoundsKeepTeaching) {
  auto s = sched::registry().make("lazytune", {{"max_eager", 8}, {"class_patience", 0}});
  auto sig = pending(1);
  sig.new_classes = true;
  EXPECT_TRUE(s->decide(sig).run);            // the change round
  EXPECT_TRUE(s->decide(pending(1, 1)).run);  // the fixed eager round
  auto learning = pending(1, 2);
  learning.last_round_gain = 0.05;  // the eager round taught 5 points
  auto d = s->decide(learning);
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.reason, "still learning after a change");
  auto settled = pending(1, 3);
  settled.last_round_gain = 0.01;  // below min_gain: the phase ends, merge 2
  EXPECT_FALSE(s->decide(settled).run);
  settled.pending_batches = 2;
  EXPECT_TRUE(s->decide(settled).run);  // that gain did not also double the merge
  auto later = pending(1, 4);
  later.last_round_gain = 0.05;                            // the phase is over for this change:
  EXPECT_EQ(s->decide(later).reason, "merged 1 batches");  // the merge rule halves instead
}

TEST(LazyTune, TheEagerPhaseIsBoundedByMaxEager) {
  auto s = sched::registry().make("lazytune", {{"max_eager", 3}});
  auto sig = pending(1);
  sig.drift = true;
  EXPECT_TRUE(s->decide(sig).run);
  EXPECT_TRUE(s->decide(pending(1, 1)).run);
  for (int r = 2; r <= 3; ++r) {
    auto gaining = pending(1, r);
    gaining.last_round_gain = 0.5;
    EXPECT_EQ(s->decide(gaining).run, r == 2) << "round " << r;  // the third round is the last
  }
}

// Readings of the newest batch's accuracy after new classes arrived, each call a new one.
policy::ScheduleSignals class_reading(int round, double accuracy, double gain = policy::kUnknown) {
  auto s = pending(1, round);
  s.accuracy_readings = round + 1;
  s.newest_batch_accuracy = accuracy;
  s.last_round_gain = gain;
  s.label_space_grew = true;
  return s;
}

TEST(LazyTune, NewClassesStayEagerWhileTheirAccuracyRises) {
  auto s = sched::registry().make("lazytune", {{"class_patience", 2}});
  auto first = class_reading(0, 0.0);
  first.new_classes = true;
  EXPECT_EQ(s->decide(first).reason, "scenario change");
  EXPECT_EQ(s->decide(class_reading(1, 0.4)).reason, "eager after a change");  // smoothed 0.2
  // The gain is small, which alone would merge two batches; the new classes still rise.
  EXPECT_EQ(s->decide(class_reading(2, 0.6, 0.0)).reason, "new classes still rising");  // 0.4
  EXPECT_EQ(s->decide(class_reading(3, 0.4, 0.0)).reason, "new classes still rising");  // stall 1
  // Stall 2 ends the phase; the merge rule reads this small gain and waits for two batches.
  EXPECT_FALSE(s->decide(class_reading(4, 0.4, 0.0)).run);

  auto off = sched::registry().make("lazytune", {{"class_patience", 0}});
  EXPECT_TRUE(off->decide(first).run);
  EXPECT_TRUE(off->decide(class_reading(1, 0.4)).run);
  EXPECT_FALSE(off->decide(class_reading(2, 0.6, 0.0)).run);  // merges as before
}

TEST(LazyTune, AShiftWithoutNewClassesEndsTheClassPhase) {
  auto s = sched::registry().make("lazytune", {{"class_patience", 2}});
  auto first = class_reading(0, 0.0);
  first.new_classes = true;
  EXPECT_TRUE(s->decide(first).run);
  auto shift = class_reading(1, 0.5);
  shift.drift = true;
  EXPECT_EQ(s->decide(shift).reason, "scenario change");
  EXPECT_EQ(s->decide(class_reading(2, 0.7)).reason, "eager after a change");
  EXPECT_FALSE(s->decide(class_reading(3, 0.9, 0.0)).run);  // rising, but no new classes
}

TEST(LazyTune, NewClassesCountAsAChange) {
  auto s = sched::registry().make("lazytune", {});
  auto sig = pending(1);
  sig.new_classes = true;
  EXPECT_TRUE(s->decide(sig).run);
}

TEST(LazyTune, MergeDoublesWhileHeldOutGainIsSmallAndHalvesWhenLarge) {
  auto s = sched::registry().make("lazytune", {{"max_merge", 4}});
  auto sig = pending(2, 1);
  sig.last_round_gain = 0.01;  // below min_gain 0.02: converged, merge 2 -> 4
  EXPECT_FALSE(s->decide(sig).run);
  sig.pending_batches = 3;
  EXPECT_FALSE(s->decide(sig).run);  // the same round's gain is applied once
  sig.pending_batches = 4;
  EXPECT_TRUE(s->decide(sig).run);
  auto capped = pending(3, 2);
  capped.last_round_gain = 0.01;  // would double again: capped at max_merge 4
  EXPECT_FALSE(s->decide(capped).run);
  auto big = pending(2, 3);
  big.last_round_gain = 0.10;  // a big gain: 4 -> 2
  EXPECT_TRUE(s->decide(big).run);
}

TEST(LazyTune, WithGainZAGainWithinItsNoiseDoesNotMakeItEager) {
  auto s = sched::registry().make("lazytune", {{"max_merge", 4}, {"gain_z", 2}});
  auto sig = pending(2, 1);
  sig.last_round_gain = 0.10;     // ten points, but two standard errors are 18:
  sig.last_round_gain_se = 0.09;  // not evidence of learning, merge 2 -> 4
  EXPECT_FALSE(s->decide(sig).run);
  auto clear = pending(2, 2);
  clear.last_round_gain = 0.20;  // beyond two standard errors: the round taught, 4 -> 2
  clear.last_round_gain_se = 0.09;
  EXPECT_TRUE(s->decide(clear).run);
  auto off = sched::registry().make("lazytune", {{"max_merge", 4}});
  EXPECT_TRUE(off->decide(sig).run);  // by default min_gain alone reads it: merge 2 -> 1
}

TEST(LazyTune, ByDefaultMergesAtMostTwoBatches) {
  auto s = sched::registry().make("lazytune", {});
  auto sig = pending(2, 1);
  sig.last_round_gain = 0.01;  // converged: would double, but max_merge is 2
  EXPECT_TRUE(s->decide(sig).run);
}

TEST(LazyTune, AMergedRoundAfterASmallGainTrainsConvergedEpochs) {
  auto s = sched::registry().make("lazytune", {{"converged_epochs", 2}});
  auto taught = pending(2, 1);
  taught.last_round_gain = 0.05;  // the last round taught: the stream's epochs
  auto d = s->decide(taught);
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.epochs, 0);
  auto small = pending(2, 2);
  small.last_round_gain = 0.01;  // below min_gain: converged, two epochs
  d = s->decide(small);
  EXPECT_EQ(d.epochs, 2);
  EXPECT_EQ(d.reason, "merged 2 batches, converged");
  auto change = pending(1, 3);
  change.drift = true;  // a change trains at full epochs and forgets the small gain
  EXPECT_EQ(s->decide(change).epochs, 0);
  EXPECT_EQ(s->decide(pending(1, 4)).epochs, 0);  // the eager round
  EXPECT_EQ(s->decide(pending(2, 5)).epochs, 0);  // no gain read since the change
  EXPECT_EQ(sched::registry().make("lazytune", {})->decide(small).epochs, 1);  // by default
  auto off = sched::registry().make("lazytune", {{"converged_epochs", 0}});
  EXPECT_EQ(off->decide(small).epochs, 0);
}

// The surprise rule as test-then-train accuracy (`surprise_confidence` 0).
TEST(LazyTune, ASurprisinglyHardBatchTrainsNowAtFullEpochs) {
  auto s = sched::registry().make("lazytune", {{"surprise_confidence", 0}});
  auto sig = pending(1);
  sig.recent_accuracy = 0.80;
  sig.newest_batch_accuracy = 0.70;  // within `surprise` 0.15: wait
  EXPECT_FALSE(s->decide(sig).run);
  sig.newest_batch_accuracy = 0.60;
  auto d = s->decide(sig);
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.epochs, 0);
}

// By default the surprise rule reads the answers' mean confidence over the newest gap against
// its running mean (label-free, no pass), not test-then-train accuracy.
TEST(LazyTune, AnswersFarLessConfidentThanLatelyTrainNowAtFullEpochs) {
  auto s = sched::registry().make("lazytune", {});
  auto sig = pending(1);
  sig.recent_accuracy = 0.80;
  sig.newest_batch_accuracy = 0.20;  // ignored by default
  sig.recent_answer_confidence = 0.90;
  sig.newest_answer_confidence = 0.85;  // within `surprise_confidence` 0.1: wait
  EXPECT_FALSE(s->decide(sig).run);
  sig.newest_answer_confidence = 0.75;
  auto d = s->decide(sig);
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.epochs, 0);
}

TEST(LazyTune, NeverReadsTheOracle) {
  auto a = sched::registry().make("lazytune", {}), b = sched::registry().make("lazytune", {});
  for (int i = 0; i < 20; ++i) {
    auto sa = pending(1 + i % 3, i / 2), sb = sa;
    sa.oracle_scenario = -1;
    sb.oracle_scenario = i;
    const auto da = a->decide(sa), db = b->decide(sb);
    EXPECT_EQ(da.run, db.run);
    EXPECT_EQ(da.epochs, db.epochs);
  }
}

TEST(LazyTune, RejectsUnknownParametersAndAcceptsKnownOnes) {
  EXPECT_THROW(sched::registry().make("lazytune", {{"max_merg", 3}}), ConfigError);
  auto s = sched::registry().make("lazytune", {{"start_merge", 1}});
  EXPECT_TRUE(s->decide(pending(1)).run);
}

// The threshold alone (decay 1): one converged check freezes.
nlohmann::json one_check(double threshold = 0.99) {
  return {{"threshold", threshold}, {"patience", 1}, {"decay", 1.0}};
}

TEST(SimFreeze, FreezesTheLongestConvergedPrefixOnly) {
  auto f = freeze::registry().make("simfreeze", one_check());
  auto p = f->decide(check({0.999, 0.995, 0.98, 0.999}, 0));
  EXPECT_EQ(p.frozen_prefix, 2);  // block 3 converged, but block 2 still moves
  EXPECT_TRUE(p.measure_similarity);
  p = f->decide(check({1.0, 1.0, 0.991, 0.5}, 2));
  EXPECT_EQ(p.frozen_prefix, 3);
}

TEST(SimFreeze, NoMeasurementIsNoEvidence) {
  auto f = freeze::registry().make("simfreeze", {});
  auto s = check({}, 0);
  s.num_blocks = 4;
  EXPECT_EQ(f->decide(s).frozen_prefix, 0);
  EXPECT_TRUE(f->decide(s).measure_similarity);
}

TEST(SimFreeze, DecayAQuarterKeepsASteadilyDriftingBlockTraining) {
  auto f = freeze::registry().make("simfreeze", {{"decay", 0.25}});
  EXPECT_EQ(f->decide(check({0.998, 0.9995}, 0)).frozen_prefix, 0);   // the peaks
  EXPECT_EQ(f->decide(check({0.9996, 0.9995}, 0)).frozen_prefix, 0);  // block 0 slowed: streak 1
  EXPECT_EQ(f->decide(check({0.9996, 0.9995}, 0)).frozen_prefix, 1);  // block 0: streak 2
  // Block 1 drifts 0.0005 per check, above the threshold but never slower: it keeps training.
  EXPECT_EQ(f->decide(check({1.0, 0.9995}, 1)).frozen_prefix, 1);
  EXPECT_EQ(f->decide(check({1.0, 0.9999}, 1)).frozen_prefix, 1);  // slowed to a fifth: streak 1
  EXPECT_EQ(f->decide(check({1.0, 0.9999}, 1)).frozen_prefix, 2);
}

TEST(SimFreeze, DefaultsAreThreshold0999WithPatience2AndNoDecayRule) {
  auto f = freeze::registry().make("simfreeze", {});
  EXPECT_EQ(f->decide(check({0.9995, 0.998}, 0)).frozen_prefix, 0);
  EXPECT_EQ(f->decide(check({0.9995, 0.9999}, 0)).frozen_prefix, 1);  // block 1: streak 1
  EXPECT_EQ(f->decide(check({1.0, 0.9999}, 1)).frozen_prefix, 2);
}

TEST(SimFreeze, PatienceNeedsConsecutiveChecks) {
  auto f =
      freeze::registry().make("simfreeze", {{"patience", 2}, {"threshold", 0.99}, {"decay", 1.0}});
  EXPECT_EQ(f->decide(check({0.999, 0.999}, 0)).frozen_prefix, 0);
  EXPECT_EQ(f->decide(check({0.98, 0.999}, 0)).frozen_prefix, 0);  // streak broken
  EXPECT_EQ(f->decide(check({0.999, 0.999}, 0)).frozen_prefix, 0);
  EXPECT_EQ(f->decide(check({0.999, 0.999}, 0)).frozen_prefix, 2);
}

TEST(SimFreeze, AChangeUnfreezesEverythingAndRestartsTheCount) {
  auto f = freeze::registry().make("simfreeze", one_check());
  EXPECT_EQ(f->decide(check({0.999, 0.999, 0.999}, 0)).frozen_prefix, 3);
  EXPECT_EQ(f->decide(check({1, 1, 1}, 3, true)).frozen_prefix, 0);
  EXPECT_EQ(f->decide(check({0.5, 0.999, 0.999}, 0)).frozen_prefix, 0);
}

// `change_checks` 1: after a change (and at deployment) the first check, which spans the
// change round, freezes a block that held; a block that moved then needs `patience` again.
TEST(SimFreeze, ChangeChecksOneRefreezesFromTheChangeRoundsCheck) {
  auto f = freeze::registry().make(
      "simfreeze", {{"patience", 2}, {"threshold", 0.99}, {"decay", 1.0}, {"change_checks", 1}});
  EXPECT_EQ(f->decide(check({0.999, 0.999}, 0)).frozen_prefix, 2);  // deployment: one check
  EXPECT_EQ(f->decide(check({1, 1}, 2, true)).frozen_prefix, 0);
  EXPECT_EQ(f->decide(check({0.999, 0.98}, 0)).frozen_prefix, 1);   // block 1 moved: streak 0
  EXPECT_EQ(f->decide(check({0.999, 0.999}, 1)).frozen_prefix, 1);  // block 1: streak 1 of 2
  EXPECT_EQ(f->decide(check({0.999, 0.999}, 1)).frozen_prefix, 2);
}

// `change_threshold`: the head start counts only for a block that held at least that firmly;
// one that held less needs `patience` checks like any other.
TEST(SimFreeze, ChangeThresholdKeepsTheHeadStartForFirmBlocksOnly) {
  auto f = freeze::registry().make("simfreeze", {{"patience", 2},
                                                 {"threshold", 0.99},
                                                 {"decay", 1.0},
                                                 {"change_checks", 1},
                                                 {"change_threshold", 0.9999}});
  EXPECT_EQ(f->decide(check({1, 1}, 0, true)).frozen_prefix, 0);
  EXPECT_EQ(f->decide(check({0.99995, 0.995}, 0)).frozen_prefix, 1);  // block 1: streak 1 of 2
  EXPECT_EQ(f->decide(check({0.99995, 0.995}, 1)).frozen_prefix, 2);
}

// `class_max_frozen`: while the scheduler reads new classes as still being learned the
// prefix holds at most that many blocks, and the blocks that converged meanwhile freeze at
// the first check after.
TEST(SimFreeze, NewClassesStillLearnedHoldThePrefixAtItsClassCap) {
  auto f = freeze::registry().make("simfreeze", {{"patience", 1}, {"class_max_frozen", 2}});
  auto s = check({0.999, 0.999, 0.999, 0.999}, 0);
  s.learning_new_classes = true;
  EXPECT_EQ(f->decide(s).frozen_prefix, 2);
  s.frozen_prefix = 3;  // frozen further before the phase began: reopened to the cap
  const auto reopened = f->decide(s);
  EXPECT_EQ(reopened.frozen_prefix, 2);
  EXPECT_EQ(reopened.reason, "new classes still learned: blocks reopened");
  EXPECT_EQ(f->decide(check({0.999, 0.999, 0.999, 0.999}, 2)).frozen_prefix, 4);  // phase over
  auto off = freeze::registry().make("simfreeze", {{"patience", 1}});
  EXPECT_EQ(off->decide(s).frozen_prefix, 4);  // off by default
}

TEST(SimFreeze, NewClassesRetrainTheBackHalfOfThePrefix) {
  auto f = freeze::registry().make("simfreeze", one_check());
  EXPECT_EQ(f->decide(check({0.999, 0.999, 0.999, 0.999, 0.999}, 0)).frozen_prefix, 5);
  auto s = check({1, 1, 1, 1, 1}, 5);
  s.new_classes = true;
  const auto p = f->decide(s);
  EXPECT_EQ(p.frozen_prefix, 2);  // 5 * 0.5, rounded down: the early, generic blocks stay
  EXPECT_TRUE(p.measure_similarity);
  EXPECT_EQ(f->decide(check({1, 1, 0.5, 0.999, 0.999}, 2)).frozen_prefix, 2);  // block 2 moves
  auto keep_all = freeze::registry().make("simfreeze", {{"new_class_keep", 1.0}});
  EXPECT_EQ(keep_all->decide(s).frozen_prefix, 5);
}

TEST(SimFreeze, ASteadyDriftIsNotConvergenceASlowedOneIs) {
  auto f =
      freeze::registry().make("simfreeze", {{"threshold", 0.99}, {"patience", 1}, {"decay", 0.25}});
  // Both blocks above the threshold; block 0 keeps drifting at its first rate, block 1 slows.
  EXPECT_EQ(f->decide(check({0.998, 0.998}, 0)).frozen_prefix, 0);   // first drift = the peak
  EXPECT_EQ(f->decide(check({0.998, 0.9995}, 0)).frozen_prefix, 0);  // block 0 steady: 1 trains
  auto slowed = check({0.9996, 0.9995}, 0);
  EXPECT_EQ(f->decide(slowed).frozen_prefix, 2);  // 0.0004 <= 0.25 * 0.002 for both
}

TEST(SimFreeze, DriftIsComparedPerTrainingStep) {
  auto f =
      freeze::registry().make("simfreeze", {{"threshold", 0.99}, {"patience", 1}, {"decay", 0.25}});
  auto s = check({0.996}, 0);
  s.similarity_steps = 4;  // a round of 4 steps: 0.001 per step
  EXPECT_EQ(f->decide(s).frozen_prefix, 0);
  s = check({0.999}, 0);  // one step: the same 0.001 per step, not a quarter of it
  EXPECT_EQ(f->decide(s).frozen_prefix, 0);
  s = check({0.999}, 0);
  s.similarity_steps = 8;  // 0.000125 per step: slowed to an eighth
  EXPECT_EQ(f->decide(s).frozen_prefix, 1);
  s = check({0.9}, 1, true);  // a change restarts the peak
  EXPECT_EQ(f->decide(s).frozen_prefix, 0);
  s = check({0.999}, 0);
  s.similarity_steps = 8;
  EXPECT_EQ(f->decide(s).frozen_prefix, 0);  // its first drift after the change is its peak
}

TEST(SimFreeze, MaxFrozenCapsThePrefix) {
  auto f =
      freeze::registry().make("simfreeze", {{"max_frozen", 1}, {"patience", 1}, {"decay", 1.0}});
  EXPECT_EQ(f->decide(check({0.999, 0.999, 0.999}, 0)).frozen_prefix, 1);
  EXPECT_THROW(freeze::registry().make("simfreeze", {{"treshold", 0.9}}), ConfigError);
}

TEST(Presets, TheAblationNamesComposeTheCorePolicies) {
  auto e = policy::make("etuner");
  EXPECT_EQ(e.scheduler_name, "lazytune");
  EXPECT_EQ(e.freezer_name, "simfreeze");
  EXPECT_EQ(policy::make("lazy").freezer_name, "none");
  EXPECT_EQ(policy::make("freeze").scheduler_name, "immediate");
  EXPECT_TRUE(policy::make("etuner-ssl").adapt.pseudo_labels);
  EXPECT_TRUE(policy::make("etuner").adapt.bn_adapt);
  EXPECT_FALSE(policy::make("etuner").adapt.pseudo_labels);
  EXPECT_FALSE(policy::make("etuner-noadapt").adapt.bn_adapt);
  EXPECT_EQ(policy::make("etuner-noadapt").scheduler_name, "lazytune");
  EXPECT_FALSE(policy::make("immediate").adapt.bn_adapt);
}

// immediate-bn is immediate with etuner's BatchNorm adaptation and nothing else of etuner:
// the comparison that isolates scheduling and freezing from the adaptation.
TEST(Presets, ImmediateBnIsImmediateWithEtunersAdaptation) {
  const auto p = policy::make("immediate-bn"), e = policy::make("etuner");
  EXPECT_EQ(p.scheduler_name, "immediate");
  EXPECT_EQ(p.freezer_name, "none");
  EXPECT_TRUE(p.adapt.bn_adapt);
  EXPECT_FALSE(p.adapt.pseudo_labels);
  EXPECT_EQ(p.adapt.bn_chunk, e.adapt.bn_chunk);
  EXPECT_EQ(p.adapt.bn_images, e.adapt.bn_images);
  EXPECT_DOUBLE_EQ(p.adapt.bn_alpha, e.adapt.bn_alpha);
  EXPECT_FALSE(p.needs_change_detector());
  EXPECT_EQ(p.adapter_name, "bn");
  EXPECT_EQ(policy::make("etuner").adapter_name, "bn");
  EXPECT_EQ(policy::make("etuner-noadapt").adapter_name, "none");
  EXPECT_EQ(policy::make("periodic-bn").scheduler_name, "periodic");
  EXPECT_TRUE(policy::make("periodic-bn").adapt.bn_adapt);
  EXPECT_FALSE(policy::make("lazytune+simfreeze").adapt.bn_adapt);
  EXPECT_EQ(policy::make("catchup-bn").scheduler_name, "catchup");
  EXPECT_TRUE(policy::make("catchup-bn").adapt.bn_adapt);
}

TEST(Catchup, TrainsTheWholeQueueWheneverABatchIsPending) {
  auto s = sched::registry().make("catchup", {});
  policy::ScheduleSignals sig;
  EXPECT_FALSE(s->decide(sig).run);
  sig.pending_batches = 3;
  sig.pending_samples = 96;
  sig.oldest_batch_samples = 32;
  const auto d = s->decide(sig);
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.take_samples, 0);  // all pending
  EXPECT_EQ(d.drop_samples, 0);
}

TEST(Presets, ParamsReachTheirComponentAndUnknownOnesAreErrors) {
  EXPECT_THROW(policy::make("etuner", {{"lazytune", {{"max_merg", 3}}}}), ConfigError);
  EXPECT_NO_THROW(policy::make("etuner", {{"simfreeze", {{"max_frozen", 0}}}}));
  EXPECT_NO_THROW(policy::make("immediate", {{"simfreeze", {{"max_frozen", 0}}}}));  // not its part
  EXPECT_THROW(policy::check_params({{"lazytun", nlohmann::json::object()}}), ConfigError);
  EXPECT_THROW(policy::check_params(nlohmann::json::array()), ConfigError);
  EXPECT_NO_THROW(policy::check_params({{"lazytune", {{"max_eager", 2}}}}));
}

TEST(Presets, AdaptationNumbersAreParamsButTheKindStaysThePresets) {
  const nlohmann::json p = {{"adapt", {{"bn_chunk", 30}, {"bn_images", 8}, {"bn_alpha", 0.5}}}};
  EXPECT_NO_THROW(policy::check_params(p));
  auto bn = policy::make("etuner", p);
  EXPECT_TRUE(bn.adapt.bn_adapt);
  EXPECT_EQ(bn.adapt.bn_chunk, 30);
  EXPECT_EQ(bn.adapt.bn_images, 8);
  EXPECT_DOUBLE_EQ(bn.adapt.bn_alpha, 0.5);
  EXPECT_FALSE(policy::make("immediate", p).adapt.bn_adapt);
  EXPECT_THROW(policy::make("etuner", {{"adapt", {{"bn_adapt", true}}}}), ConfigError);
  // An adapter's own entry works like a scheduler's; "adapt" overrides it.
  EXPECT_EQ(policy::make("immediate-bn", {{"bn", {{"bn_chunk", 7}}}}).adapt.bn_chunk, 7);
  EXPECT_EQ(policy::make("etuner-ssl", {{"bn", {{"bn_chunk", 7}}}}).adapt.bn_chunk,
            policy::AdaptOptions{}.bn_chunk);  // not its adapter (bn-ssl)
  EXPECT_THROW(policy::make("immediate-bn", {{"bn", {{"bn_chunkk", 7}}}}), ConfigError);
  EXPECT_NO_THROW(policy::check_params({{"bn", {{"bn_chunk", 7}}}}));
}
