// The mechanics: freezing really freezes, the activation cache changes nothing but speed.
#include <gtest/gtest.h>

#include "etuner/tuning.h"
#include "tuning/activation_cache.h"

using namespace etuner;

namespace {

std::unique_ptr<model::BlockModel> tiny() {
  torch::manual_seed(0);
  return model::make("tiny", {1, 12, 12, 10});
}

std::pair<torch::Tensor, torch::Tensor> data(int n = 48) {
  torch::manual_seed(1);
  return {torch::rand({n, 1, 12, 12}), torch::randint(0, 10, {n}, torch::kLong)};
}

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) out.push_back(t.detach().clone());
  return out;
}

// A round of plain SGD (no weight decay) over x, y: `batch` rows a step, rows [0, scored)
// scored in the first epoch.
tuning::RoundResult round_on(model::BlockModel& m, const torch::Tensor& x, const torch::Tensor& y,
                             double lr, int epochs, int batch, int64_t scored = 0) {
  auto opt = tuning::make_optimizer(m, tuning::OptimizerConfig{}.with_lr(lr).with_weight_decay(0));
  tuning::RoundConfig rc;
  rc.epochs = epochs;
  rc.batch_size = batch;
  rc.scored_rows = scored;
  return tuning::run_round(m, *opt, x, y, rc, model::profile_flops(m, x.slice(0, 0, 1)), nullptr);
}

}  // namespace

TEST(ApplyPlan, FrozenWeightsStayBitIdenticalUnderMomentumAndWeightDecay) {
  auto m = tiny();
  auto [x, y] = data();
  auto opt = tuning::make_optimizer(*m, tuning::OptimizerConfig{}.with_lr(0.1));
  // Train everything once so the frozen block has momentum and a gradient to leak.
  tuning::RoundConfig rc;
  rc.epochs = 1;
  rc.batch_size = 16;
  auto profile = model::profile_flops(*m, x.slice(0, 0, 1));
  tuning::run_round(*m, *opt, x, y, rc, profile, nullptr);
  auto frozen_before = copies(m->unit_parameters(0));
  auto head_before = copies(m->unit_parameters(m->num_blocks()));
  auto bn_before = copies(m->unit_buffers(0));
  rc.epochs = 3;
  tuning::run_round(*m, *opt, x, y, rc, profile, [](int) { return 1; });
  auto frozen_after = m->unit_parameters(0);
  for (size_t i = 0; i < frozen_before.size(); ++i)
    EXPECT_TRUE(torch::equal(frozen_before[i], frozen_after[i])) << "parameter " << i;
  auto bn_after = m->unit_buffers(0);
  for (size_t i = 0; i < bn_before.size(); ++i)
    EXPECT_TRUE(torch::equal(bn_before[i], bn_after[i])) << "buffer " << i;
  auto head_after = m->unit_parameters(m->num_blocks());
  EXPECT_FALSE(torch::equal(head_before[0], head_after[0]));
}

TEST(ApplyPlan, FrozenParametersLoseGradAndRequiresGrad) {
  auto m = tiny();
  auto [x, y] = data(8);
  torch::nn::functional::cross_entropy(m->forward(x), y).backward();
  tuning::apply_plan(*m, {1, false, ""});
  for (auto& p : m->unit_parameters(0)) {
    EXPECT_FALSE(p.requires_grad());
    EXPECT_FALSE(p.grad().defined());
  }
  for (auto& p : m->unit_parameters(1)) EXPECT_TRUE(p.requires_grad());
}

// The fast path (cached prefix activations) against the reference (recomputing the prefix).
TEST(ActivationCache, CachedAndRecomputedRoundsGiveTheSameLossAndWeights) {
  auto [x, y] = data();
  auto run = [&, &x = x, &y = y](double cache_mb, bool verify) {
    auto m = tiny();
    auto opt = tuning::make_optimizer(*m, tuning::OptimizerConfig{}.with_lr(0.05));
    tuning::RoundConfig rc;
    rc.epochs = 3;
    rc.batch_size = 16;
    rc.cache_mb = cache_mb;
    rc.verify_cache = verify;
    auto r = tuning::run_round(*m, *opt, x, y, rc, model::profile_flops(*m, x.slice(0, 0, 1)),
                               [](int) { return 1; });
    return std::make_pair(r, copies(m->parameters()));
  };
  auto [cached, wc] = run(64, true);
  auto [plain, wp] = run(0, false);
  EXPECT_GT(cached.cache_hits, 0);
  EXPECT_EQ(plain.cache_hits, 0);
  EXPECT_DOUBLE_EQ(cached.loss, plain.loss);
  for (size_t i = 0; i < wc.size(); ++i) EXPECT_TRUE(torch::equal(wc[i], wp[i])) << i;
  EXPECT_LT(cached.train_flops, plain.train_flops);  // the prefix ran once, not per epoch
}

