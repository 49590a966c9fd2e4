// bench --seeds: the paired statistics on hand-computed numbers, and sweeps on the tiny
// fixture stream (seeds.json against the per-seed results files).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "etuner/error.h"
#include "etuner/fields.h"
#include "etuner/harness.h"
#include "fixtures.h"
#include "harness/paired.h"

using namespace etuner;
using nlohmann::json;

namespace {

harness::BenchOptions sweep_options(const std::string& name, std::vector<std::string> policies) {
  static const std::string root = fixtures::write_tiny_dataset("seeds-data");
  const auto dir = fixtures::temp_dir(name);
  write_json_file(dir + "/spec.json", fixtures::tiny_spec(root));
  setenv("ETUNER_CACHE", (dir + "/cache").c_str(), 1);
  harness::BenchOptions o;
  o.stream_path = dir + "/spec.json";
  o.out_dir = dir + "/out";
  o.quiet = true;
  o.threads = 1;
  o.command = "etuner bench --seeds";
  o.policies = std::move(policies);
  return o;
}

json seed_results(const harness::BenchOptions& o, int seed) {
  return read_json_file(harness::seed_dir(o.out_dir, seed) + "/results.json");
}

// One two-seed sweep shared by the tests that read it (each bench run costs a second or two).
struct Sweep {
  harness::BenchOptions o;
  json seeds;
};

const Sweep& two_seed_sweep() {
  static const Sweep sweep = [] {
    auto o = sweep_options("seeds-sweep", {"immediate", "never"});
    o.overrides = {{"train", {{"lr", 0.1}}}};  // at the fixture's 0.01 rounds change no answer
    auto j = harness::run_seeds(o, {5, 7});
    return Sweep{o, j};
  }();
  return sweep;
}

size_t files_in(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST(PairedDelta, ThreeSeedsByHand) {
  // deltas {1, 2, 3}: mean 2, sd sqrt((1 + 0 + 1) / 2) = 1, half-width t(0.975, 2) * 1 / sqrt(3)
  const auto d = harness::paired_delta({71, 72, 73}, {70, 70, 70});
  EXPECT_EQ(d.per_seed, (std::vector<double>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(d.mean, 2);
  EXPECT_DOUBLE_EQ(d.sd.value(), 1);
  EXPECT_DOUBLE_EQ(d.ci95_half_width.value(), 4.303 / std::sqrt(3.0));
  EXPECT_NEAR(d.ci95_half_width.value(), 2.484, 5e-4);
}

TEST(PairedDelta, TwoSeedsByHand) {
  // deltas {1.5, -0.5}: mean 0.5, sd sqrt(1 + 1) = sqrt(2), half-width 12.706 * sqrt(2) / sqrt(2)
  const auto d = harness::paired_delta({2, 0}, {0.5, 0.5});
  EXPECT_DOUBLE_EQ(d.mean, 0.5);
  EXPECT_DOUBLE_EQ(d.sd.value(), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(d.ci95_half_width.value(), 12.706);
}

TEST(PairedDelta, OneSeedHasNoSpreadOrInterval) {
  const auto d = harness::paired_delta({0.75}, {0.5});
  EXPECT_DOUBLE_EQ(d.mean, 0.25);
  EXPECT_FALSE(d.sd.has_value());
  EXPECT_FALSE(d.ci95_half_width.has_value());
}

TEST(PairedDelta, TQuantilesFromTheTableThenNormal) {
  EXPECT_DOUBLE_EQ(harness::t_quantile_975(1), 12.706);
  EXPECT_DOUBLE_EQ(harness::t_quantile_975(30), 2.042);
  EXPECT_DOUBLE_EQ(harness::t_quantile_975(31), 1.96);
}

TEST(RatioSeries, MeanOfPerSeedRatios) {
  const auto r = harness::ratio_series({2, 3}, {1, 2});
  ASSERT_EQ(r.per_seed.size(), 2u);
  EXPECT_DOUBLE_EQ(r.per_seed[0].value(), 2);
  EXPECT_DOUBLE_EQ(r.per_seed[1].value(), 1.5);
  EXPECT_DOUBLE_EQ(r.mean.value(), 1.75);
}

TEST(RatioSeries, AZeroBaselineHasNoRatioAndNoMean) {
  const auto r = harness::ratio_series({2, 3}, {1, 0});
  EXPECT_DOUBLE_EQ(r.per_seed[0].value(), 2);
  EXPECT_FALSE(r.per_seed[1].has_value());
  EXPECT_FALSE(r.mean.has_value());
}

TEST(Seeds, SweepMatchesThePerSeedResults) {
  const auto& [o, j] = two_seed_sweep();
  EXPECT_EQ(read_json_file(o.out_dir + "/seeds.json"), j);
  EXPECT_EQ(j["command"], o.command);
  EXPECT_EQ(j["seeds"], json({5, 7}));
  EXPECT_EQ(j["baseline"], "immediate");
  EXPECT_EQ(j["pretrain_seed"], 3);  // the spec's own seed, pinned for every timeline
  EXPECT_EQ(files_in(o.out_dir + "/../cache/pretrained"), 1u);  // one deployed model
  const json runs = {seed_results(o, 5), seed_results(o, 7)};
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(runs[i]["spec"]["seed"], i == 0 ? 5 : 7);
    EXPECT_EQ(runs[i]["spec"]["pretrain"]["seed"], 3);
    for (const char* p : {"immediate", "never"})
      EXPECT_EQ(j["policies"][p]["avg_inference_accuracy"]["per_seed"][i],
                runs[i]["policies"][p]["avg_inference_accuracy"])
          << p << " seed " << i;
  }
  for (const char* f : {"requests.csv", "rounds.csv"})
    EXPECT_TRUE(std::filesystem::exists(harness::seed_dir(o.out_dir, 7) + "/" + f)) << f;
}

TEST(Seeds, DeltasAndRatiosAgainstTheBaseline) {
  const auto& j = two_seed_sweep().seeds;
  const auto& base = j["policies"]["immediate"];
  EXPECT_EQ(base["delta_vs_baseline_pp"]["per_seed"], json({0.0, 0.0}));
  EXPECT_EQ(base["delta_vs_baseline_pp"]["ci95_half_width"], 0.0);
  EXPECT_EQ(base["ratio_vs_baseline"]["finetune_seconds"]["mean"], 1.0);
  const auto& never = j["policies"]["never"];
  const auto& acc = never["avg_inference_accuracy"]["per_seed"];
  const auto& base_acc = base["avg_inference_accuracy"]["per_seed"];
  const auto& delta = never["delta_vs_baseline_pp"];
  for (int i = 0; i < 2; ++i)
    EXPECT_NEAR(delta["per_seed"][i].get<double>(),
                100 * (acc[i].get<double>() - base_acc[i].get<double>()), 1e-9);
  EXPECT_DOUBLE_EQ(never["avg_inference_accuracy"]["mean"].get<double>(),
                   (acc[0].get<double>() + acc[1].get<double>()) / 2);
  EXPECT_NE(delta["per_seed"], json({0.0, 0.0}));  // else this test checks little
  EXPECT_NEAR(delta["ci95_half_width"].get<double>(),
              12.706 * delta["sd"].get<double>() / std::sqrt(2.0), 1e-9);
  EXPECT_EQ(delta["ci95"].size(), 2u);
  EXPECT_EQ(never["ratio_vs_baseline"]["train_flops"]["per_seed"], json({0.0, 0.0}));
  EXPECT_EQ(never["energy_source"], "modeled");
  // The tiny stream's never lags 16 x 2.5 samples on every timeline (test_harness.cpp).
  EXPECT_EQ(never["mean_lag_samples"]["per_seed"], json({40.0, 40.0}));
  EXPECT_EQ(never["mean_lag_samples"]["mean"], 40.0);
}

TEST(Seeds, OneSeedAndAnIdleBaselineGiveNulls) {
  const auto o = sweep_options("seeds-one", {"never", "immediate"});
  const auto j = harness::run_seeds(o, {4});
  const auto& imm = j["policies"]["immediate"];
  EXPECT_EQ(j["baseline"], "never");
  EXPECT_TRUE(imm["delta_vs_baseline_pp"]["sd"].is_null());
  EXPECT_TRUE(imm["delta_vs_baseline_pp"]["ci95"].is_null());
  EXPECT_TRUE(imm["ratio_vs_baseline"]["finetune_seconds"]["per_seed"][0].is_null());
  EXPECT_TRUE(imm["ratio_vs_baseline"]["finetune_seconds"]["mean"].is_null());
}

TEST(Seeds, BadSeedListsFailBeforeAnyWork) {
  harness::BenchOptions o;
  o.stream_path = "/nonexistent/spec.json";  // never read: the seeds are checked first
  for (const auto& seeds : std::vector<std::vector<int>>{{}, {1, 1}, {-2}})
    EXPECT_THROW(harness::run_seeds(o, seeds), ConfigError);
}

// The sweep pretrains the spec as written before its first seed, so its (cached) model is the
// one a plain bench deploys, not one shuffled by seed 5.
TEST(Seeds, DeploysThePlainBenchModel) {
  const auto& o = two_seed_sweep().o;
  const auto spec = stream::parse_spec(read_json_file(o.stream_path));
  const auto splits = data::load(spec.data.source, spec.data.root);
  harness::PretrainOptions sweep_cache, fresh_cache;
  sweep_cache.quiet = fresh_cache.quiet = true;
  sweep_cache.cache_dir = o.out_dir + "/../cache";
  fresh_cache.cache_dir = fixtures::temp_dir("seeds-fresh-cache");
  torch::set_num_threads(1);
  auto swept = harness::pretrained_model(spec, splits, sweep_cache);
  auto plain = harness::pretrained_model(spec, splits, fresh_cache);
  swept->set_training(false);
  plain->set_training(false);
  auto x = data::to_float(splits.test.images.slice(0, 0, 4));
  EXPECT_TRUE(torch::equal(swept->forward(x), plain->forward(x)));
}
