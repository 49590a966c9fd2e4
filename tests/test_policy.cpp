// Contract tests over every registered scheduler, freezer and preset, plus the rules of the
// built-in baselines.
#include <gtest/gtest.h>

#include "etuner/error.h"
#include "etuner/freeze.h"
#include "etuner/sched.h"

using namespace etuner;

namespace {

policy::ScheduleSignals pending(int batches, int batch_size, double now_s = 10) {
  policy::ScheduleSignals s;
  s.now_s = now_s;
  s.pending_batches = batches;
  s.pending_samples = batches * batch_size;
  s.oldest_batch_samples = batches ? batch_size : 0;
  s.seen_samples = s.pending_samples;
  return s;
}

}  // namespace

class EveryScheduler : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryScheduler, NeverRunsWithoutPendingData) {
  auto s = sched::registry().make(GetParam(), {});
  auto d = s->decide(pending(0, 0));
  EXPECT_FALSE(d.run);
  EXPECT_EQ(d.drop_samples, 0);
}

TEST_P(EveryScheduler, DecisionsStayWithinPendingData) {
  auto s = sched::registry().make(GetParam(), {});
  for (int step = 1; step <= 30; ++step) {
    auto sig = pending(1 + step % 4, 32, step * 10.0);
    sig.rounds_run = step / 2;
    auto d = s->decide(sig);
    EXPECT_GE(d.take_samples, 0);
    EXPECT_LE(d.take_samples + d.drop_samples, sig.pending_samples);
    EXPECT_GE(d.drop_samples, 0);
    EXPECT_GE(d.epochs, 0);
    EXPECT_GE(d.replay_samples, -1);
  }
}

// A scheduler may ask for trials (micro-profiling) first; given their results it decides
// without asking again, and a decision that asks for trials neither drops nor trains.
TEST_P(EveryScheduler, ProfilingRequestsAreAnsweredByADecision) {
  auto s = sched::registry().make(GetParam(), {});
  for (int step = 1; step <= 30; ++step) {
    auto sig = pending(1 + step % 5, 32, step * 10.0);
    auto d = s->decide(sig);
    if (d.profile.empty()) continue;
    EXPECT_EQ(d.drop_samples, 0);
    for (const auto& c : d.profile) {
      EXPECT_GE(c.epochs, 0);
      EXPECT_GE(c.replay_fraction, 0);
      EXPECT_GT(c.data_fraction, 0);
      EXPECT_LE(c.data_fraction, 1);
      policy::ProfileResult r;
      r.candidate = c;
      r.epochs = c.epochs > 0 ? c.epochs : 2;
      r.replay_samples = static_cast<int>(c.replay_fraction * 64);
      r.gain = 0.01 * (static_cast<int>(sig.profile.size()) - 1);
      r.cost_samples = r.epochs * (sig.pending_samples + r.replay_samples);
      sig.profile.push_back(r);
    }
    auto again = s->decide(sig);
    EXPECT_TRUE(again.profile.empty());
    EXPECT_LE(again.take_samples + again.drop_samples, sig.pending_samples);
    EXPECT_GE(again.epochs, 0);
  }
}

TEST_P(EveryScheduler, UnknownParametersAreRejectedOrIgnoredExplicitly) {
  // Every factory accepts an empty object.
  EXPECT_NO_THROW(sched::registry().make(GetParam(), nlohmann::json::object()));
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryScheduler, ::testing::ValuesIn(sched::registry().names()));

class EveryFreezer : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryFreezer, PlansStayInsideTheBlocksAndNeverFreezeTheHead) {
  auto f = freeze::registry().make(GetParam(), {});
  policy::FreezeSignals s;
  s.num_blocks = 5;
  for (int check = 0; check < 40; ++check) {
    s.similarity.assign(5, 0.9999);
    // Every signal a freezer may read: a converging run, so freezers do freeze.
    s.grad_norms.assign(6, 1.0 + 0.01 / (check + 1));
    for (int b = 0; b < s.frozen_prefix; ++b) s.grad_norms[b] = 0;
    s.plasticity.assign(5, 0.01);
    for (int b = 0; b < s.frozen_prefix; ++b) s.plasticity[b] = 0;
    s.epoch = check % 3;
    s.round = check / 3;
    s.round_start = s.epoch == 0;
    s.drift = check == 20;
    auto plan = f->decide(s);
    EXPECT_GE(plan.frozen_prefix, 0);
    EXPECT_LE(plan.frozen_prefix, s.num_blocks);
    s.frozen_prefix = plan.frozen_prefix;
  }
}

// A freezer that reads the change detector unfreezes at a change, or keeps its prefix.
TEST_P(EveryFreezer, AChangeNeverGrowsThePrefix) {
  auto f = freeze::registry().make(GetParam(), {});
  policy::FreezeSignals s;
  s.num_blocks = 4;
  s.frozen_prefix = 3;
  s.drift = true;
  EXPECT_LE(f->decide(s).frozen_prefix, 3);
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryFreezer, ::testing::ValuesIn(freeze::registry().names()));

class EveryPreset : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryPreset, BuildsWithHelpAndBothPolicies) {
  auto p = policy::make(GetParam());
  EXPECT_EQ(p.name, GetParam());
  EXPECT_FALSE(p.description.empty());
  ASSERT_TRUE(p.scheduler);
  ASSERT_TRUE(p.freezer);
  EXPECT_FALSE(policy::preset_help(GetParam()).empty());
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryPreset, ::testing::ValuesIn(policy::preset_names()));

TEST(Immediate, TrainsTheOldestBatchAsSoonAsOneIsPending) {
  auto s = sched::registry().make("immediate", {});
  auto d = s->decide(pending(3, 32));
  EXPECT_TRUE(d.run);
  EXPECT_EQ(d.take_samples, 32);
  EXPECT_EQ(d.drop_samples, 0);
  EXPECT_EQ(d.epochs, 0);           // the stream's epochs_per_round
  EXPECT_EQ(d.replay_samples, -1);  // the stream's replay_samples
}

TEST(Never, NeverRuns) {
  auto s = sched::registry().make("never", {});
  EXPECT_FALSE(s->decide(pending(5, 32)).run);
}

TEST(Registry, UnknownNamesListTheValidOnes) {
  try {
    policy::make("immediat");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("immediate"), std::string::npos);
  }
  EXPECT_THROW(sched::registry().make("nope", {}), ConfigError);
  EXPECT_THROW(freeze::registry().make("nope", {}), ConfigError);
}

TEST(Registry, ComposesSchedulerAndFreezerByName) {
  auto p = policy::make("immediate+none");
  EXPECT_EQ(p.scheduler_name, "immediate");
  EXPECT_EQ(p.freezer_name, "none");
  EXPECT_THROW(policy::make("immediate+nope"), ConfigError);
}
