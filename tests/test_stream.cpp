#include <gtest/gtest.h>

#include <set>

#include "etuner/error.h"
#include "etuner/stream.h"
#include "fixtures.h"

using namespace etuner;

namespace {

const std::string& root() {
  static const std::string dir = fixtures::write_tiny_dataset("stream");
  return dir;
}

stream::Timeline timeline_of(const nlohmann::json& j) {
  auto spec = stream::parse_spec(j);
  return stream::build_timeline(spec, data::load(spec.data.source, spec.data.root));
}

std::string error_of(const nlohmann::json& j) {
  try {
    stream::parse_spec(j);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Spec, ParsesEveryFieldOfTheSchema) {
  auto s = stream::parse_spec(fixtures::tiny_spec(root()));
  EXPECT_EQ(s.name, "tiny");
  EXPECT_EQ(s.seed, 3u);
  EXPECT_EQ(s.model, "tiny");
  EXPECT_EQ(s.train.batch_size, 16);
  EXPECT_EQ(s.train.epochs_per_round, 2);
  ASSERT_EQ(s.scenarios.size(), 2u);
  EXPECT_EQ(s.scenarios[1].shift, "darken");
  EXPECT_EQ(s.scenarios[1].severity, 3);
}

TEST(Spec, ErrorsNameTheField) {
  auto j = fixtures::tiny_spec(root());
  j["train"]["lr"] = -1;
  EXPECT_NE(error_of(j).find("train.lr"), std::string::npos);
  j = fixtures::tiny_spec(root());
  j["train"]["learning_rate"] = 0.1;
  EXPECT_NE(error_of(j).find("learning_rate"), std::string::npos);
  j = fixtures::tiny_spec(root());
  j["scenarios"][1]["severity"] = 9;
  EXPECT_NE(error_of(j).find("scenarios[1].severity"), std::string::npos);
  j = fixtures::tiny_spec(root());
  j["protocol"]["mode"] = "later";
  EXPECT_NE(error_of(j).find("protocol.mode"), std::string::npos);
  j = fixtures::tiny_spec(root());
  j.erase("name");
  EXPECT_NE(error_of(j).find("stream.name"), std::string::npos);
}

TEST(Timeline, SameSeedSameTimeline) {
  auto a = timeline_of(fixtures::tiny_spec(root()));
  auto b = timeline_of(fixtures::tiny_spec(root()));
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.batches.size(); ++i) {
    EXPECT_TRUE(torch::equal(a.batches[i].images, b.batches[i].images));
    EXPECT_TRUE(torch::equal(a.batches[i].labels, b.batches[i].labels));
  }
  EXPECT_TRUE(torch::equal(a.requests.images, b.requests.images));
}

TEST(Timeline, AnotherSeedAnotherTimeline) {
  auto j = fixtures::tiny_spec(root());
  auto a = timeline_of(j);
  j["seed"] = 4;
  auto b = timeline_of(j);
  EXPECT_FALSE(torch::equal(a.batches[0].labels, b.batches[0].labels) &&
               torch::equal(a.batches[0].images, b.batches[0].images));
}

TEST(Timeline, EventsAreOrderedAndCounted) {
  auto tl = timeline_of(fixtures::tiny_spec(root()));
  int labeled = 0, requests = 0;
  for (size_t i = 0; i < tl.events.size(); ++i) {
    if (i) {
      EXPECT_LE(tl.events[i - 1].time_s, tl.events[i].time_s);
    }
    (tl.events[i].kind == stream::EventKind::kLabeled ? labeled : requests)++;
  }
  EXPECT_EQ(labeled, 6);
  EXPECT_EQ(requests, 30);
  EXPECT_EQ(tl.requests.images.size(0), 30);
  EXPECT_EQ(tl.spans.size(), 2u);
  EXPECT_EQ(tl.events.front().kind, stream::EventKind::kRequest);  // inputs shift before labels
}

TEST(Timeline, LabeledSamplesNeverComeFromThePretrainingSet) {
  auto spec = stream::parse_spec(fixtures::tiny_spec(root()));
  auto splits = data::load(spec.data.source, spec.data.root);
  auto pre = stream::pretrain_indices(spec, splits.train);
  EXPECT_EQ(pre.size(), 200u);
  // Every training image is unique (noise), so compare pixels.
  auto tl = stream::build_timeline(spec, splits);
  auto pre_images = data::to_float(splits.train.images.index_select(0, torch::tensor(pre)));
  const auto& clean = tl.batches[0].images;  // scenario 0 is unshifted
  for (int64_t i = 0; i < clean.size(0); ++i)
    EXPECT_FALSE((pre_images - clean[i]).abs().flatten(1).sum(1).eq(0).any().item<bool>());
}

TEST(Timeline, ScenarioClassesAreRespected) {
  auto j = fixtures::tiny_spec(root());
  j["scenarios"][0]["classes"] = {1, 2};
  j["scenarios"][0]["request_classes"] = {1, 2, 3};
  auto tl = timeline_of(j);
  for (int b = 0; b < 3; ++b) {
    auto l = tl.batches[b].labels;
    EXPECT_TRUE((l.eq(1) | l.eq(2)).all().item<bool>());
  }
  auto r = tl.requests.labels.slice(0, 0, 15);
  EXPECT_TRUE((r.eq(1) | r.eq(2) | r.eq(3)).all().item<bool>());
}

// When new classes join the requests, a scenario's first requests mix old and new classes,
// as the scenario's later ones do (not the new classes alone, left over at the front of the
// shuffled order).
TEST(Timeline, GrowingRequestClassesStayMixedFromTheFirstGap) {
  auto j = fixtures::tiny_spec(root());
  j["scenarios"][0]["request_classes"] = {0, 1};
  j["scenarios"][0]["requests_per_batch"] = 10;
  j["scenarios"][1]["request_classes"] = {0, 1, 2, 3};
  j["scenarios"][1]["requests_per_batch"] = 10;
  auto tl = timeline_of(j);
  auto first_gap = tl.requests.labels.slice(0, 30, 40);
  const int64_t old_classes = (first_gap.eq(0) | first_gap.eq(1)).sum().item<int64_t>();
  EXPECT_GE(old_classes, 2);
  EXPECT_LE(old_classes, 8);
}

TEST(Timeline, OutOfRangeClassNamesTheField) {
  auto j = fixtures::tiny_spec(root());
  j["scenarios"][1]["classes"] = {12};
  try {
    timeline_of(j);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("scenarios[1].classes"), std::string::npos);
  }
}
