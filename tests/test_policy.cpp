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

TEST_P(EveryScheduler, UnknownParametersAreRejectedOrIgnoredExplicitly) {
  // Every factory accepts an empty object.
  EXPECT_NO_THROW(sched::registry().make(GetParam(), nlohmann::json::object()));
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryScheduler,
                         ::testing::ValuesIn(sched::registry().names()));

class EveryFreezer : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryFreezer, PlansStayInsideTheBlocksAndNeverFreezeTheHead) {
  auto f = freeze::registry().make(GetParam(), {});
  policy::FreezeSignals s;
  s.num_blocks = 5;
  for (int check = 0; check < 40; ++check) {
    s.similarity.assign(5, 0.9999);
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