TEST(ActivationCache, ABudgetTooSmallForAllRowsStillGivesTheSameResult) {
  auto [x, y] = data();
  auto run = [&, &x = x, &y = y](double cache_mb) {
    auto m = tiny();
    auto opt =
        tuning::make_optimizer(*m, tuning::OptimizerConfig{}.with_lr(0.05).with_weight_decay(0));
    tuning::RoundConfig rc;
    rc.epochs = 2;
    rc.batch_size = 16;
    rc.cache_mb = cache_mb;
    auto r = tuning::run_round(*m, *opt, x, y, rc, model::profile_flops(*m, x.slice(0, 0, 1)),
                               [](int) { return 1; });
    return r.loss;
  };
  // One row of the tiny model's prefix output is 8*12*12 floats = 4.6 KB: 0.05 MB holds ~11.
  EXPECT_DOUBLE_EQ(run(0.05), run(0));
}

// A cache that outlives a round: a sample id seen again is served while the prefix stays;
// any change of the prefix forgets everything.
TEST(ActivationCache, ServesAnIdAgainUntilThePrefixChanges) {
  tuning::ActivationCache cache(1);
  int computed = 0;
  auto compute = [&](const torch::Tensor& pos) {
    computed += static_cast<int>(pos.numel());
    return pos.to(torch::kFloat).unsqueeze(1) * 10;
  };
  cache.use_prefix(2);
  EXPECT_TRUE(torch::equal(cache.get({7, 8}, compute), torch::tensor({{0.f}, {10.f}})));
  // Id 8 is cached with the output computed for it (10), wherever it sits in a later call.
  EXPECT_TRUE(torch::equal(cache.get({9, 8}, compute), torch::tensor({{0.f}, {10.f}})));
  EXPECT_EQ(computed, 3);
  EXPECT_EQ(cache.hits(), 1);
  cache.use_prefix(2);
  cache.get({7, 9}, compute);
  EXPECT_EQ(computed, 3);
  cache.use_prefix(3);
  cache.get({7, 9}, compute);
  EXPECT_EQ(computed, 5);
  cache.reset();
  cache.use_prefix(3);
  cache.get({7}, compute);
  EXPECT_EQ(computed, 6);
  cache.get({-1, -1}, compute);  // no id: never cached
  cache.get({-1}, compute);
  EXPECT_EQ(computed, 9);
}

TEST(ActivationCache, AFullCacheEvictsTheOldestAndStillAnswersEveryRow) {
  // One row of 256 floats is 1 KB: a 3 KB budget holds three.
  tuning::ActivationCache cache(3.0 / 1024);
  auto compute = [&](const std::vector<int64_t>& ids) {
    return [ids](const torch::Tensor& pos) {
      auto out = torch::empty({pos.numel(), 256});
      for (int64_t i = 0; i < pos.numel(); ++i)
        out[i].fill_(static_cast<float>(ids[pos[i].item<int64_t>()]));
      return out;
    };
  };
  auto expect_ids = [](const torch::Tensor& out, const std::vector<int64_t>& ids) {
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(out[i][0].item<float>(), ids[i]);
  };
  cache.use_prefix(1);
  std::vector<int64_t> a{1, 2, 3, 4, 5};  // more rows than fit: the first three are stored
  expect_ids(cache.get(a, compute(a)), a);
  std::vector<int64_t> b{3, 6, 1};  // 3 and 1 hit; 6 evicts the oldest, never 1 or 3
  expect_ids(cache.get(b, compute(b)), b);
  EXPECT_EQ(cache.hits(), 2);
  std::vector<int64_t> c{1, 3, 6};
  expect_ids(cache.get(c, compute(c)), c);
  EXPECT_EQ(cache.hits(), 5);
}

TEST(Round, ANonFiniteLossIsReported) {
  auto m = tiny();
  auto [x, y] = data(16);
  x[0][0][0][0] = std::numeric_limits<float>::quiet_NaN();
  auto opt =
      tuning::make_optimizer(*m, tuning::OptimizerConfig{}.with_lr(0.05).with_weight_decay(0));
  tuning::RoundConfig rc;
  rc.batch_size = 16;
  auto r =
      tuning::run_round(*m, *opt, x, y, rc, model::profile_flops(*m, x.slice(0, 0, 1)), nullptr);
  EXPECT_FALSE(r.finite);
}

