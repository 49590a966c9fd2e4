// A bench smoke run on tiny data: the results files and their schema, determinism, the cache.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "etuner/error.h"
#include "etuner/fields.h"
#include "etuner/harness.h"
#include "fixtures.h"
#include "harness/progress.h"

using namespace etuner;

namespace {

struct Run {
  std::string dir;
  nlohmann::json results;
};

Run bench(const std::string& name, const nlohmann::json& spec, const std::string& policies_csv) {
  const auto dir = fixtures::temp_dir(name);
  write_json_file(dir + "/spec.json", spec);
  harness::BenchOptions o;
  o.stream_path = dir + "/spec.json";
  o.out_dir = dir + "/out";
  o.quiet = true;
  o.threads = 1;
  o.policies.clear();
  std::stringstream in(policies_csv);
  for (std::string p; std::getline(in, p, ',');) o.policies.push_back(p);
  setenv("ETUNER_CACHE", (dir + "/cache").c_str(), 1);
  return {o.out_dir, harness::run_bench(o)};
}

const std::string& root() {
  static const std::string dir = fixtures::write_tiny_dataset("harness");
  return dir;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

size_t lines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

}  // namespace

TEST(Bench, WritesTheResultsSchemaForEveryPolicy) {
  auto r = bench("bench-schema", fixtures::tiny_spec(root()), "immediate,never");
  const auto& j = r.results;
  for (const char* k : {"stream", "model", "protocol", "device_profile", "machine", "spec",
                        "scenarios", "command", "etuner_version", "git", "num_blocks"})
    EXPECT_TRUE(j.contains(k)) << k;
  for (const char* p : {"immediate", "never"}) {
    const auto& s = j["policies"][p];
    for (const char* k :
         {"avg_inference_accuracy", "per_scenario_accuracy", "finetune_seconds",
          "modeled_finetune_seconds", "modeled_finetune_energy_joules", "finetune_energy_joules",
          "energy_source", "rounds", "samples_trained", "train_flops", "peak_rss_mb",
          "inference_energy_joules", "idle_energy_joules"})
      EXPECT_TRUE(s.contains(k)) << p << "." << k;
    EXPECT_EQ(s["per_scenario_accuracy"].size(), 2u);
    EXPECT_EQ(s["energy_source"], "modeled");
  }
  EXPECT_EQ(j["policies"]["immediate"]["rounds"], 6);
  EXPECT_EQ(j["policies"]["never"]["rounds"], 0);
  EXPECT_EQ(j["policies"]["never"]["finetune_seconds"], 0.0);
  // Requests of gap j come before batch j: never lags 16 x j samples there, mean 16 x 2.5;
  // immediate (instant protocol) has trained every batch before the next gap.
  EXPECT_EQ(j["policies"]["never"]["mean_lag_samples"], 40.0);
  EXPECT_EQ(j["policies"]["immediate"]["mean_lag_samples"], 0.0);
  // samples = (16 fresh + 16 replay) x 2 epochs x 6 rounds
  EXPECT_EQ(j["policies"]["immediate"]["samples_trained"], 384);
  EXPECT_EQ(lines(r.dir + "/requests.csv"), 1u + 2 * 30);
  EXPECT_EQ(lines(r.dir + "/rounds.csv"), 1u + 6);
  EXPECT_FALSE(std::filesystem::exists(r.dir + "/checkpoints"));  // bench writes none
}

// Two runs of one spec answer every request identically: every line of requests.csv,
// including its length (a run that stopped early differs).
TEST(Bench, SameSpecSameAnswers) {
  auto a = bench("bench-det-a", fixtures::tiny_spec(root()), "immediate");
  auto b = bench("bench-det-b", fixtures::tiny_spec(root()), "immediate");
  EXPECT_EQ(a.results["policies"]["immediate"]["avg_inference_accuracy"],
            b.results["policies"]["immediate"]["avg_inference_accuracy"]);
  const auto la = read_lines(a.dir + "/requests.csv"), lb = read_lines(b.dir + "/requests.csv");
  EXPECT_EQ(la.size(), 1u + 30);  // header and the 30 requests
  EXPECT_EQ(la, lb);
}

// Under realtime a round holds the device for its modeled time: with labeled batches every
// 10 ms, requests arrive while rounds train and are answered by an older version, so answers
// lag the labels; under instant, immediate has trained every batch before the next request.
TEST(Bench, RealtimeProtocolRecordsStaleAnswers) {
  auto spec = fixtures::tiny_spec(root());
  spec["protocol"]["mode"] = "realtime";
  spec["protocol"]["batch_interval_s"] = 0.01;  // rounds take longer than the gap
  auto rt = bench("bench-rt", spec, "immediate");
  EXPECT_EQ(rt.results["protocol"], "realtime");
  EXPECT_GT(rt.results["policies"]["immediate"]["mean_lag_samples"].get<double>(), 0);
  spec["protocol"]["mode"] = "instant";
  auto in = bench("bench-rt-instant", spec, "immediate");
  EXPECT_EQ(in.results["policies"]["immediate"]["mean_lag_samples"].get<double>(), 0);
}

TEST(Bench, UnknownPolicyFailsBeforeAnyWork) {
  EXPECT_THROW(bench("bench-bad", fixtures::tiny_spec(root()), "immediate,nope"), ConfigError);
}

TEST(Bench, MissingDataNamesThePath) {
  auto spec = fixtures::tiny_spec("/nonexistent/fmnist");
  try {
    bench("bench-nodata", spec, "never");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fmnist"), std::string::npos);
  }
}

TEST(Pretrain, IsCachedByContent) {
  const auto dir = fixtures::temp_dir("pretrain-cache");
  auto spec = stream::parse_spec(fixtures::tiny_spec(root()));
  auto splits = data::load(spec.data.source, spec.data.root);
  harness::PretrainOptions o;
  o.cache_dir = dir;
  o.quiet = true;
  const auto path = harness::pretrain_cache_path(spec, splits, o);
  EXPECT_FALSE(std::filesystem::exists(path));
  auto a = harness::pretrained_model(spec, splits, o);
  EXPECT_TRUE(std::filesystem::exists(path));
  auto b = harness::pretrained_model(spec, splits, o);
  auto x = data::to_float(splits.test.images.slice(0, 0, 4));
  a->set_training(false);
  b->set_training(false);
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
  auto other = fixtures::tiny_spec(root());
  other["pretrain"]["epochs"] = 3;
  EXPECT_NE(harness::pretrain_cache_path(stream::parse_spec(other), splits, o), path);
}

// GPU-pretrained weights differ from CPU ones: a CPU run must never load them.
TEST(Pretrain, CacheIsPerDeviceType) {
  auto spec = stream::parse_spec(fixtures::tiny_spec(root()));
  auto splits = data::load(spec.data.source, spec.data.root);
  harness::PretrainOptions cpu;
  cpu.cache_dir = "/cache";
  auto cuda = cpu;
  cuda.device = "cuda";
  EXPECT_NE(harness::pretrain_cache_path(spec, splits, cpu),
            harness::pretrain_cache_path(spec, splits, cuda));
}

TEST(Progress, LineHasRateAndEta) {
  EXPECT_EQ(harness::progress_text("immediate", "events", 50, 200, 4.0),
            "immediate: 50/200 events, 12.5 events/s, ETA 12 s");
  EXPECT_EQ(harness::progress_text("never", "events", 200, 200, 4.0),
            "never: 200/200 events, 50.0 events/s");
  EXPECT_EQ(harness::progress_text("pretrain", "epochs", 0, 15, 0.0), "pretrain: 0/15 epochs");
  EXPECT_EQ(harness::progress_text("p", "events", 10, 1000, 10.0),
            "p: 10/1000 events, 1.0 events/s, ETA 16.5 min");
  EXPECT_EQ(harness::progress_text("p", "events", 1, 10000, 1.0),
            "p: 1/10000 events, 1.0 events/s, ETA 2.8 h");
}
