// The runtime: versions, rounds, the realtime protocol's staleness, discarding bad rounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "etuner/freeze.h"
#include "etuner/presets.h"
#include "etuner/publisher.h"
#include "etuner/runtime.h"
#include "etuner/tuning.h"
#include "runtime/adapter.h"
#include "runtime/drift_monitor.h"
#include "runtime/entropy_step.h"
#include "runtime/ledger.h"
#include "runtime/replay_buffer.h"
#include "runtime/signals.h"
#include "runtime/version_shelf.h"

using namespace etuner;

namespace {

runtime::RuntimeConfig config(const std::string& mode) {
  runtime::RuntimeConfig c;
  c.protocol = mode == "realtime" ? Protocol::kRealtime : Protocol::kInstant;
  c.profile = device_profile("cpu-2core");
  c.train.batch_size = 8;
  c.train.epochs_per_round = 1;
  c.train.replay_samples = 8;
  c.train.replay_buffer = 32;
  c.train.lr = 0.05;
  return c;
}

runtime::Runtime make(policy::Policy policy, const std::string& mode = "instant",
                      double cache_mb = 256) {
  torch::manual_seed(0);
  auto m = model::make("tiny", {1, 12, 12, 10});
  auto c = config(mode);
  c.cache_mb = cache_mb;
  c.verify_cache = cache_mb > 0;
  return runtime::Runtime(std::move(m), std::move(policy), c,
                          meter::make_modeled(device_profile("cpu-2core")));
}

runtime::Runtime make(const std::string& policy, const std::string& mode = "instant",
                      const nlohmann::json& params = nlohmann::json::object(),
                      double cache_mb = 256) {
  return make(policy::make(policy, params), mode, cache_mb);
}

std::pair<torch::Tensor, torch::Tensor> batch(int n, int seed) {
  torch::manual_seed(seed);
  return {torch::rand({n, 1, 12, 12}), torch::randint(0, 10, {n}, torch::kLong)};
}

// etuner with test-then-train as its own pass per labeled batch (the default reads it from
// the rounds' first epochs and runs no pass): for tests that count that pass.
const nlohmann::json kTestThenTrainPass = {{"lazytune", {{"ttt_from_rounds", false}}}};

}  // namespace

TEST(Runtime, ImmediateRunsOneRoundPerBatchAndPublishesEachVersion) {
  auto rt = make("immediate");
  for (int b = 0; b < 4; ++b) {
    auto [x, y] = batch(8, b);
    rt.add_labeled(x, y, b * 10.0);
    auto r = rt.advance(b * 10.0);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->fresh_samples, 8);
    EXPECT_EQ(rt.version(), b + 1);
  }
  EXPECT_EQ(rt.totals().rounds, 4);
  EXPECT_GT(rt.totals().finetune_j, 0);
}

TEST(Runtime, NeverKeepsServingVersionZero) {
  auto rt = make("never");
  auto [x, y] = batch(8, 1);
  rt.add_labeled(x, y, 0);
  EXPECT_FALSE(rt.advance(0).has_value());
  EXPECT_EQ(rt.predict(x).version, 0);
}

TEST(Runtime, RealtimeAnswersWithTheVersionDeployedAtArrival) {
  auto rt = make("immediate", "realtime");
  auto [x, y] = batch(8, 1);
  rt.add_labeled(x, y, 10.0);
  auto r = rt.advance(10.0);
  ASSERT_TRUE(r.has_value());
  ASSERT_GT(r->end_s, 10.0);  // the round occupies the device for its modeled duration
  const auto before = rt.predict(x);
  EXPECT_EQ(before.version, 0);  // still training: the old version answers
  rt.advance(r->end_s - 1e-9);
  EXPECT_EQ(rt.predict(x).version, 0);
  rt.advance(r->end_s);
  EXPECT_EQ(rt.predict(x).version, 1);
}

// Under realtime, answering holds the device (1x forward FLOPs per image at the profile's
// throughput): requests answered while it idles delay nothing, requests answered during a
// round push the next round back by exactly their modeled seconds.
TEST(Runtime, RealtimeAnswersHoldTheDevice) {
  const auto& p = device_profile("cpu-2core");
  auto [x, y] = batch(8, 1);
  const auto requests = batch(200, 2).first;
  const double per_image =
      model::profile_flops(*model::make("tiny", {1, 12, 12, 10}), x.slice(0, 0, 1)).total();
  const double held = 200 * per_image / p.train_flops_per_s;
  auto rt = make("immediate", "realtime");
  rt.predict(requests);  // the device idles
  rt.add_labeled(x, y, 10.0);
  const auto first = rt.advance(10.0);
  ASSERT_TRUE(first.has_value());
  rt.predict(requests);  // answered while the round trains
  auto [x2, y2] = batch(8, 3);
  rt.add_labeled(x2, y2, first->end_s);
  EXPECT_FALSE(rt.advance(first->end_s).has_value());
  EXPECT_FALSE(rt.advance(first->end_s + 0.99 * held).has_value());
  EXPECT_TRUE(rt.advance(first->end_s + held).has_value());
  EXPECT_EQ(rt.totals().decision_flops, 0);  // answers are not fine-tuning work
}

TEST(Runtime, RealtimeQueuesBatchesWhileTheDeviceIsBusy) {
  auto rt = make("immediate", "realtime");
  auto [x, y] = batch(8, 1);
  rt.add_labeled(x, y, 10.0);
  auto r = rt.advance(10.0);
  ASSERT_TRUE(r);
  rt.add_labeled(x, y, r->end_s / 2 + 5);
  EXPECT_FALSE(rt.advance(std::min(r->end_s - 1e-6, r->end_s / 2 + 5)).has_value());
  EXPECT_TRUE(rt.advance(r->end_s).has_value());
}

TEST(Runtime, LagCountsLabeledSamplesTheAnsweringVersionHasNotConsumed) {
  auto rt = make("immediate", "realtime");
  auto [x, y] = batch(8, 1);
  EXPECT_EQ(rt.predict(x).lag_samples, 0);
  rt.add_labeled(x, y, 10.0);
  auto first = rt.advance(10.0);
  ASSERT_TRUE(first);
  EXPECT_EQ(rt.predict(x).lag_samples, 8);  // training: version 0 has not seen the batch
  rt.add_labeled(x, y, 10.0 + first->modeled_s / 2);
  EXPECT_EQ(rt.predict(x).lag_samples, 16);
  EXPECT_FALSE(rt.advance(first->end_s));        // version 1 deploys; the answers given during the
  EXPECT_EQ(rt.predict(x).lag_samples, 8);       // round still hold the device (microseconds here)
  auto second = rt.advance(first->end_s + 1.0);  // the queued batch starts
  ASSERT_TRUE(second);
  EXPECT_EQ(rt.predict(x).lag_samples, 8);
  rt.advance(second->end_s);
  EXPECT_EQ(rt.predict(x).lag_samples, 0);
}

