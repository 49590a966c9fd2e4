// Power loss: `etuner serve` runs under the powercut shim (tests/powercut/), which keeps a
// shadow of only what the process made durable (a file's bytes at its fsync, a directory's
// names at the directory's fsync). Each cycle cuts the power at a random point: either at the
// N-th fsync (N random: startup, recovery, sample inserts, checkpoints and commits alike) or
// at a random moment under load. The data directory is then rebuilt from the shadow alone,
// which is what a power cut leaves, and must hold every acknowledged sample byte for byte, a
// committed version at least every version a client was told, and that version's checkpoint,
// loadable. The next cycle's server starts on that directory (its own recovery runs under the
// shim too) and must serve at least every version told. A kill -9 cannot find a missing
// fsync (the page cache survives the process); this can.
//
// ETUNER_POWERCUT_CYCLES (default 12, ~25 s on 2 cores) sets the number of cuts; `make
// powercut-long` runs 200. ETUNER_POWERCUT_SEED changes the random points.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "etuner/model.h"
#include "powercut/shadow.h"
#include "serve/checkpoints.h"
#include "serve/sample_store.h"
#include "serve_child.h"
#include "serve_fixtures.h"

namespace etuner::serve {
namespace {

namespace fs = std::filesystem;
using serve_test::Load;

// Cuts at a sync point pick N up to this: a run under load makes 200 to 300 fsyncs in its
// first 4 s on 2 cores (one per sample, a few per commit), so cuts land anywhere from
// startup to steady state, and a run that has not reached N by then is cut at 4 s.
constexpr long kMaxSyncs = 200;

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atol(v) : fallback;
}

struct Dirs {
  std::string root, data, check, shadow, port, log;
  explicit Dirs(const std::string& r)
      : root(r),
        data(r + "/data"),
        check(r + "/check"),
        shadow(r + "/shadow"),
        port(r + "/port"),
        log(r + "/server.log") {}
};

// What a cut left in dir: every acknowledged sample exactly as sent; a committed version at
// least every version a client was told; its checkpoint, which loads into the model.
void check_cut(const std::string& dir, Load& load) {
  const std::string db = dir + "/samples.db";
  if (!fs::exists(db)) {  // cut before the store was durable: nothing may have been told
    EXPECT_TRUE(load.acked.empty()) << "samples.db lost";
    EXPECT_EQ(load.max_version.load(), 0) << "samples.db lost";
    return;
  }
  serve_test::expect_acknowledged(db, load);
  const int committed = SampleStore(db).committed_version();
  EXPECT_GE(committed, load.max_version.load()) << "a version a client was told is lost";
  if (committed == 0) return;  // version 0 is rebuilt from the flags when its file is missing
  const auto path = checkpoint_path(dir + "/checkpoints", committed);
  ASSERT_TRUE(fs::exists(path)) << path << " (the committed checkpoint) is missing";
  auto m = model::make("tiny", {1, 12, 12, 10});
  EXPECT_NO_THROW(m->load(path)) << path << " (" << fs::file_size(path) << " bytes)";
}

serve_test::Child spawn(const Dirs& d, int cycle, long kill_at) {
  std::ofstream(d.log, std::ios::app)
      << "---- cycle " << cycle << ": cut before sync " << kill_at << " (0: at a random moment)\n";
  return serve_test::spawn_serve(
      {d.data,
       d.port,
       d.log,
       {"LD_PRELOAD=" ETUNER_POWERCUT_LIB, "ETUNER_POWERCUT_DIR=" + d.data,
        "ETUNER_POWERCUT_SHADOW=" + d.shadow, "ETUNER_POWERCUT_KILL_AT=" + std::to_string(kill_at),
        "ETUNER_POWERCUT_TRACE=1"}});
}

// Waits until the child ends by itself (a cut at its N-th fsync) or ms pass.
void run_for(serve_test::Child& c, int ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(c.pid, &c.wstatus, WNOHANG) == c.pid) {
      c.ended = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool cut(const serve_test::Child& c) {
  return WIFSIGNALED(c.wstatus) && WTERMSIG(c.wstatus) == SIGKILL;
}

TEST(ServePowerCut, AcknowledgedDataSurvivesPowerCutsAtRandomPoints) {
  const int cycles = static_cast<int>(env_or("ETUNER_POWERCUT_CYCLES", 12));
  const Dirs d(fixtures::temp_dir("serve-powercut"));
  fs::create_directories(d.data);
  const powercut::Shadow shadow{fs::canonical(d.data).string(), d.shadow};
  std::mt19937 rng(static_cast<uint32_t>(env_or("ETUNER_POWERCUT_SEED", 2026)));
  Load load;
  int at_sync = 0, before_listening = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int cycle = 0; cycle < cycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle) + " (server log: " + d.log + ")");
    fs::remove_all(d.shadow);
    powercut::sync_all(shadow);  // power on: what is on disk now is durable
    const long kill_at = cycle % 2 == 0 ? 1 + static_cast<long>(rng() % kMaxSyncs) : 0;
    auto child = spawn(d, cycle, kill_at);
    if (child.port > 0) {
      const auto st = serve_test::get_status(child.port);
      if (st.is_object()) {  // the restart serves at least every version told before the cut
        EXPECT_GE(st["model_version"].get<int>(), load.max_version.load());
        load.told(st["model_version"].get<int>());
      }
      load.start(child.port, static_cast<uint32_t>(cycle));
      run_for(child, kill_at > 0 ? 4000 : 50 + static_cast<int>(rng() % 1500));
    } else {
      ASSERT_TRUE(child.ended) << "serve did not listen within 60 s:\n"
                               << serve_test::tail_of(d.log);
      ++before_listening;
    }
    at_sync += child.ended ? 1 : 0;
    serve_test::kill_child(child);  // the power cut (a no-op after a cut at a sync point)
    load.join();
    ASSERT_TRUE(cut(child)) << "serve ended by itself (wait status " << child.wstatus << "):\n"
                            << serve_test::tail_of(d.log);
    powercut::restore(shadow, d.data);   // what the power cut leaves
    powercut::restore(shadow, d.check);  // a copy to check, so the server recovers d.data itself
    check_cut(d.check, load);
    if (HasFailure()) return;
  }
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << cycles << " power cuts (" << at_sync << " at a random fsync, " << before_listening
            << " before listening) in " << wall_s << " s: " << load.acked.size()
            << " samples acknowledged, version " << load.max_version.load() << " told\n";
  EXPECT_GT(load.acked.size(), 10u * cycles / 2);
  EXPECT_GT(load.max_version.load(), 1);

  // After the last cut, serve (without the shim) starts, serves at least every version told,
  // and stops cleanly.
  auto child = serve_test::spawn_serve({d.data, d.port, d.log, {}});
  ASSERT_GT(child.port, 0) << serve_test::tail_of(d.log);
  const auto st = serve_test::get_status(child.port);
  ASSERT_TRUE(st.is_object());
  EXPECT_GE(st["model_version"].get<int>(), load.max_version.load());
  ::kill(child.pid, SIGTERM);
  waitpid(child.pid, &child.wstatus, 0);
  EXPECT_TRUE(WIFEXITED(child.wstatus) && WEXITSTATUS(child.wstatus) == 0);
}

