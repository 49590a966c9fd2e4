// Contract tests over every registered scheduler, freezer and preset, plus the rules of the
// built-in baselines.
#include <gtest/gtest.h>

#include "etuner/adapt.h"
#include "etuner/presets.h"
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

// Every factory accepts an empty object and rejects a key it does not know, naming it.
TEST_P(EveryScheduler, UnknownParametersAreRejected) {
  EXPECT_NO_THROW(sched::registry().make(GetParam(), nlohmann::json::object()));
  try {
    (void)sched::registry().make(GetParam(), {{"no_such_parameter", 1}});
    ADD_FAILURE() << GetParam() << " accepted an unknown parameter";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_parameter"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryScheduler, ::testing::ValuesIn(sched::registry().names()));

class EveryFreezer : public ::testing::TestWithParam<std::string> {};

// The head is unit num_blocks, after every block: a prefix of at most num_blocks leaves it
// training. Signals of a fully converged run (every block settled) push each freezer to
// freeze as much as it ever would.
TEST_P(EveryFreezer, PlansStayInsideTheBlocksAndNeverFreezeTheHead) {
  auto f = freeze::registry().make(GetParam(), {});
  policy::FreezeSignals s;
  s.num_blocks = 5;
  int most = 0;
  for (int check = 0; check < 200; ++check) {
    s.similarity.assign(5, 1.0);
    s.similarity_steps = 100;
    s.grad_norms.assign(6, 1e-9);
    s.plasticity.assign(5, 0.0);
    for (int b = 0; b < s.frozen_prefix; ++b) s.grad_norms[b] = 0;
    s.epoch = check % 3;
    s.round = check / 3;
    s.round_start = s.epoch == 0;
    auto plan = f->decide(s);
    EXPECT_GE(plan.frozen_prefix, 0);
    EXPECT_LE(plan.frozen_prefix, s.num_blocks) << "check " << check << " froze the head";
    s.frozen_prefix = plan.frozen_prefix;
    most = std::max(most, plan.frozen_prefix);
  }
  // Every freezer but `none` freezes under these signals, so the bound above was tested.
  if (GetParam() != "none") EXPECT_GT(most, 0) << GetParam() << " never froze";
}

TEST_P(EveryFreezer, UnknownParametersAreRejected) {
  EXPECT_NO_THROW(freeze::registry().make(GetParam(), nlohmann::json::object()));
  EXPECT_THROW((void)freeze::registry().make(GetParam(), {{"no_such_parameter", 1}}), ConfigError);
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

class EveryAdapter : public ::testing::TestWithParam<std::string> {};

// Every factory accepts an empty object and rejects a key it does not know, naming it.
TEST_P(EveryAdapter, UnknownParametersAreRejected) {
  EXPECT_NO_THROW(adapt::registry().make(GetParam(), nlohmann::json::object()));
  try {
    (void)adapt::registry().make(GetParam(), {{"no_such_parameter", 1}});
    ADD_FAILURE() << GetParam() << " accepted an unknown parameter";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_parameter"), std::string::npos) << e.what();
  }
}

// Its options are ones the runtime can apply: a chunk of at least one answer, a step that
// moves the statistics at most all the way, a confidence that is a probability.
TEST_P(EveryAdapter, OptionsAreInRange) {
  const auto a = adapt::registry().make(GetParam(), {});
  EXPECT_GE(a->bn_chunk, 1);
  EXPECT_GE(a->bn_images, 0);
  EXPECT_GE(a->bn_alpha, 0.0);
  EXPECT_LE(a->bn_alpha, 1.0);
  EXPECT_GE(a->pseudo_threshold, 0.0);
  EXPECT_LE(a->pseudo_threshold, 1.0);
  EXPECT_FALSE(adapt::registry().find(GetParam()).help.empty());
}

// Any adapter composes with any scheduler and freezer, by name, and is what the policy gets.
TEST_P(EveryAdapter, ComposesAsTheThirdPartOfAPolicyName) {
  const auto p = policy::make("immediate+none+" + GetParam());
  EXPECT_EQ(p.adapter_name, GetParam());
  const auto a = adapt::registry().make(GetParam(), {});
  EXPECT_EQ(p.adapt.bn_adapt, a->bn_adapt);
  EXPECT_EQ(p.adapt.pseudo_labels, a->pseudo_labels);
  EXPECT_EQ(p.adapt.bn_chunk, a->bn_chunk);
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryAdapter, ::testing::ValuesIn(adapt::registry().names()));

TEST(Adapters, NoneAdaptsNothingAndBnAdaptsStatistics) {
  EXPECT_FALSE(adapt::registry().make("none", {})->bn_adapt);
  EXPECT_FALSE(adapt::registry().make("none", {})->pseudo_labels);
  EXPECT_TRUE(adapt::registry().make("bn", {})->bn_adapt);
  EXPECT_FALSE(adapt::registry().make("bn", {})->pseudo_labels);
  EXPECT_TRUE(adapt::registry().make("bn-ssl", {})->pseudo_labels);
  EXPECT_EQ(adapt::registry().make("bn", {{"bn_chunk", 0}})->bn_chunk, 1);
  EXPECT_THROW(policy::make("immediate+none+nope"), ConfigError);
}

class EveryPreset : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryPreset, BuildsWithHelpAndBothPolicies) {
  auto p = policy::make(GetParam());
  EXPECT_EQ(p.name, GetParam());
  EXPECT_FALSE(p.description.empty());
  ASSERT_TRUE(p.scheduler);
  ASSERT_TRUE(p.freezer);
  EXPECT_NO_THROW(adapt::registry().find(p.adapter_name));
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