TEST(Runtime, NeverLagsByEverythingThatArrived) {
  auto rt = make("never");
  for (int b = 1; b <= 3; ++b) {
    auto [x, y] = batch(8, b);
    rt.add_labeled(x, y, b * 10.0);
    rt.advance(b * 10.0);
    EXPECT_EQ(rt.predict(x).lag_samples, 8 * b);
  }
}

// The fast path across rounds: with one epoch per round nothing repeats within a round, so
// every cache hit is a replayed sample whose frozen-prefix output an earlier round cached.
// Every hit is checked against a recomputation (verify_cache), and the run must end where
// the same run without a cache ends.
TEST(Runtime, ReplayedSamplesReuseFrozenPrefixOutputsFromEarlierRounds) {
  const nlohmann::json freeze_at_once = {{"simfreeze", {{"threshold", 0.0}, {"patience", 1}}}};
  auto run = [&](double cache_mb) {
    auto rt = make("freeze", "instant", freeze_at_once, cache_mb);
    const auto [sx, sy] = batch(24, 50);
    rt.seed_replay(sx, sy);
    std::vector<runtime::RoundRecord> rounds;
    for (int b = 0; b < 6; ++b) {
      auto [x, y] = batch(8, b);
      rt.add_labeled(x, y, b * 10.0);
      if (auto r = rt.advance(b * 10.0)) rounds.push_back(*r);
    }
    return std::make_tuple(rounds, rt.totals(), rt.predict(batch(16, 99).first));
  };
  auto [cached, ct, cp] = run(64);
  auto [plain, pt, pp] = run(0);
  ASSERT_EQ(cached.size(), 6u);
  EXPECT_GT(cached.back().frozen_prefix, 0);
  EXPECT_GT(ct.cache_hits, 0);
  EXPECT_EQ(pt.cache_hits, 0);
  EXPECT_LT(ct.train_flops, pt.train_flops);
  for (size_t i = 0; i < cached.size(); ++i) EXPECT_DOUBLE_EQ(cached[i].loss, plain[i].loss) << i;
  EXPECT_TRUE(torch::equal(cp.confidence, pp.confidence));
}

TEST(Runtime, ANonFiniteRoundIsDiscardedAndTheLastGoodVersionKeepsServing) {
  auto rt = make("immediate");
  auto [x, y] = batch(8, 1);
  const auto before = rt.predict(x);
  auto bad = x.clone();
  bad[0][0][0][0] = std::numeric_limits<float>::infinity();
  rt.add_labeled(bad, y, 0);
  auto r = rt.advance(0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->discarded);
  const auto after = rt.predict(x);
  EXPECT_EQ(after.version, 0);
  EXPECT_TRUE(torch::equal(before.labels, after.labels));
  // and the runtime still trains on good data afterwards
  rt.add_labeled(x, y, 1);
  auto ok = rt.advance(1);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->discarded);
  EXPECT_EQ(rt.version(), 1);
}

TEST(ReplayBuffer, KeepsAtMostItsCapacityAndSamplesWithoutReplacement) {
  runtime::ReplayBuffer rb(10, 1);
  auto x = torch::arange(25, torch::kFloat).reshape({25, 1});
  rb.add(x, torch::arange(25, torch::kLong));
  EXPECT_EQ(rb.size(), 10);
  auto [sx, sy] = rb.sample(10);
  EXPECT_EQ(std::get<0>(torch::_unique(sy)).numel(), 10);
  EXPECT_EQ(rb.sample(50).first.size(0), 10);
}

// 2000 samples of four old classes, then 50 of a new one, into a 100-sample buffer: a
// reservoir keeps ~2 of the new class; class-balanced sampling gives it an equal fifth.
TEST(ReplayBuffer, ADrawNamesTheIdsOfItsSamples) {
  runtime::ReplayBuffer rb(10, 1);
  rb.add(torch::arange(6).to(torch::kFloat).view({6, 1}), torch::zeros({6}, torch::kLong), 100);
  rb.add(torch::ones({2, 1}), torch::zeros({2}, torch::kLong));  // no ids given
  std::vector<int64_t> ids;
  auto [x, y] = rb.sample(8, &ids);
  ASSERT_EQ(ids.size(), 8u);
  for (size_t i = 0; i < ids.size(); ++i) {
    const float v = x[i][0].item<float>();
    if (ids[i] < 0)
      EXPECT_EQ(v, 1.f);
    else
      EXPECT_EQ(v, static_cast<float>(ids[i] - 100));  // the sample added with that id
  }
}

TEST(ReplayBuffer, ClassBalancedGivesANewClassAnEqualShare) {
  auto fill = [](runtime::ReplayBuffer& rb) {
    auto x = torch::zeros({2000, 1});
    rb.add(x, torch::arange(2000, torch::kLong).remainder(4));
    rb.add(torch::ones({50, 1}), torch::full({50}, 4, torch::kLong));
  };
  runtime::ReplayBuffer reservoir(100, 1), balanced(100, 1, true);
  fill(reservoir);
  fill(balanced);
  EXPECT_LT(reservoir.held(4), 10);
  for (int c = 0; c < 5; ++c) EXPECT_EQ(balanced.held(c), 20) << "class " << c;
  auto [x, y] = balanced.sample(100);
  EXPECT_EQ(y.eq(4).sum().item<int64_t>(), 20);
  EXPECT_EQ(x.eq(1).sum().item<int64_t>(), 20);  // images stay with their labels
}

TEST(DriftMonitor, FlagsAHeavilyDarkenedGapAndAdoptsItAsTheNewReference) {
  runtime::DriftMonitor m;
  for (int gap = 0; gap < 3; ++gap) {
    m.observe(batch(20, 10 + gap).first);
    EXPECT_FALSE(m.end_gap()) << "clean gap " << gap << " score " << m.last_score();
  }
  m.observe(batch(20, 20).first * 0.3);
  EXPECT_TRUE(m.end_gap());
  m.observe(batch(20, 21).first * 0.3);
  EXPECT_FALSE(m.end_gap()) << m.last_score();
}

TEST(DriftMonitor, SmallGapsAreTestedTogetherSoAFewRequestsPerGapStillShowAShift) {
  // 8 requests per gap, a shift (x0.93) that 8 requests alone do not show but 32 do.
  auto run = [](int min_window, double shift = 0.93) {
    runtime::DriftMonitor m(6, 16, 256, min_window);
    int first = -1;
    for (int gap = 0; gap < 12; ++gap) {
      const double shade = gap < 6 ? 1.0 : shift;
      m.observe(batch(8, 200 + gap).first * shade);
      if (m.end_gap() && first < 0) first = gap;
    }
    return first;
  };
  EXPECT_EQ(run(1), -1);        // gap by gap (the old detector): never detected
  EXPECT_EQ(run(32), 9);        // the first window made only of shifted gaps (6-9, 32 requests)
  EXPECT_EQ(run(32, 1.0), -1);  // and no false alarm without a shift
}