TEST(Round, CountsStepsSamplesAndFlops) {
  auto m = tiny();
  auto [x, y] = data(40);
  const auto prof = model::profile_flops(*m, x.slice(0, 0, 1));
  const auto r = round_on(*m, x, y, 0.05, 2, 16);
  EXPECT_EQ(r.steps, 6);  // ceil(40/16) per epoch
  EXPECT_EQ(r.samples, 80);
  EXPECT_DOUBLE_EQ(r.train_flops, 3 * prof.total() * 80);
}

// Test-then-train from the round's own forward: with one minibatch, a row's score is the
// train-mode forward of the model before any step; rows past scored_rows are not scored.
TEST(Round, FirstEpochScoresAreTheForwardBeforeTheStep) {
  auto m = tiny();
  auto [x, y] = data(40);
  auto before = m->clone();
  before->set_training(true);
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = before->forward(x).argmax(1).eq(y).slice(0, 0, 30);
  }
  const auto r = round_on(*m, x, y, 1.0, 2, 40, 30);
  ASSERT_TRUE(r.first_epoch_hits.defined());
  EXPECT_TRUE(torch::equal(r.first_epoch_hits, expected));
  EXPECT_GT(expected.sum().item<int64_t>(), 0);
}

// Scoring rides on the steps: the trained weights are the same with and without it.
TEST(Round, ScoringChangesNothingButTheScores) {
  auto train = [](int64_t scored) {
    auto m = tiny();
    auto [x, y] = data(40);
    const auto r = round_on(*m, x, y, 0.05, 2, 16, scored);
    EXPECT_EQ(r.first_epoch_hits.defined(), scored > 0);
    return std::make_pair(copies(m->parameters()), r.train_flops);
  };
  const auto [plain, plain_flops] = train(0);
  const auto [scored, scored_flops] = train(24);
  ASSERT_EQ(plain.size(), scored.size());
  for (size_t k = 0; k < plain.size(); ++k) EXPECT_TRUE(torch::equal(plain[k], scored[k]));
  EXPECT_DOUBLE_EQ(plain_flops, scored_flops);
}

TEST(Similarity, LinearCkaIsOneForIdenticalAndScaledRotatedRepresentations) {
  torch::manual_seed(3);
  auto a = torch::randn({20, 6});
  EXPECT_NEAR(tuning::linear_cka(a, a), 1.0, 1e-9);
  auto q = std::get<0>(torch::linalg_qr(torch::randn({6, 6}).to(torch::kDouble)));
  EXPECT_NEAR(tuning::linear_cka(a, 3.0 * a.to(torch::kDouble).matmul(q)), 1.0, 1e-9);
  EXPECT_NEAR(tuning::linear_cka(a, a + 5.0), 1.0, 1e-9);  // centering removes offsets
}

TEST(Similarity, LinearCkaMatchesTheAnalyticValue) {
  // X = [e1 directions], Y keeps one of two orthogonal features: with centered X having
  // two orthonormal columns of equal energy, CKA(X, X[:, 0]) = 1/sqrt(2).
  auto x = torch::tensor({{1.0, 1.0}, {1.0, -1.0}, {-1.0, 1.0}, {-1.0, -1.0}});
  EXPECT_NEAR(tuning::linear_cka(x, x.slice(1, 0, 1)), 1.0 / std::sqrt(2.0), 1e-9);
}

TEST(Similarity, BlockOutputsLeaveModesAndStatisticsAlone) {
  auto m = tiny();
  auto [x, y] = data(16);
  auto bn_before = copies(m->unit_buffers(0));
  auto outs = tuning::block_outputs(*m, x, 0);
  ASSERT_EQ(static_cast<int>(outs.size()), m->num_blocks());
  for (size_t k = 0; k < bn_before.size(); ++k)
    EXPECT_TRUE(torch::equal(bn_before[k], m->unit_buffers(0)[k]));
}

// The fast path of a CKA check: starting from a kept output of block 0 gives block 1 the same
// output as a pass from the probe, and leaves block 0's entry empty.
TEST(Similarity, BlockOutputsFromAKeptPrefixOutputEqualAFullPass) {
  auto m = tiny();
  auto [x, y] = data(16);
  auto full = tuning::block_outputs(*m, x, 1);
  auto rest = tuning::block_outputs(*m, full[0], 1, /*from=*/1);
  EXPECT_FALSE(rest[0].defined());
  EXPECT_TRUE(torch::equal(rest[1], full[1]));
}

