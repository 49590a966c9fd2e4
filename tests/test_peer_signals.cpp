// The runtime measures the freezers' signals: similarity with the steps between its checks,
// and, for the peer baselines, per-unit gradient norms and plasticity; micro-profiling trials for
// schedulers that ask; and every peer preset runs end to end on a tiny model.
#include <gtest/gtest.h>

#include <cmath>

#include "etuner/presets.h"
#include "etuner/freeze.h"
#include "etuner/runtime.h"
#include "etuner/sched.h"

using namespace etuner;

namespace {

runtime::RuntimeConfig config() {
  runtime::RuntimeConfig c;
  c.profile = device_profile("cpu-2core");
  c.train.batch_size = 8;
  c.train.epochs_per_round = 2;
  c.train.replay_samples = 8;
  c.train.replay_buffer = 32;
  c.train.lr = 0.05;
  return c;
}

runtime::Runtime make(policy::Policy p) {
  torch::manual_seed(0);
  auto m = model::make("tiny", {1, 12, 12, 10});
  return runtime::Runtime(std::move(m), std::move(p), config(),
                          meter::make_modeled(device_profile("cpu-2core")));
}

std::pair<torch::Tensor, torch::Tensor> batch(int n, int seed) {
  torch::manual_seed(seed);
  return {torch::rand({n, 1, 12, 12}), torch::randint(0, 10, {n}, torch::kLong)};
}

// Records what it is shown; freezes a fixed prefix.
class Recorder final : public policy::Freezer {
 public:
  Recorder(std::vector<policy::FreezeSignals>* seen, int prefix) : seen_(seen), prefix_(prefix) {}
  policy::FreezePlan decide(const policy::FreezeSignals& s) override {
    seen_->push_back(s);
    return policy::FreezePlan::at(prefix_);
  }
  policy::FreezeNeeds needs() const override {
    return policy::FreezeNeeds{}.with_grad_norms().with_plasticity();
  }

 private:
  std::vector<policy::FreezeSignals>* seen_;
  int prefix_;
};

// Asks for two trials at every decision; records the results it is given.
class Profiler final : public policy::Scheduler {
 public:
  explicit Profiler(std::vector<policy::ProfileResult>* seen) : seen_(seen) {}
  policy::RoundDecision decide(const policy::ScheduleSignals& s) override {
    policy::RoundDecision d;
    d.profile = {{1, 0.5, 0.5}, {0, 1.0, 0.5}};  // asked again: the runtime must not loop
    if (s.profile.empty()) return d;
    *seen_ = s.profile;
    d.run = true;
    return d;
  }
  policy::SignalNeeds needs() const override { return {}; }

 private:
  std::vector<policy::ProfileResult>* seen_;
};

policy::Policy with(std::unique_ptr<policy::Scheduler> s, std::unique_ptr<policy::Freezer> f) {
  policy::Policy p;
  p.name = "test";
  p.scheduler = std::move(s);
  p.freezer = std::move(f);
  return p;
}

// Immediate rounds (2 epochs each) over `batches` batches with a recording freezer.
std::vector<policy::FreezeSignals> run_recorded(int prefix, int batches = 3) {
  std::vector<policy::FreezeSignals> seen;
  auto rt = make(
      with(sched::registry().make("immediate", {}), std::make_unique<Recorder>(&seen, prefix)));
  for (int b = 0; b < batches; ++b) {
    auto [x, y] = batch(16, b);
    rt.add_labeled(x, y, b * 10.0);
    EXPECT_TRUE(rt.advance(b * 10.0).has_value());
  }
  EXPECT_GT(rt.totals().similarity_s, 0);  // plasticity probes are metered
  return seen;
}

}  // namespace

TEST(PeerSignals, GradientNormsPerUnitSinceThePreviousCheck) {
  const auto seen = run_recorded(0);
  ASSERT_EQ(seen.size(), 6u);               // 3 rounds x 2 epochs
  EXPECT_TRUE(seen[0].grad_norms.empty());  // no step yet
  for (size_t i = 1; i < seen.size(); ++i) {
    ASSERT_EQ(seen[i].grad_norms.size(), static_cast<size_t>(seen[i].num_blocks + 1));
    for (double g : seen[i].grad_norms) {
      EXPECT_TRUE(std::isfinite(g));
      EXPECT_GT(g, 0);
    }
  }
}