TEST(Runtime, DetectsAShiftOfTheRequestsWithoutLabels) {
  auto cfg = config("instant");
  for (int c = 0; c < 10; ++c) cfg.known_classes.push_back(c);
  torch::manual_seed(0);
  runtime::Runtime rt(model::make("tiny", {1, 12, 12, 10}), policy::make("lazy"), cfg,
                      meter::make_modeled(device_profile("cpu-2core")));
  for (int gap = 0; gap < 6; ++gap) {
    const double shade = gap < 3 ? 1.0 : 0.2;  // heavily darkened from gap 3 on
    rt.predict(batch(20, 100 + gap).first * shade);
    auto [x, y] = batch(8, gap);
    rt.add_labeled(x * shade, y, gap * 10.0);
    rt.advance(gap * 10.0);
    EXPECT_EQ(rt.totals().drifts, gap < 3 ? 0 : 1) << "gap " << gap;
  }
}

// Labeled batches of two classes the model has never seen (5 and 6): lazytune's class phase
// trains every batch as it arrives while their accuracy still rises; without it the merge
// rule reads small gains and waits for two batches.
int rounds_on_new_classes(const nlohmann::json& params) {
  auto cfg = config("instant");
  for (int c = 0; c < 5; ++c) cfg.known_classes.push_back(c);
  torch::manual_seed(0);
  runtime::Runtime rt(model::make("tiny", {1, 12, 12, 10}), policy::make("lazy", params), cfg,
                      meter::make_modeled(device_profile("cpu-2core")));
  for (int b = 0; b < 8; ++b) {
    auto x = batch(8, 300 + b).first;
    auto y = 5 + torch::randint(0, 2, {8}, torch::kLong);
    rt.predict(batch(10, 400 + b).first);
    rt.add_labeled(x, y, b * 10.0);
    rt.advance(b * 10.0);
  }
  return rt.totals().rounds;
}

// The same two new classes under etuner, with a freezer that freezes every block at its
// first check: each round's frozen prefix, keyed by whether lazytune's class phase ran it.
std::vector<std::pair<bool, int>> prefixes_on_new_classes(const nlohmann::json& simfreeze) {
  auto cfg = config("instant");
  for (int c = 0; c < 5; ++c) cfg.known_classes.push_back(c);
  torch::manual_seed(0);
  runtime::Runtime rt(model::make("tiny", {1, 12, 12, 10}),
                      policy::make("etuner", {{"simfreeze", simfreeze}}), cfg,
                      meter::make_modeled(device_profile("cpu-2core")));
  std::vector<std::pair<bool, int>> out;
  for (int b = 0; b < 8; ++b) {
    auto y = 5 + torch::randint(0, 2, {8}, torch::kLong);
    rt.predict(batch(10, 400 + b).first);
    rt.add_labeled(batch(8, 300 + b).first, y, b * 10.0);
    if (auto r = rt.advance(b * 10.0))
      out.emplace_back(r->reason == "new classes still rising", r->frozen_prefix);
  }
  return out;
}

// lazytune's class phase reaches the freezer (RoundDecision -> FreezeSignals): with
// `class_max_frozen` 0 no round of the phase trains with a frozen block.
TEST(Runtime, TheClassPhaseHoldsTheFrozenPrefixAtTheFreezersClassCap) {
  const nlohmann::json eager = {{"threshold", 0.0}, {"patience", 1}};
  auto held = eager;
  held["class_max_frozen"] = 0;
  int phase_rounds = 0;
  for (auto [phase, prefix] : prefixes_on_new_classes(held)) {
    if (!phase) continue;
    ++phase_rounds;
    EXPECT_EQ(prefix, 0);
  }
  EXPECT_GT(phase_rounds, 2);
  int frozen_in_phase = 0;
  for (auto [phase, prefix] : prefixes_on_new_classes(eager))
    frozen_in_phase += phase && prefix > 0;
  EXPECT_GT(frozen_in_phase, 0);  // without the cap the same rounds freeze
}

TEST(Runtime, NewClassesAreTrainedBatchByBatchWhileTheyAreLearned) {
  EXPECT_EQ(rounds_on_new_classes(nlohmann::json::object()), 8);
  EXPECT_EQ(rounds_on_new_classes({{"lazytune", {{"class_patience", 0}}}}), 5);
}

TEST(Runtime, AdaptedAnswersDependOnEarlierRequestsOnly) {
  const int64_t n = policy::AdaptOptions{}.bn_chunk;
  auto a = batch(static_cast<int>(n), 5).first, b = batch(static_cast<int>(n), 6).first * 0.2;
  auto together = make("etuner").predict(torch::cat({a, b}));
  auto a_alone = make("etuner").predict(a);
  auto b_alone = make("etuner").predict(b);
  // Later inputs never change an earlier answer...
  EXPECT_TRUE(torch::equal(together.confidence.slice(0, 0, n), a_alone.confidence));
  // ...while earlier ones do adapt later answers (BatchNorm statistics moved).
  EXPECT_FALSE(torch::equal(together.confidence.slice(0, n), b_alone.confidence));
  // Without adaptation the same split changes nothing.
  auto plain = make("lazy").predict(torch::cat({a, b}));
  EXPECT_TRUE(torch::equal(plain.confidence.slice(0, n), make("lazy").predict(b).confidence));
}

// A step reads bn_chunk answered inputs however the requests were split into calls: a gap
// of 12 must not end with a step on the statistics of its last 2.
TEST(Runtime, AdaptationStepsDoNotDependOnHowRequestsAreGrouped) {
  auto x = torch::cat({batch(12, 7).first, batch(11, 8).first * 0.3});
  auto one_call = make("etuner").predict(x);
  auto rt = make("etuner");
  auto first = rt.predict(x.slice(0, 0, 12)), second = rt.predict(x.slice(0, 12));
  EXPECT_TRUE(torch::equal(torch::cat({first.confidence, second.confidence}), one_call.confidence));
}

TEST(Runtime, PseudoLabelsComeFromAnsweredRequestsAndPauseAfterAChange) {
  auto cfg = config("instant");
  for (int c = 0; c < 10; ++c) cfg.known_classes.push_back(c);
  auto policy = policy::make("etuner-ssl");
  policy.adapt.pseudo_threshold = 0.0;  // every answer is "confident": count them exactly
  torch::manual_seed(0);
  runtime::Runtime rt(model::make("tiny", {1, 12, 12, 10}), std::move(policy), cfg,
                      meter::make_modeled(device_profile("cpu-2core")));
  // No request answered yet: nothing to pseudo-label.
  auto [x0, y0] = batch(8, 0);
  rt.add_labeled(x0, y0, 0);
  rt.add_labeled(x0, y0, 0);
  ASSERT_TRUE(rt.advance(0));
  EXPECT_EQ(rt.totals().pseudo_labeled, 0);
  for (int gap = 1; gap <= 4; ++gap) {
    rt.predict(batch(20, 50 + gap).first);
    rt.add_labeled(x0, y0, gap * 10.0);
    rt.add_labeled(x0, y0, gap * 10.0);
    rt.advance(gap * 10.0);
  }
  EXPECT_GT(rt.totals().pseudo_labeled, 0);
  const auto before = rt.totals().pseudo_labeled;
  rt.predict(batch(20, 70).first * 0.1);  // a change: pseudo-labels pause
  rt.add_labeled(x0 * 0.1, y0, 50.0);
  rt.add_labeled(x0 * 0.1, y0, 50.0);
  rt.advance(50.0);
  EXPECT_EQ(rt.totals().drifts, 1);
  EXPECT_EQ(rt.totals().pseudo_labeled, before);
}

