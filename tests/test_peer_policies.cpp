// The rules of the peer baselines (docs/peers.md), exact values on hand-made signals.
#include <gtest/gtest.h>

#include <cmath>

#include "etuner/presets.h"
#include "etuner/error.h"
#include "etuner/freeze.h"
#include "etuner/sched.h"

using namespace etuner;

namespace {

policy::ScheduleSignals pending(int batches, int64_t seen, int scenario = -1, double now_s = 0) {
  policy::ScheduleSignals s;
  s.now_s = now_s;
  s.pending_batches = batches;
  s.pending_samples = batches * 32;
  s.oldest_batch_samples = batches ? 32 : 0;
  s.seen_samples = seen;
  s.oracle_scenario = scenario;
  return s;
}

policy::ProfileResult result(int epochs, int replay, double gain, double cost) {
  policy::ProfileResult r;
  r.epochs = epochs;
  r.replay_samples = replay;
  r.gain = gain;
  r.cost_samples = cost;
  return r;
}

policy::FreezeSignals grads(std::vector<double> norms, int prefix, bool drift = false) {
  policy::FreezeSignals s;
  s.num_blocks = static_cast<int>(norms.size()) - 1;  // the head is last
  s.grad_norms = std::move(norms);
  s.frozen_prefix = prefix;
  s.drift = drift;
  return s;
}

policy::FreezeSignals plastic(std::vector<double> p, int prefix, bool drift = false) {
  policy::FreezeSignals s;
  s.num_blocks = static_cast<int>(p.size());
  s.plasticity = std::move(p);
  s.frozen_prefix = prefix;
  s.drift = drift;
  return s;
}

}  // namespace

// ---- periodic

TEST(Periodic, TrainsEverythingPendingEveryFourBatches) {
  auto s = sched::registry().make("periodic", {});
  for (int b = 1; b < 4; ++b) EXPECT_FALSE(s->decide(pending(b, 32 * b)).run);
  auto d = s->decide(pending(4, 128));
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.take_samples, 0);  // everything pending
  EXPECT_EQ(d.epochs, 0);        // the stream's
  EXPECT_EQ(d.replay_samples, -1);
}

TEST(Periodic, ATimeCadenceCountsFromTheLastRoundsEnd) {
  auto s = sched::registry().make("periodic", {{"every_s", 30.0}});
  auto sig = pending(1, 32, -1, 39.9);
  sig.last_round_end_s = 10;
  EXPECT_FALSE(s->decide(sig).run);
  sig.now_s = 40;
  EXPECT_TRUE(s->decide(sig).run);
  EXPECT_THROW(sched::registry().make("periodic", {{"every", 3}}), ConfigError);
}

// ---- oracle

TEST(Oracle, TrainsAtTheFirstBatchThenMergesTwoFourEight) {
  auto s = sched::registry().make("oracle", {});
  EXPECT_TRUE(s->decide(pending(1, 32, 0)).run);  // the first scenario begins
  EXPECT_FALSE(s->decide(pending(1, 64, 0)).run);
  EXPECT_TRUE(s->decide(pending(2, 96, 0)).run);  // batches 2-3
  EXPECT_FALSE(s->decide(pending(3, 192, 0)).run);
  EXPECT_TRUE(s->decide(pending(4, 224, 0)).run);   // batches 4-7
  EXPECT_FALSE(s->decide(pending(7, 448, 0)).run);  // waits for 8 (max_merge)
  EXPECT_TRUE(s->decide(pending(8, 480, 0)).run);
}

TEST(Oracle, AChangeWaitsForTheNewScenariosFirstBatchThenTrainsAllPending) {
  auto s = sched::registry().make("oracle", {});
  EXPECT_TRUE(s->decide(pending(1, 32, 0)).run);
  EXPECT_FALSE(s->decide(pending(1, 64, 0)).run);
  // Requests of scenario 1 arrive before its first labeled batch: nothing new to train yet.
  EXPECT_FALSE(s->decide(pending(1, 64, 1)).run);
  EXPECT_FALSE(s->decide(pending(1, 64, 1)).run);
  auto d = s->decide(pending(2, 96, 1));  // scenario 1's first batch arrived
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.take_samples, 0);  // the old tail and the new batch
  EXPECT_EQ(d.epochs, 0);
  EXPECT_EQ(d.replay_samples, -1);
  EXPECT_FALSE(s->decide(pending(1, 128, 1)).run);  // merging restarts at 2
  EXPECT_TRUE(s->decide(pending(2, 160, 1)).run);
}