TEST(AdaptBatchnorm, MovesStatisticsTheRequestedFractionTowardTheBatch) {
  auto m = tiny();
  auto [x, y] = data(32);
  auto full = m->clone();
  // alpha 1 lands exactly on the batch statistics a momentum-1 update would give.
  tuning::adapt_batchnorm(*full, x * 0.1, 1.0);
  auto half = m->clone();
  tuning::adapt_batchnorm(*half, x * 0.1, 0.5);
  auto mean0 = m->unit_buffers(0)[0], mean_full = full->unit_buffers(0)[0],
       mean_half = half->unit_buffers(0)[0];
  EXPECT_TRUE(torch::allclose(mean_half, 0.5 * (mean0 + mean_full), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(mean_full, mean0));
}

// The fused adaptation (adapter option bn_fused): statistics tallied by the pass that answers.
namespace fused {

torch::Tensor answer(model::BlockModel& m, const torch::Tensor& x, bool tally) {
  torch::NoGradGuard no_grad;
  m.set_training(false);
  m.set_tallying(tally);
  auto out = m.forward(x);
  m.set_tallying(false);
  return out;
}

}  // namespace fused

TEST(FusedBatchnorm, TallyingDoesNotChangeTheAnswer) {
  auto m = tiny();
  auto [x, y] = data(10);
  auto plain = fused::answer(*m, x, false);
  EXPECT_TRUE(torch::equal(fused::answer(*m, x, true), plain));
  EXPECT_TRUE(m->can_tally());
}

// A network's first BatchNorm sees the convolution of the raw input in both paths, so there
// the fused statistics equal the train-mode pass's; deeper layers see inputs normalized with
// running rather than batch statistics, and differ.
TEST(FusedBatchnorm, FirstLayerEqualsTheSeparateTrainModePass) {
  auto m = tiny();
  auto [x, y] = data(16);
  auto separate = m->clone(), fused_m = m->clone();
  tuning::adapt_batchnorm(*separate, x * 0.1, 0.3);
  fused::answer(*fused_m, x * 0.1, true);
  const int64_t values = tuning::apply_batchnorm_tallies(*fused_m, 0.3);
  EXPECT_EQ(values, 16 * 12 * 12 * 8 * 2);  // two BatchNorms of 8 channels at 12x12
  for (int k : {0, 1})                      // running mean, running variance
    EXPECT_TRUE(
        torch::allclose(fused_m->unit_buffers(0)[k], separate->unit_buffers(0)[k], 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(fused_m->unit_buffers(0)[0], m->unit_buffers(0)[0]));
  EXPECT_FALSE(torch::allclose(fused_m->unit_buffers(1)[0], separate->unit_buffers(1)[0]));
}

// Against a separate capture pass of the same eval-mode activations: block 1's BatchNorm
// input is its convolution of block 0's eval-mode output, computed here by hand.
TEST(FusedBatchnorm, EveryLayerMovesTowardItsEvalModeInputStatistics) {
  auto m = tiny();
  auto [x, y] = data(12);
  auto before = m->clone();
  fused::answer(*m, x, true);
  tuning::apply_batchnorm_tallies(*m, 0.5);
  torch::NoGradGuard no_grad;
  before->set_training(false);
  const auto h0 = before->forward_unit(0, x);
  const auto w1 = before->unit_parameters(1)[0];  // block 1's conv weight (no bias)
  const auto in1 = torch::conv2d(h0, w1, {}, 1, 1);
  const auto mean = in1.mean({0, 2, 3}), var = in1.var({0, 2, 3}, /*unbiased=*/true);
  const auto old_mean = before->unit_buffers(1)[0], old_var = before->unit_buffers(1)[1];
  EXPECT_TRUE(
      torch::allclose(m->unit_buffers(1)[0], old_mean + 0.5 * (mean - old_mean), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(m->unit_buffers(1)[1], old_var + 0.5 * (var - old_var), 1e-4, 1e-5));
}

// Chunks answered in several calls add up to the chunk's statistics, and applying forgets
// them; units before first_unit keep their statistics but their tallies are spent too.
TEST(FusedBatchnorm, TalliesAddUpAcrossPassesAndAreSpentByAStep) {
  auto m = tiny();
  auto [x, y] = data(10);
  auto split = m->clone(), whole = m->clone();
  fused::answer(*split, x.slice(0, 0, 6), true);
  fused::answer(*split, x.slice(0, 6), true);
  fused::answer(*whole, x, true);
  tuning::apply_batchnorm_tallies(*split, 0.2, /*first_unit=*/1);
  tuning::apply_batchnorm_tallies(*whole, 0.2, /*first_unit=*/1);
  EXPECT_TRUE(torch::allclose(split->unit_buffers(1)[1], whole->unit_buffers(1)[1], 1e-5, 1e-7));
  EXPECT_TRUE(torch::equal(split->unit_buffers(0)[0], m->unit_buffers(0)[0]));
  EXPECT_EQ(tuning::apply_batchnorm_tallies(*split, 0.2), 0);
}