// Deciding runs forward passes that no round counts: test-then-train on each labeled batch
// and a train-mode pass per BatchNorm adaptation step. They join the fine-tuning FLOPs and
// the modeled device seconds (at the profile's throughput), so a policy's decisions are not
// free on the modeled device while immediate's rounds are charged.
TEST(Runtime, DecisionPassesCountIntoFlopsAndModeledSeconds) {
  auto [x, y] = batch(8, 1);
  const double per_image =
      model::profile_flops(*model::make("tiny", {1, 12, 12, 10}), x.slice(0, 0, 1)).total();
  const double throughput = device_profile("cpu-2core").train_flops_per_s;

  auto rt = make("etuner", "instant", kTestThenTrainPass);
  rt.add_labeled(x, y, 0.0);  // test-then-train: 8 images
  EXPECT_DOUBLE_EQ(rt.totals().decision_flops, 8 * per_image);
  rt.predict(batch(25, 2).first);  // two adaptation steps of bn_chunk (10) images; 5 wait
  EXPECT_DOUBLE_EQ(rt.totals().decision_flops, 28 * per_image);
  EXPECT_EQ(rt.totals().train_flops, 0);  // lazytune merges: no round yet
  EXPECT_DOUBLE_EQ(rt.totals().modeled_s, 28 * per_image / throughput);

  auto imm = make("immediate");
  imm.add_labeled(x, y, 0.0);
  imm.predict(batch(25, 2).first);
  ASSERT_TRUE(imm.advance(0.0).has_value());
  EXPECT_EQ(imm.totals().decision_flops, 0);  // it decides nothing
  EXPECT_GT(imm.totals().train_flops, 0);
}

// Modeled energy: FLOPs at the profile's joules per FLOP above idle, plus idle power for the
// modeled seconds the device is held. A round's step overheads draw idle power only, so it
// is less than modeled seconds x training power; a decision pass (no overhead) is exactly that.
TEST(Runtime, ModeledEnergyIsFlopsAtJoulesPerFlopPlusIdlePowerWhileHeld) {
  const auto& p = device_profile("cpu-2core");
  const double joules_per_flop = (p.train_power_w - p.idle_power_w) / p.train_flops_per_s;
  auto rt = make("etuner", "instant", kTestThenTrainPass);
  auto [x, y] = batch(8, 1);
  rt.add_labeled(x, y, 0.0);  // a test-then-train pass, no round yet
  EXPECT_NEAR(rt.totals().modeled_j, rt.totals().modeled_s * p.train_power_w, 1e-15);
  auto imm = make("immediate");
  for (int b = 0; b < 3; ++b) {
    auto [bx, by] = batch(8, 10 + b);
    imm.add_labeled(bx, by, b);
    ASSERT_TRUE(imm.advance(b).has_value());
  }
  const auto& t = imm.totals();
  EXPECT_NEAR(t.modeled_j,
              (t.train_flops + t.decision_flops) * joules_per_flop + p.idle_power_w * t.modeled_s,
              1e-9 * t.modeled_j);
  EXPECT_LT(t.modeled_j, 0.5 * t.modeled_s * p.train_power_w);  // tiny rounds: overhead-bound
}

// Requests may come before any labeled batch (a deployment starts serving first): their
// adaptation steps are counted too; the model's FLOPs are profiled from the first input.
TEST(Runtime, AdaptationBeforeAnyLabeledBatchIsCounted) {
  auto x = batch(10, 3).first;
  const double per_image =
      model::profile_flops(*model::make("tiny", {1, 12, 12, 10}), x.slice(0, 0, 1)).total();
  auto rt = make("etuner", "instant", kTestThenTrainPass);
  rt.predict(x);  // one adaptation step of bn_chunk (10) images
  EXPECT_DOUBLE_EQ(rt.totals().decision_flops, 10 * per_image);
  EXPECT_DOUBLE_EQ(rt.totals().decision_by_kind.batchnorm, 10 * per_image);
  // A labeled batch adds its test-then-train pass; the kinds still sum to the total.
  auto [lx, ly] = batch(8, 4);
  rt.add_labeled(lx, ly, 1.0);
  const auto& by = rt.totals().decision_by_kind;
  EXPECT_DOUBLE_EQ(by.test_then_train, 8 * per_image);
  EXPECT_DOUBLE_EQ(by.test_then_train + by.batchnorm + by.probes + by.adaptation_steps,
                   rt.totals().decision_flops);
}

namespace {

// Decision FLOPs of four rounds of `freeze` once block 0 froze (threshold 0, at most one
// block frozen), over 8-sample batches; also block 1's forward FLOPs per sample.
std::pair<double, double> checks_after_freezing(nlohmann::json simfreeze) {
  auto cfg = config("instant");
  for (int c = 0; c < 10; ++c) cfg.known_classes.push_back(c);
  cfg.verify_cache = true;
  torch::manual_seed(0);
  auto m = model::make("tiny", {1, 12, 12, 10});
  const auto flops = model::profile_flops(*m, batch(1, 0).first);
  simfreeze["threshold"] = 0.0;
  simfreeze["max_frozen"] = 1;
  runtime::Runtime rt(std::move(m), policy::make("freeze", {{"simfreeze", simfreeze}}), cfg,
                      meter::make_modeled(device_profile("cpu-2core")));
  auto run_batches = [&](int from, int to) {
    for (int b = from; b < to; ++b) {
      auto [x, y] = batch(8, b);
      rt.add_labeled(x, y, b * 10.0);
      EXPECT_TRUE(rt.advance(b * 10.0).has_value());
    }
  };
  run_batches(0, 6);  // block 0 converges (threshold 0) and freezes; block 1 may not
  const double before = rt.totals().decision_flops;
  EXPECT_GT(before, 0);
  run_batches(6, 10);  // one check per round
  return {rt.totals().decision_flops - before, flops.range(1, 2)};
}

}  // namespace

// While the frozen prefix stays as it was, its output on the CKA probe cannot change, so a
// check runs only the trainable blocks (verify_cache recomputes the full pass and throws on
// any difference); with block 0 frozen, a check costs block 1's forward FLOPs alone.
TEST(Runtime, CkaChecksRunOnlyTheTrainableBlocksWhileThePrefixStaysFrozen) {
  const auto [spent, block1] = checks_after_freezing(nlohmann::json::object());
  EXPECT_DOUBLE_EQ(spent, 4 * 8 * block1);  // the probe: the first round's 8 fresh samples
}

// The probe's size is simfreeze's: a smaller probe costs proportionally less per check.
TEST(Runtime, TheCkaProbeHasTheFreezersSize) {
  const auto [spent, block1] = checks_after_freezing({{"probe_samples", 4}});
  EXPECT_DOUBLE_EQ(spent, 4 * 4 * block1);
}

