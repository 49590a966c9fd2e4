// Crash safety: the real `etuner serve` is killed with SIGKILL at random moments while
// samples stream in and rounds run, then restarted on the same data directory. Every
// acknowledged sample must be in the store with its label and the exact bytes of its pixels
// (each pixel a different random value, so a moved byte shows too), and the committed
// version must be at least every version a client was ever answered by. The last run ends
// with SIGTERM, which must exit 0 after committing. (Samples arrive faster than `immediate`
// rounds consume them, one batch each, so a backlog stays pending: that is expected.)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "serve/checkpoints.h"
#include "serve/sample_store.h"
#include "serve_child.h"
#include "serve_fixtures.h"

namespace etuner::serve {
namespace {

using nlohmann::json;
using serve_test::Load;
constexpr int kKills = 10;

serve_test::Child spawn(const std::string& dir) {
  return serve_test::spawn_serve({dir, dir + "/port", dir + "/server.log", {}});
}

// With the server dead: the store holds every acknowledged sample exactly as sent (label and
// every byte of its pixels), and the committed version (with its checkpoint) is at least any
// version a client saw.
void check_store(const std::string& dir, Load& load) {
  serve_test::expect_acknowledged(dir + "/samples.db", load);
  const int committed = SampleStore(dir + "/samples.db").committed_version();
  EXPECT_GE(committed, load.max_version.load());
  EXPECT_TRUE(std::filesystem::exists(checkpoint_path(dir + "/checkpoints", committed)));
}

json status(int port) { return serve_test::get_status(port); }

TEST(ServeCrash, KillNineAtRandomMomentsLosesNothing) {
  const auto dir = fixtures::temp_dir("serve-crash");
  std::mt19937 rng(12345);
  Load load;
  int committed_seen = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    const auto child = spawn(dir);
    ASSERT_GT(child.port, 0) << "server did not start; see " << dir << "/server.log";
    const auto st = status(child.port);  // a restart resumes from the last committed version
    ASSERT_TRUE(st.is_object());
    EXPECT_GE(st["model_version"].get<int>(), committed_seen);
    EXPECT_EQ(st["samples_stored"].get<size_t>() >= load.acked.size(), true);
    load.start(child.port, static_cast<uint32_t>(kill));
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 900));
    ::kill(child.pid, SIGKILL);
    int wstatus = 0;
    waitpid(child.pid, &wstatus, 0);
    load.join();
    check_store(dir, load);
    committed_seen = SampleStore(dir + "/samples.db").committed_version();
  }
  std::cout << kKills << " kills: " << load.acked.size() << " samples acknowledged, version "
            << committed_seen << " committed\n";
  EXPECT_GT(load.acked.size(), 50u);
  EXPECT_GT(committed_seen, 1);

  // A last run resumes, commits at least one more version, then stops gracefully on SIGTERM
  // (exit 0, the store consistent and at least as new as any answer it gave).
  const auto child = spawn(dir);
  ASSERT_GT(child.port, 0);
  json st;
  for (int i = 0; i < 600; ++i) {
    st = status(child.port);
    if (st.is_object() && st["model_version"].get<int>() > committed_seen) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(st["model_version"].get<int>(), committed_seen);
  ::kill(child.pid, SIGTERM);
  int wstatus = 0;
  waitpid(child.pid, &wstatus, 0);
  EXPECT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  load.max_version = st["model_version"].get<int>();
  check_store(dir, load);
}

// One owner per data directory: a second `etuner serve` on it exits 2 naming the first's pid
// (before it touches anything there), and the first keeps serving.
TEST(ServeCrash, SecondServerOnTheSameDataDirExits2) {
  const auto dir = fixtures::temp_dir("serve-lock");
  const auto first = spawn(dir);
  ASSERT_GT(first.port, 0) << "server did not start; see " << dir << "/server.log";
  const std::string log = dir + "/second.log";
  const pid_t second = fork();
  if (second == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    execl(ETUNER_EXE, ETUNER_EXE, "serve", "--model", "tiny", "--classes", "10", "--input",
          "1x12x12", "--data-dir", dir.c_str(), "--port", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  int wstatus = 0;
  waitpid(second, &wstatus, 0);
  EXPECT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 2);
  std::ifstream in(log);
  const std::string message((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(message.find("pid " + std::to_string(first.pid)), std::string::npos) << message;
  EXPECT_TRUE(status(first.port).is_object());  // the first one still answers
  ::kill(first.pid, SIGTERM);
  waitpid(first.pid, &wstatus, 0);
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

}  // namespace
}  // namespace etuner::serve