TEST(Oracle, WithoutAnIndexTheStreamIsOneScenario) {
  auto s = sched::registry().make("oracle", {{"max_merge", 2}});
  EXPECT_TRUE(s->decide(pending(1, 32)).run);
  EXPECT_FALSE(s->decide(pending(1, 64)).run);
  EXPECT_TRUE(s->decide(pending(2, 96)).run);
  EXPECT_TRUE(s->decide(pending(2, 160)).run);  // capped at 2
  EXPECT_THROW(sched::registry().make("oracle", {{"grow", 3}}), ConfigError);
}

// ---- ekya

TEST(Ekya, AClosedWindowAsksToProfileEpochsTimesReplay) {
  auto s = sched::registry().make("ekya", {});
  EXPECT_TRUE(s->decide(pending(3, 96)).profile.empty());
  auto d = s->decide(pending(4, 128));
  EXPECT_FALSE(d.run);
  ASSERT_EQ(d.profile.size(), 4u);
  EXPECT_EQ(d.profile[0].epochs, 1);
  EXPECT_DOUBLE_EQ(d.profile[0].replay_fraction, 0.25);
  EXPECT_EQ(d.profile[1].epochs, 1);
  EXPECT_DOUBLE_EQ(d.profile[1].replay_fraction, 1.0);
  EXPECT_EQ(d.profile[3].epochs, 0);  // the stream's
  EXPECT_DOUBLE_EQ(d.profile[3].data_fraction, 0.25);
}

TEST(Ekya, PicksTheBestGainPerSamplePass) {
  auto s = sched::registry().make("ekya", {});
  auto sig = pending(4, 128);
  sig.profile = {result(1, 64, 0.02, 192),                                      // 1.04e-4 per pass
                 result(3, 256, 0.05, 1152),                                    // 4.3e-5
                 result(1, 256, std::nan(""), 384), result(3, 64, 0.03, 576)};  // 5.2e-5
  auto d = s->decide(sig);
  EXPECT_TRUE(d.run);
  EXPECT_TRUE(d.profile.empty());
  EXPECT_EQ(d.take_samples, 0);
  EXPECT_EQ(d.epochs, 1);
  EXPECT_EQ(d.replay_samples, 64);
}

TEST(Ekya, SkipsAWindowNoConfigurationImproves) {
  auto s = sched::registry().make("ekya", {});
  auto sig = pending(4, 128);
  sig.profile = {result(1, 64, 0.0, 192), result(3, 256, -0.03, 1152)};
  auto d = s->decide(sig);
  EXPECT_FALSE(d.run);
  EXPECT_EQ(d.drop_samples, 128);  // retired into the replay buffer
}

TEST(Ekya, TimeWindowsAndParameters) {
  auto s = sched::registry().make("ekya", {{"window_s", 40.0},
                                           {"epochs", nlohmann::json::array({2})},
                                           {"replay_fractions", nlohmann::json::array({0.5})}});
  auto sig = pending(1, 32, -1, 39);
  EXPECT_TRUE(s->decide(sig).profile.empty());
  sig.now_s = 40;
  auto d = s->decide(sig);
  ASSERT_EQ(d.profile.size(), 1u);
  EXPECT_EQ(d.profile[0].epochs, 2);
  EXPECT_THROW(sched::registry().make("ekya", {{"epochs", nlohmann::json::array()}}), ConfigError);
  EXPECT_THROW(sched::registry().make("ekya", {{"windows", 2}}), ConfigError);
}

// ---- autofreeze

TEST(AutoFreeze, FreezesFrontBlocksAtOrBelowTheMedianRateOfChange) {
  auto f = freeze::registry().make("autofreeze", {});
  EXPECT_TRUE(f->needs().grad_norms);
  EXPECT_TRUE(f->needs().drift);
  EXPECT_EQ(f->decide(grads({1, 1, 1, 1, 1}, 0)).frozen_prefix, 0);  // no rate yet
  // Rates .01 .02 .5 .001 1.0 (head): the median (nearest rank 3 of 5) is .02.
  auto p = f->decide(grads({1.01, 1.02, 1.5, 1.001, 2.0}, 0));
  EXPECT_EQ(p.frozen_prefix, 2);  // block 3 settled too, but block 2 still moves
  EXPECT_FALSE(p.measure_similarity);
  // Blocks 2, 3 and the head: rates 0 (1.5 -> 1.5), .5 (1.001 -> 1.5015), .05 (2 -> 2.1).
  EXPECT_EQ(f->decide(grads({0, 0, 1.5, 1.5015, 2.1}, 2)).frozen_prefix, 3);
}