namespace {

// Trains on every batch and keeps the signals it was shown.
struct RecordingScheduler final : policy::Scheduler {
  std::vector<policy::ScheduleSignals>* seen;
  bool from_rounds;  // test-then-train from the rounds' first epochs
  RecordingScheduler(std::vector<policy::ScheduleSignals>* s, bool r) : seen(s), from_rounds(r) {}
  policy::RoundDecision decide(const policy::ScheduleSignals& s) override {
    seen->push_back(s);
    policy::RoundDecision d;
    d.run = true;
    return d;
  }
  policy::SignalNeeds needs() const override {
    return policy::SignalNeeds{}
        .with_test_then_train()
        .with_holdout_gain()
        .with_test_then_train_from_rounds(from_rounds);
  }
};

runtime::Runtime recording(std::vector<policy::ScheduleSignals>* seen, bool from_rounds) {
  policy::Policy p;
  p.name = "recording";
  p.scheduler = std::make_unique<RecordingScheduler>(seen, from_rounds);
  p.freezer = freeze::registry().make("none", {});
  return make(std::move(p));
}

}  // namespace

// The held-out gain of a round compares two test-then-train accuracies, the round's own
// batches before it and the next batch after it; its standard error is the binomial one of
// that difference, so a scheduler can tell learning from noise.
TEST(Runtime, TheHeldOutGainComesWithItsStandardError) {
  std::vector<policy::ScheduleSignals> seen;
  auto rt = recording(&seen, false);
  for (int b = 0; b < 2; ++b) {
    auto [x, y] = batch(b == 0 ? 8 : 12, b);
    rt.add_labeled(x, y, b * 10.0);
    ASSERT_TRUE(rt.advance(b * 10.0));
  }
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(std::isnan(seen[0].last_round_gain_se));  // no round has answered yet
  const double before = seen[0].newest_batch_accuracy, after = seen[1].newest_batch_accuracy;
  EXPECT_DOUBLE_EQ(seen[1].last_round_gain, after - before);
  EXPECT_DOUBLE_EQ(seen[1].last_round_gain_se,
                   std::sqrt(before * (1 - before) / 8 + after * (1 - after) / 12));
}

// Test-then-train from rounds: no pass per labeled batch; a round's first epoch scores its
// fresh samples (the first round: one minibatch, so the model before any step), and the next
// round's scores close the held-out gain.
TEST(Runtime, TestThenTrainFromRoundsRidesOnTheRoundsForward) {
  std::vector<policy::ScheduleSignals> seen;
  auto rt = recording(&seen, true);
  torch::manual_seed(0);  // the runtime's model, before any round
  auto before = model::make("tiny", {1, 12, 12, 10});
  before->set_training(true);
  double first_expected = 0;
  for (int b = 0; b < 3; ++b) {
    auto [x, y] = batch(b == 0 ? 8 : 12, b);
    if (b == 0) {
      torch::NoGradGuard no_grad;
      first_expected = before->forward(x).argmax(1).eq(y).to(torch::kDouble).mean().item<double>();
    }
    rt.add_labeled(x, y, b * 10.0);
    ASSERT_TRUE(rt.advance(b * 10.0));
  }
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_TRUE(std::isnan(seen[0].newest_batch_accuracy));  // no round has scored it yet
  EXPECT_DOUBLE_EQ(seen[1].newest_batch_accuracy, first_expected);
  EXPECT_TRUE(std::isnan(seen[1].last_round_gain));
  const double first = seen[1].newest_batch_accuracy, second = seen[2].newest_batch_accuracy;
  EXPECT_DOUBLE_EQ(seen[2].last_round_gain, second - first);
  EXPECT_DOUBLE_EQ(seen[2].last_round_gain_se,
                   std::sqrt(first * (1 - first) / 8 + second * (1 - second) / 12));
  EXPECT_EQ(rt.totals().decision_by_kind.test_then_train, 0);
}

namespace {

// A meter that counts its windows by key and says each lasted one second and one joule.
class CountingMeter final : public meter::Meter {
 public:
  explicit CountingMeter(std::map<std::string, int>* ended) : ended_(ended) {}
  void begin(const std::string& key) override { open_.push_back(key); }
  meter::Measurement end(const std::string& key) override {
    EXPECT_FALSE(open_.empty());
    EXPECT_EQ(open_.back(), key);  // windows nest: the last one begun ends first
    open_.pop_back();
    ++(*ended_)[key];
    meter::Measurement m;
    m.time_s = 1;
    m.energy_j = 1;
    return m;
  }
  std::string source() const override { return "counting"; }

 private:
  std::map<std::string, int>* ended_;
  std::vector<std::string> open_;
};

runtime::Runtime make_counted(const std::string& policy, std::map<std::string, int>* ended,
                              const nlohmann::json& params = nlohmann::json::object()) {
  torch::manual_seed(0);
  return runtime::Runtime(model::make("tiny", {1, 12, 12, 10}), policy::make(policy, params),
                          config("instant"), std::make_unique<CountingMeter>(ended));
}

}  // namespace

// Deciding is metered in its own "decide" windows: they are decision seconds and also
// fine-tuning seconds and joules; rounds are "round" windows; answers "infer" windows.
TEST(Runtime, DecisionsAreMeteredInDecideWindows) {
  std::map<std::string, int> ended;
  auto rt = make_counted("etuner", &ended, kTestThenTrainPass);
  for (int b = 0; b < 3; ++b) {
    rt.predict(batch(10, 40 + b).first);  // one BatchNorm step each (bn_chunk 10)
    auto [x, y] = batch(8, b);
    rt.add_labeled(x, y, b * 10.0);  // test-then-train, class scan, change test: 3 windows
    rt.advance(b * 10.0);
  }
  const auto& t = rt.totals();
  EXPECT_GT(ended["decide"], 0);
  EXPECT_EQ(t.decision_s, ended["decide"]);
  EXPECT_EQ(t.finetune_s, ended["decide"] + ended["round"]);
  EXPECT_EQ(t.finetune_j, ended["decide"] + ended["round"]);
  EXPECT_EQ(t.rounds, ended["round"]);
  EXPECT_EQ(t.inference_s, ended["infer"]);
  // 3 answered chunks adapt (a window each), so does each deployed version's BatchNorm
  // refresh; 3 labeled batches take 3 windows each.
  EXPECT_EQ(t.adapt_s, 3 + rt.version());
  EXPECT_EQ(ended["decide"], 3 + rt.version() + 3 * 3);

  std::map<std::string, int> imm_ended;
  auto imm = make_counted("immediate", &imm_ended);
  auto [x, y] = batch(8, 1);
  imm.add_labeled(x, y, 0);
  ASSERT_TRUE(imm.advance(0).has_value());
  EXPECT_EQ(imm_ended["decide"], 0);  // immediate decides nothing
  EXPECT_EQ(imm.totals().decision_s, 0);
}

class EveryPreset : public ::testing::TestWithParam<std::string> {};