TEST(PeerSignals, PlasticityAtRoundStartsAgainstTheLastMeasurement) {
  const auto seen = run_recorded(0);
  EXPECT_TRUE(seen[0].plasticity.empty());  // the first measurement sets the reference
  EXPECT_TRUE(seen[1].plasticity.empty());  // not a round start
  for (size_t i : {2u, 4u}) {
    ASSERT_EQ(seen[i].plasticity.size(), static_cast<size_t>(seen[i].num_blocks));
    for (double p : seen[i].plasticity) {
      EXPECT_TRUE(std::isfinite(p));
      EXPECT_GT(p, 0);  // a round of training moved every block
    }
  }
}

TEST(PeerSignals, FrozenBlocksReportNoGradientAndNoPlasticity) {
  const auto seen = run_recorded(1);
  for (size_t i = 1; i < seen.size(); ++i) {
    ASSERT_FALSE(seen[i].grad_norms.empty());
    EXPECT_EQ(seen[i].grad_norms[0], 0);
    EXPECT_GT(seen[i].grad_norms.back(), 0);  // the head trains
  }
  ASSERT_FALSE(seen[4].plasticity.empty());
  EXPECT_EQ(seen[4].plasticity[0], 0);
  EXPECT_GT(seen[4].plasticity.back(), 0);
}

// Asks for similarity at every check; records what it is shown.
class SimilarityRecorder final : public policy::Freezer {
 public:
  explicit SimilarityRecorder(std::vector<policy::FreezeSignals>* seen) : seen_(seen) {}
  policy::FreezePlan decide(const policy::FreezeSignals& s) override {
    seen_->push_back(s);
    return {0, true, ""};
  }

 private:
  std::vector<policy::FreezeSignals>* seen_;
};

TEST(PeerSignals, SimilarityComesWithTheStepsTrainedBetweenItsChecks) {
  std::vector<policy::FreezeSignals> seen;
  auto rt = make(
      with(sched::registry().make("immediate", {}), std::make_unique<SimilarityRecorder>(&seen)));
  std::vector<int> steps;
  for (int b = 0; b < 3; ++b) {
    auto [x, y] = batch(16 * (b + 1), b);  // rounds of different sizes
    rt.add_labeled(x, y, b * 10.0);
    auto r = rt.advance(b * 10.0);
    ASSERT_TRUE(r.has_value());
    steps.push_back(r->steps);
  }
  ASSERT_EQ(seen.size(), 6u);               // 3 rounds x 2 epochs; measured at round starts only
  EXPECT_TRUE(seen[0].similarity.empty());  // the first reference
  EXPECT_TRUE(seen[1].similarity.empty());  // not a round start
  EXPECT_FALSE(seen[2].similarity.empty());
  EXPECT_EQ(seen[2].similarity_steps, steps[0]);
  EXPECT_EQ(seen[4].similarity_steps, steps[1]);
  EXPECT_NE(steps[0], steps[1]);
}

TEST(PeerSignals, TrialsAreResolvedAndMeteredAsDecisionOverhead) {
  std::vector<policy::ProfileResult> seen;
  auto rt = make(with(std::make_unique<Profiler>(&seen), freeze::registry().make("none", {})));
  auto [x0, y0] = batch(16, 7);
  rt.add_labeled(x0, y0, 0);  // a first round fills the replay buffer
  ASSERT_TRUE(rt.advance(0).has_value());
  auto [x, y] = batch(16, 8);
  rt.add_labeled(x, y, 10);
  const double decision_before = rt.totals().decision_s;
  auto r = rt.advance(10);
  ASSERT_TRUE(r.has_value());  // the second decision ran a round; no second profiling
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].epochs, 1);
  EXPECT_EQ(seen[0].replay_samples, 4);  // half of the stream's 8
  EXPECT_EQ(seen[1].epochs, 2);          // the stream's
  EXPECT_EQ(seen[1].replay_samples, 8);
  EXPECT_DOUBLE_EQ(seen[0].cost_samples, 1.0 * (16 + 4));
  EXPECT_DOUBLE_EQ(seen[1].cost_samples, 2.0 * (16 + 8));
  for (const auto& t : seen) {
    EXPECT_TRUE(std::isfinite(t.gain));
    EXPECT_GE(t.gain, -1);
    EXPECT_LE(t.gain, 1);
    EXPECT_GT(t.trial_s, 0);
  }
  EXPECT_GT(rt.totals().decision_s, decision_before);  // trials are decision overhead
  EXPECT_EQ(r->fresh_samples, 16);
  EXPECT_EQ(r->epochs, 2);  // the decision after the trials: the stream's epochs
}