TEST(AutoFreeze, AChangeUnfreezesUnlessThePublishedBehaviourIsAskedFor) {
  auto f = freeze::registry().make("autofreeze", {});
  EXPECT_EQ(f->decide(grads({0, 0, 1, 1}, 2, true)).frozen_prefix, 0);
  auto published = freeze::registry().make("autofreeze", {{"unfreeze_on_change", false}});
  EXPECT_FALSE(published->needs().drift);
  EXPECT_EQ(published->decide(grads({0, 0, 1, 1}, 2, true)).frozen_prefix, 2);
}

TEST(AutoFreeze, MaxFrozenAndUnknownKeys) {
  auto f = freeze::registry().make("autofreeze", {{"max_frozen", 1}});
  EXPECT_EQ(f->decide(grads({1, 1, 1, 1}, 0)).frozen_prefix, 0);
  EXPECT_EQ(f->decide(grads({1, 1, 1, 2}, 0)).frozen_prefix, 1);
  EXPECT_THROW(freeze::registry().make("autofreeze", {{"percentil", 40}}), ConfigError);
}

// ---- egeria

TEST(Egeria, FreezesOneFrontBlockOncePlasticitySettledForTwoMeasurements) {
  auto f = freeze::registry().make("egeria", {});
  EXPECT_TRUE(f->needs().plasticity);
  EXPECT_FALSE(f->needs().grad_norms);
  EXPECT_EQ(f->decide(plastic({0.1, 0.1, 0.1}, 0)).frozen_prefix, 0);  // first: the average
  EXPECT_EQ(f->decide(plastic({0.1, 0.1, 0.1}, 0)).frozen_prefix, 0);  // settled once
  EXPECT_EQ(f->decide(plastic({0.1, 0.1, 0.1}, 0)).frozen_prefix, 1);  // twice: one block
  EXPECT_EQ(f->decide(plastic({0, 0.1, 0.1}, 1)).frozen_prefix, 2);
}

TEST(Egeria, AMovingTrendKeepsTraining) {
  auto f = freeze::registry().make("egeria", {});
  EXPECT_EQ(f->decide(plastic({0.1, 0.1}, 0)).frozen_prefix, 0);
  // Average 0.1 -> 0.15 (+50%), -> 0.15 (0%), -> 0.175 (+16.7%): never two in a row.
  EXPECT_EQ(f->decide(plastic({0.2, 0.1}, 0)).frozen_prefix, 0);
  EXPECT_EQ(f->decide(plastic({0.15, 0.1}, 0)).frozen_prefix, 0);
  EXPECT_EQ(f->decide(plastic({0.2, 0.1}, 0)).frozen_prefix, 0);
}

TEST(Egeria, NoMeasurementKeepsThePrefixAndAChangeUnfreezes) {
  auto f = freeze::registry().make("egeria", {});
  policy::FreezeSignals s;
  s.num_blocks = 3;
  s.frozen_prefix = 2;
  EXPECT_EQ(f->decide(s).frozen_prefix, 2);
  EXPECT_EQ(f->decide(plastic({0, 0, 0.1}, 2, true)).frozen_prefix, 0);
  EXPECT_THROW(freeze::registry().make("egeria", {{"tolerence", 0.2}}), ConfigError);
}

// ---- presets

TEST(PeerPresets, ComposeThePeerPolicies) {
  EXPECT_EQ(policy::make("periodic").scheduler_name, "periodic");
  EXPECT_EQ(policy::make("egeria").scheduler_name, "immediate");
  EXPECT_EQ(policy::make("egeria").freezer_name, "egeria");
  EXPECT_EQ(policy::make("autofreeze").freezer_name, "autofreeze");
  EXPECT_EQ(policy::make("ekya").scheduler_name, "ekya");
  EXPECT_EQ(policy::make("oracle").freezer_name, "none");
}