// Whoever keeps the samples (serve's store) marks exactly what the runtime consumed: the ids
// add_labeled returned, oldest first, each once, as trained, retired or quarantined; what is
// left is still pending. Rounds' fresh samples are the trained ones.
TEST_P(EveryPreset, ConsumedIdsAreExactlyTheOldestAddedOnes) {
  auto rt = make(GetParam());
  int scenario = 0;
  rt.set_true_scenario([&scenario] { return scenario; });
  std::vector<int64_t> added, consumed;
  int64_t fresh_trained = 0, trained = 0;
  auto collect = [&] {
    auto c = rt.take_consumed();
    trained += static_cast<int64_t>(c.trained.size());
    for (auto* v : {&c.trained, &c.retired, &c.quarantined})
      consumed.insert(consumed.end(), v->begin(), v->end());
  };
  for (int b = 0; b < 10; ++b) {
    scenario = b < 5 ? 0 : 1;
    auto [x, y] = batch(8, 60 + b);
    const double light = b < 5 ? 1.0 : 0.3;
    rt.predict(batch(12, 80 + b).first * light);
    const int64_t first = rt.add_labeled(x * light, y, b * 10.0);
    for (int64_t i = 0; i < 8; ++i) added.push_back(first + i);
    if (auto r = rt.advance(b * 10.0); r && !r->discarded) fresh_trained += r->fresh_samples;
    collect();
  }
  std::sort(consumed.begin(), consumed.end());
  ASSERT_LE(consumed.size(), added.size());
  EXPECT_TRUE(std::equal(consumed.begin(), consumed.end(), added.begin()))
      << "consumed ids are not the oldest added ones, each once";
  EXPECT_EQ(trained, fresh_trained);
}

INSTANTIATE_TEST_SUITE_P(Presets, EveryPreset, ::testing::ValuesIn(policy::preset_names()));

// Serve restores a committed version and deploys each new one at once, as soon as it is
// durable: the number continues from the restored one and the snapshot is a copy in eval mode.
TEST(Publisher, DeployNumbersVersionsOnFromTheRestoredOneWithASnapshot) {
  torch::manual_seed(0);
  auto m = model::make("tiny", {1, 12, 12, 10});
  runtime::Publisher versions(*m, 7);
  EXPECT_EQ(versions.version(), 7);
  const auto restored = versions.deployed();
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters()) p.add_(1.0);
  versions.deploy(*m);
  EXPECT_EQ(versions.version(), 8);
  EXPECT_NE(versions.deployed().get(), m.get());
  const auto x = torch::rand({2, 1, 12, 12});
  EXPECT_TRUE(torch::equal(versions.deployed()->forward(x), [&] {
    m->set_training(false);
    return m->forward(x);
  }()));
  EXPECT_FALSE(torch::equal(restored->forward(x), versions.deployed()->forward(x)));
  EXPECT_TRUE(std::isinf(versions.next_deploy_s()));  // nothing staged is left behind
}

// ---- Adapter eata: entropy steps on BatchNorm's affine parameters ----

namespace {

policy::AdaptOptions eata_options(double margin, double redundancy, double fisher) {
  auto o = policy::AdaptOptions{}.with_bn().with_entropy_steps();
  o.entropy_lr = 0.01;
  o.entropy_margin = margin;
  o.redundancy_margin = redundancy;
  o.fisher_weight = fisher;
  return o;
}

double mean_entropy(model::BlockModel& m, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  const auto logits = m.forward(x);
  return (-(torch::softmax(logits, 1) * torch::log_softmax(logits, 1)).sum(1))
      .mean()
      .item<double>();
}

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) out.push_back(t.detach().clone());
  return out;
}

double distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double d = 0;
  for (size_t k = 0; k < a.size(); ++k) d += (a[k] - b[k]).pow(2).sum().item<double>();
  return std::sqrt(d);
}

}  // namespace

TEST(EntropyStep, StepsLowerTheEntropyAndMoveOnlyTheNormParameters) {
  torch::manual_seed(0);
  auto m = model::make("tiny", {1, 12, 12, 10});
  m->set_training(false);
  const auto x = batch(16, 3).first;
  const auto before_all = copies(m->parameters()), before_norm = copies(m->norm_parameters());
  runtime::EntropyStep step(eata_options(1.0, 2.0, 0.0));  // every answer counts
  step.attach(*m);
  const double before = mean_entropy(*m, x);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(step.step(*m, x), 16);
  EXPECT_LT(mean_entropy(*m, x), before);
  EXPECT_GT(distance(m->norm_parameters(), before_norm), 0);
  // Convolutions and the head are as they were: all that moved is BatchNorm's weight and bias.
  EXPECT_NEAR(distance(m->parameters(), before_all), distance(m->norm_parameters(), before_norm),
              1e-6);
}

TEST(EntropyStep, NoConfidentAnswerMeansNoStep) {
  torch::manual_seed(0);
  auto m = model::make("tiny", {1, 12, 12, 10});
  const auto before = copies(m->norm_parameters());
  runtime::EntropyStep step(eata_options(0.0, 2.0, 0.0));  // no entropy is below 0
  step.attach(*m);
  EXPECT_EQ(step.step(*m, batch(16, 3).first), 0);
  EXPECT_EQ(step.steps(), 0);
  EXPECT_EQ(distance(m->norm_parameters(), before), 0);
}

// After the first step the running mean answer exists; answers like it are redundant.
TEST(EntropyStep, AnswersLikeTheRunningMeanAreRedundant) {
  torch::manual_seed(0);
  auto m = model::make("tiny", {1, 12, 12, 10});
  runtime::EntropyStep step(eata_options(1.0, 0.0, 0.0));  // |cos| < 0: all redundant
  step.attach(*m);
  const auto x = batch(16, 3).first;
  EXPECT_EQ(step.step(*m, x), 16);  // no mean yet: nothing is redundant
  EXPECT_EQ(step.step(*m, x), 0);
}

TEST(EntropyStep, TheFisherPenaltyHoldsTheParametersNearTheDeployedOnes) {
  const auto x = batch(16, 3).first, calibration = batch(64, 4).first;
  auto moved = [&](double fisher_weight) {
    torch::manual_seed(0);
    auto m = model::make("tiny", {1, 12, 12, 10});
    const auto anchor = copies(m->norm_parameters());
    runtime::EntropyStep step(eata_options(1.0, 2.0, fisher_weight));
    step.estimate_fisher(*m, calibration);
    step.attach(*m);
    for (int i = 0; i < 10; ++i) step.step(*m, x);
    return distance(m->norm_parameters(), anchor);
  };
  EXPECT_LT(moved(2000), 0.5 * moved(0.0));
}

// A step is a forward and a backward through every unit: 3 forward passes, after the
// BatchNorm statistics' one pass.
TEST(Runtime, EntropyStepsAreCountedAsDecisionFlops) {
  auto x = batch(10, 3).first;
  const double per_image =
      model::profile_flops(*model::make("tiny", {1, 12, 12, 10}), x.slice(0, 0, 1)).total();
  auto rt = make("tta", "instant", {{"eata", {{"entropy_margin", 1.0}}}});
  rt.predict(x);  // one step of bn_chunk (10) images
  EXPECT_DOUBLE_EQ(rt.totals().decision_flops, 10 * per_image + 3 * 10 * per_image);
}

