// The durable sample store and the versioned checkpoints.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "etuner/model.h"
#include "serve/checkpoints.h"
#include "serve/sample_store.h"
#include "serve_fixtures.h"

namespace etuner::serve {
namespace {

TEST(ServeStore, SamplesSurviveReopenAndCommitsMarkThem) {
  const auto dir = fixtures::temp_dir("serve-store");
  const std::string path = dir + "/samples.db";
  std::vector<int64_t> ids;
  {
    SampleStore s(path);
    EXPECT_EQ(s.committed_version(), 0);
    for (int i = 0; i < 5; ++i) ids.push_back(s.add(std::vector<float>(4, i * 0.5f), i));
    s.commit_version(1, {ids[0], ids[1]});
    s.quarantine({ids[2]});
  }
  SampleStore s(path);
  EXPECT_EQ(s.committed_version(), 1);
  const auto c = s.counts();
  EXPECT_EQ(c.stored, 5);
  EXPECT_EQ(c.untrained, 2);
  const auto left = s.untrained();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].id, ids[3]);
  EXPECT_EQ(left[0].label, 3);
  EXPECT_FLOAT_EQ(left[1].pixels[3], 2.0f);
  const auto chunk = s.untrained_after(ids[3], 5);  // the backlog, in chunks
  ASSERT_EQ(chunk.size(), 1u);
  EXPECT_EQ(chunk[0].id, ids[4]);
  EXPECT_EQ(s.untrained_after(0, 1).size(), 1u);
  EXPECT_EQ(s.untrained_after(0, 1)[0].id, ids[3]);
  const auto trained = s.recent_trained(10);
  ASSERT_EQ(trained.size(), 2u);
  EXPECT_EQ(trained[0].id, ids[1]);  // newest first
}

TEST(ServeStore, WalModeWithFullSync) {
  const auto dir = fixtures::temp_dir("serve-wal");
  SampleStore s(dir + "/samples.db");
  s.add({1.0f}, 0);
  EXPECT_TRUE(std::filesystem::exists(dir + "/samples.db-wal"));
}

TEST(ServeStore, MetaRoundTrips) {
  const auto dir = fixtures::temp_dir("serve-meta");
  SampleStore s(dir + "/samples.db");
  EXPECT_EQ(s.meta("identity", "none"), "none");
  s.set_meta("identity", "x");
  s.set_meta("identity", "y");
  EXPECT_EQ(s.meta("identity"), "y");
}

TEST(ServeStore, CheckpointsAreVersionedAndPruned) {
  const auto dir = fixtures::temp_dir("serve-ckpt");
  auto m = model::make("tiny", {1, 12, 12, 10});
  write_checkpoint(dir, *m, 1);
  write_checkpoint(dir, *m, 2);
  std::ofstream(dir + "/v3.pt.part") << "torn";  // a crash mid-write
  prune_checkpoints(dir, 2);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"v2.pt"});
  auto back = model::make("tiny", {1, 12, 12, 10});
  back->load(checkpoint_path(dir, 2));
}

}  // namespace
}  // namespace etuner::serve