TEST(PeerSignals, TrialsTrainCopiesOnly) {
  // The same first round with and without trials before it (the replay buffer is still
  // empty, so the trials draw nothing from it): the published versions answer identically.
  std::vector<policy::ProfileResult> seen;
  auto profiled =
      make(with(std::make_unique<Profiler>(&seen), freeze::registry().make("none", {})));
  auto plain = make(policy::make("immediate"));
  auto [x, y] = batch(16, 9);
  for (auto* rt : {&profiled, &plain}) {
    rt->add_labeled(x, y, 0);
    ASSERT_TRUE(rt->advance(0).has_value());
  }
  ASSERT_EQ(seen.size(), 2u);
  const auto a = profiled.predict(x), b = plain.predict(x);
  EXPECT_EQ(a.version, 1);
  EXPECT_TRUE(torch::equal(a.labels, b.labels));
  EXPECT_TRUE(torch::equal(a.confidence, b.confidence));
}

// A plasticity probe runs every block on the probe (block_outputs from the probe itself), so
// its decision FLOPs are the probe's images times blocks [0, num_blocks).
TEST(PeerSignals, PlasticityProbesCountEveryBlockTheyRun) {
  std::vector<policy::FreezeSignals> seen;
  auto p = with(sched::registry().make("immediate", {}), std::make_unique<Recorder>(&seen, 0));
  auto rt = make(std::move(p));
  auto [x, y] = batch(16, 3);
  const auto flops = model::profile_flops(*model::make("tiny", {1, 12, 12, 10}), x.slice(0, 0, 1));
  for (int b = 0; b < 3; ++b) {
    rt.add_labeled(x, y, b * 10.0);
    ASSERT_TRUE(rt.advance(b * 10.0).has_value());
  }
  // One plasticity measurement per round start, on a probe of the first round's 16 samples.
  const double per_probe = 16 * flops.range(0, rt.num_blocks());
  EXPECT_DOUBLE_EQ(rt.totals().decision_flops, 3 * per_probe);
}

class PeerPreset : public ::testing::TestWithParam<std::string> {};

TEST_P(PeerPreset, RunsEndToEnd) {
  auto rt = make(policy::make(GetParam()));
  int scenario = 0;
  rt.set_true_scenario([&scenario] { return scenario; });
  std::vector<runtime::RoundRecord> rounds;
  for (int b = 0; b < 6; ++b) {
    scenario = b < 3 ? 0 : 1;
    auto [x, y] = batch(16, 20 + b);
    rt.predict(x * (b < 3 ? 1.0 : 0.2));  // a darker second half
    rt.add_labeled(x * (b < 3 ? 1.0 : 0.2), y, b * 10.0);
    if (auto r = rt.advance(b * 10.0)) rounds.push_back(*r);
  }
  EXPECT_EQ(rt.totals().rounds, static_cast<int>(rounds.size()));
  int64_t samples = 0;
  for (const auto& r : rounds) {
    EXPECT_EQ(r.scenario, r.start_s < 30 ? 0 : 1);  // the records carry the true scenario
    samples += r.samples;
  }
  EXPECT_EQ(rt.totals().samples_trained, samples);
  EXPECT_GT(rt.totals().finetune_s, 0);  // rounds, or (ekya) at least its trials
}

INSTANTIATE_TEST_SUITE_P(Peers, PeerPreset,
                         ::testing::Values("periodic", "egeria", "autofreeze", "ekya", "oracle"));