TEST(Runtime, TtaAnswersDependOnEarlierRequestsOnly) {
  const nlohmann::json params = {{"eata", {{"entropy_margin", 1.0}, {"entropy_lr", 0.05}}}};
  const int64_t n = policy::AdaptOptions{}.bn_chunk;
  auto a = batch(static_cast<int>(n), 5).first, b = batch(static_cast<int>(n), 6).first;
  auto together = make("tta", "instant", params).predict(torch::cat({a, b}));
  EXPECT_TRUE(torch::equal(together.confidence.slice(0, 0, n),
                           make("tta", "instant", params).predict(a).confidence));
  // The entropy step changed later answers beyond what the statistics alone do.
  auto bn_only = make("never+none+bn").predict(torch::cat({a, b}));
  EXPECT_FALSE(torch::equal(together.confidence.slice(0, n), bn_only.confidence.slice(0, n)));
}

// RDumb: with a reset after every step, the next chunk is answered by the deployed weights.
TEST(Runtime, AResetAfterEveryStepAnswersWithTheDeployedWeights) {
  const nlohmann::json params = {{"eata", {{"entropy_margin", 1.0}, {"reset_every", 1}}}};
  const int64_t n = policy::AdaptOptions{}.bn_chunk;
  auto a = batch(static_cast<int>(n), 5).first, b = batch(static_cast<int>(n), 6).first;
  auto rt = make("tta", "instant", params);
  rt.predict(a);
  EXPECT_TRUE(torch::equal(rt.predict(b).confidence, make("never").predict(b).confidence));
}

// Fused statistics (adapt.bn_fused): the answering pass tallies BatchNorm inputs and the
// adaptation step spends them, so there is no second pass. Answers stay causal (the first
// chunk is answered by the deployed statistics, as without fusing) and the decision costs
// 3 FLOPs per tallied value (a sum and a sum of squares) instead of a forward pass per image.
TEST(Runtime, FusedBatchnormAnswersCausallyWithoutASecondPass) {
  const auto x1 = batch(10, 3).first, x2 = batch(10, 5).first;
  auto separate = make("etuner");
  auto fused = make("etuner", "instant", {{"adapt", {{"bn_fused", true}}}});
  EXPECT_TRUE(torch::equal(fused.predict(x1).confidence, separate.predict(x1).confidence));
  const auto next = fused.predict(x2).confidence;
  EXPECT_FALSE(torch::equal(next, make("etuner").predict(x2).confidence));  // statistics moved
  // tiny: two BatchNorm layers of 8 channels over 12x12 maps, two chunks of 10 images.
  const double tallied = 2 * (10 * 12 * 12 * 8) * 2;
  EXPECT_DOUBLE_EQ(fused.totals().decision_by_kind.batchnorm, 3 * tallied);
}

// A deploy under fused statistics runs no pass over recent requests (its statistics come
// from the previous answering copy's); the next chunk's step costs only its tallies.
TEST(Runtime, FusedBatchnormRefreshesADeployedVersionWithoutAPass) {
  const auto x1 = batch(10, 3).first, x2 = batch(10, 5).first;
  auto fused = make("immediate-bn", "instant", {{"adapt", {{"bn_fused", true}}}});
  auto separate = make("immediate-bn");
  for (auto* rt : {&fused, &separate}) {
    rt->predict(x1);
    auto [lx, ly] = batch(8, 4);
    rt->add_labeled(lx, ly, 1.0);
    ASSERT_TRUE(rt->advance(1.0).has_value());
  }
  const double before = fused.totals().decision_by_kind.batchnorm;
  EXPECT_GT(separate.totals().decision_by_kind.batchnorm, 0);
  fused.predict(x2);
  const double tallied = 2 * (10 * 12 * 12 * 8);  // one chunk through both BatchNorm layers
  EXPECT_DOUBLE_EQ(fused.totals().decision_by_kind.batchnorm - before, 3 * tallied);
  EXPECT_DOUBLE_EQ(before, 3 * tallied);  // the first chunk's step; the deploy added nothing
}

// A deploy under fused statistics runs no pass: the new version's trained blocks move
// half-way toward the previous answering copy's statistics, the frozen prefix keeps them.
TEST(Adapter, FusedDeployMovesTrainedBlocksHalfWayToTheAnsweringCopy) {
  torch::manual_seed(0);
  std::shared_ptr<model::BlockModel> v0 = model::make("tiny", {1, 12, 12, 10});
  v0->set_training(false);  // deployed versions answer in eval mode
  auto options = policy::AdaptOptions{}.with_bn();
  options.bn_fused = true;
  runtime::Ledger ledger(meter::make_modeled(device_profile("cpu-2core")),
                         device_profile("cpu-2core"), torch::kCPU);
  runtime::Adapter adapter(options, v0, ledger);
  const auto x = batch(10, 3).first;
  adapter.answer(x);
  adapter.after_answer(x, {}, 0);  // a step: the answering copy's statistics moved
  auto answering = adapter.serving_model();
  std::shared_ptr<model::BlockModel> v1(v0->clone());
  for (auto& b : v1->unit_buffers(1))  // as if a round retrained block 1
    if (b.is_floating_point()) b.add_(0.5);
  const double before = ledger.totals().decision_flops;
  adapter.refresh(v1, /*kept_prefix=*/1);
  EXPECT_EQ(ledger.totals().decision_flops, before);
  auto& m = const_cast<model::BlockModel&>(*answering);
  const auto got0 = adapter.serving().unit_buffers(0), prev0 = m.unit_buffers(0);
  for (size_t k = 0; k < got0.size(); ++k) EXPECT_TRUE(torch::equal(got0[k], prev0[k]));
  const auto got1 = adapter.serving().unit_buffers(1), prev1 = m.unit_buffers(1),
             trained1 = v1->unit_buffers(1);
  for (size_t k = 0; k < got1.size(); ++k)
    if (got1[k].is_floating_point())
      EXPECT_TRUE(torch::allclose(got1[k], trained1[k] + 0.5 * (prev1[k] - trained1[k]))) << k;
}

// A drop of test-then-train accuracy is a change once per reading; read from rounds, the
// round after a change scores the batches that made it, and that drop is not a second change.
TEST(Signals, ADropFromRoundScoresIsOneChange) {
  runtime::Ledger ledger(meter::make_modeled(device_profile("cpu-2core")),
                         device_profile("cpu-2core"), torch::kCPU);
  runtime::Signals signals({0, 1}, ledger);
  const auto right = torch::ones({8}, torch::kBool), wrong = torch::zeros({8}, torch::kBool);
  signals.observe_round_scores(right, {8});
  EXPECT_FALSE(signals.detect_change());
  signals.observe_round_scores(wrong, {8});
  EXPECT_TRUE(signals.detect_change());   // 0 against a running 1
  EXPECT_FALSE(signals.detect_change());  // the same reading again
  signals.observe_round_scores(wrong, {8});
  EXPECT_FALSE(signals.detect_change());  // the change round's own reading
  signals.observe_round_scores(right, {8});
  EXPECT_FALSE(signals.detect_change());
  signals.observe_round_scores(wrong, {8});
  EXPECT_TRUE(signals.detect_change());  // a new drop (running mean 0.64)
}