// A --data-dir that does not exist yet: serve makes it and its missing parents, and the cut
// must not take them back with the samples acknowledged in them (each new directory's name is
// durable only once its parent is fsynced; SQLite fsyncs only the data directory itself).
TEST(ServePowerCut, ANewNestedDataDirectorySurvivesACut) {
  const std::string root = fixtures::temp_dir("serve-powercut-newdir");
  const std::string watched = root + "/disk", data = watched + "/new/data";
  fs::create_directories(watched);
  const powercut::Shadow shadow{fs::canonical(watched).string(), root + "/shadow"};
  powercut::sync_all(shadow);  // power on: the disk holds only an empty directory
  auto child = serve_test::spawn_serve(
      {data,
       root + "/port",
       root + "/server.log",
       {"LD_PRELOAD=" ETUNER_POWERCUT_LIB, "ETUNER_POWERCUT_DIR=" + shadow.root,
        "ETUNER_POWERCUT_SHADOW=" + shadow.shadow, "ETUNER_POWERCUT_KILL_AT=0"}});
  ASSERT_GT(child.port, 0) << serve_test::tail_of(root + "/server.log");
  Load load;
  load.start(child.port, 7);
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(load.mu);
      if (load.acked.size() >= 8) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  serve_test::kill_child(child);  // the power cut
  load.join();
  ASSERT_GE(load.acked.size(), 8u) << serve_test::tail_of(root + "/server.log");
  powercut::restore(shadow, root + "/check");
  const std::string db = root + "/check/new/data/samples.db";
  ASSERT_TRUE(fs::exists(db)) << "the new data directory was lost with " << load.acked.size()
                              << " acknowledged samples";
  serve_test::expect_acknowledged(db, load);
}

}  // namespace
}  // namespace etuner::serve
