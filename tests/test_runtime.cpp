// The runtime: versions, rounds, the realtime protocol's staleness, discarding bad rounds.
#include <gtest/gtest.h>

#include "etuner/runtime.h"

using namespace etuner;

namespace {

runtime::RuntimeConfig config(const std::string& mode) {
  runtime::RuntimeConfig c;
  c.mode = mode;
  c.profile = device_profile("cpu-2core");
  c.train.batch_size = 8;
  c.train.epochs_per_round = 1;
  c.train.replay_samples = 8;
  c.train.replay_buffer = 32;
  c.train.lr = 0.05;
  return c;
}

runtime::Runtime make(const std::string& policy, const std::string& mode = "instant") {
  torch::manual_seed(0);
  auto m = model::make("tiny", {1, 12, 12, 10});
  return runtime::Runtime(std::move(m), policy::make(policy), config(mode),
                          meter::make_modeled(device_profile("cpu-2core")));
}

std::pair<torch::Tensor, torch::Tensor> batch(int n, int seed) {
  torch::manual_seed(seed);
  return {torch::rand({n, 1, 12, 12}), torch::randint(0, 10, {n}, torch::kLong)};
}

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