namespace {

// Clean requests (gaps 0-3, every label 7), dark (4-7, every label 3), clean again (8-9)
// under realtime, with lazytune keeping two versions. The batch that arrives with the return
// to clean is labeled 7, as the version that served clean requests learned (`by_shelved`),
// or 3, as the answering version learned. Returns the round at the return, the version that
// served clean requests and the deployed version right after that round (before the
// round's own version deploys).
struct Recurrence {
  std::optional<runtime::RoundRecord> round;
  std::shared_ptr<const model::BlockModel> clean, deployed;
  runtime::Totals totals;
};

Recurrence recur(bool by_shelved) {
  auto cfg = config("realtime");
  for (int c = 0; c < 10; ++c) cfg.known_classes.push_back(c);
  cfg.train.lr = 0.5;            // a few rounds teach each phase its label,
  cfg.train.replay_samples = 0;  // and forget the other's
  torch::manual_seed(0);
  // The shelf was measured with test-then-train as its own pass. Read from rounds instead,
  // the first reading after the darkening is prequential (train-mode statistics before the
  // round's steps) and falls below the running mean again: 3 changes counted, not 2.
  runtime::Runtime rt(
      model::make("tiny", {1, 12, 12, 10}),
      policy::make("lazy", {{"lazytune", {{"shelf", 2}, {"ttt_from_rounds", false}}}}), cfg,
      meter::make_modeled(device_profile("cpu-2core")));
  Recurrence out;
  for (int gap = 0; gap < 10; ++gap) {
    const double shade = gap >= 4 && gap < 8 ? 0.2 : 1.0;
    rt.predict(batch(20, 100 + gap).first * shade);
    if (gap == 4) out.clean = rt.answering();
    const auto x = batch(8, gap).first * shade;
    const bool clean_labels = gap < 4 || (gap >= 8 && by_shelved);
    rt.add_labeled(x, torch::full({8}, clean_labels ? 7 : 3, torch::kLong), gap * 10.0);
    auto r = rt.advance(gap * 10.0);
    if (gap == 8) out.round = r, out.deployed = rt.deployed();
  }
  out.totals = rt.totals();
  return out;
}

}  // namespace

// Recurring scenarios: the version that served clean requests is shelved when they darken;
// when they come back clean and it labels the new batch better, the change round starts
// from it, and under realtime it answers at once, before that round's own version deploys.
TEST(Runtime, ARecurringScenarioRecallsTheVersionThatServedIt) {
  const auto got = recur(true);
  ASSERT_TRUE(got.round.has_value());
  EXPECT_NE(got.round->reason.find("recalled"), std::string::npos) << got.round->reason;
  auto now = const_cast<model::BlockModel&>(*got.deployed).parameters();
  auto then = const_cast<model::BlockModel&>(*got.clean).parameters();
  ASSERT_EQ(now.size(), then.size());
  for (size_t k = 0; k < now.size(); ++k) EXPECT_TRUE(torch::equal(now[k], then[k])) << k;
  EXPECT_EQ(got.totals.drifts, 2);
  EXPECT_EQ(got.totals.recalls, 1);
  EXPECT_GT(got.totals.shelf_bytes, 0);
}

// The same return, but the answering version labels the new batch at least as well: no recall.
TEST(Runtime, AShelvedVersionThatLabelsTheNewBatchNoBetterStaysShelved) {
  const auto got = recur(false);
  ASSERT_TRUE(got.round.has_value());
  EXPECT_EQ(got.round->reason.find("recalled"), std::string::npos) << got.round->reason;
  EXPECT_EQ(got.totals.drifts, 2);
  EXPECT_EQ(got.totals.recalls, 0);
}

TEST(VersionShelf, MatchesTheClosestScenarioWithinTheThresholdAndKeepsAtMostItsCapacity) {
  auto features = [](double level, int seed) {
    torch::manual_seed(seed);
    return torch::rand({40, 3}) * 0.1 + level;
  };
  using runtime::DriftMonitor;
  auto m0 = model::make("tiny", {1, 12, 12, 10}), m1 = model::make("tiny", {1, 12, 12, 10});
  runtime::VersionShelf shelf(2, 6);
  shelf.shelve(DriftMonitor::signature_of(features(0.2, 1)), *m0);
  shelf.shelve(DriftMonitor::signature_of(features(0.8, 2)), *m1);
  const auto got = shelf.match(DriftMonitor::signature_of(features(0.8, 3)));
  ASSERT_TRUE(got);
  EXPECT_TRUE(torch::equal(got->parameters()[0], m1->parameters()[0]));
  EXPECT_FALSE(shelf.match(DriftMonitor::signature_of(features(0.5, 4))));  // neither
  shelf.shelve(DriftMonitor::signature_of(features(0.8, 5)), *m0);  // the same scenario again
  EXPECT_EQ(shelf.size(), 2);
  EXPECT_TRUE(shelf.match(DriftMonitor::signature_of(features(0.2, 7))));  // replaced, not evicted
  shelf.shelve(DriftMonitor::signature_of(features(0.5, 6)), *m1);  // a third: the oldest goes
  EXPECT_EQ(shelf.size(), 2);
  EXPECT_FALSE(shelf.match(DriftMonitor::signature_of(features(0.2, 7))));
}

// The answers' confidence per gap between labeled batches, and its running mean over the
// gaps before (label-free; lazytune's `surprise_confidence` reads it).
TEST(Signals, AnswerConfidenceIsPerGapWithARunningMeanOfEarlierGaps) {
  runtime::Ledger ledger(meter::make_modeled(device_profile("cpu-2core")),
                         device_profile("cpu-2core"), torch::kCPU);
  runtime::Signals signals({0, 1}, ledger, /*answer_confidence=*/true);
  auto answered = [&](std::vector<float> c) {
    runtime::Prediction p;
    p.confidence = torch::tensor(c);
    p.labels = torch::zeros({p.confidence.size(0)}, torch::kLong);
    signals.on_answered(p);
  };
  auto read = [&] {
    policy::ScheduleSignals s;
    signals.fill(s);
    return std::make_pair(s.newest_answer_confidence, s.recent_answer_confidence);
  };
  answered({0.8f, 0.6f});
  signals.close_answer_gap();
  EXPECT_NEAR(read().first, 0.7, 1e-6);
  EXPECT_TRUE(std::isnan(read().second));
  answered({0.4f});
  signals.close_answer_gap();
  EXPECT_NEAR(read().first, 0.4, 1e-6);
  EXPECT_NEAR(read().second, 0.7, 1e-6);
  answered({0.2f});
  answered({0.2f});
  signals.close_answer_gap();
  signals.close_answer_gap();  // a gap without answers changes nothing
  EXPECT_NEAR(read().first, 0.2, 1e-6);
  EXPECT_NEAR(read().second, 0.7 * 0.7 + 0.3 * 0.4, 1e-6);
}
