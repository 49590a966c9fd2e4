// Crash safety: the real `etuner serve` is killed with SIGKILL at random moments while
// samples stream in and rounds run, then restarted on the same data directory. Every
// acknowledged sample must be in the store with its label and pixels, and the committed
// version must be at least every version a client was ever answered by. The last run ends
// with SIGTERM, which must exit 0 after committing. (Samples arrive faster than `immediate`
// rounds consume them, one batch each, so a backlog stays pending: that is expected.)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "serve/checkpoints.h"
#include "serve/sample_store.h"
#include "serve_fixtures.h"

namespace etuner::serve {
namespace {

using nlohmann::json;
constexpr int kKills = 10;

struct Child {
  pid_t pid = -1;
  int port = 0;
};

Child spawn(const std::string& dir) {
  const std::string port_file = dir + "/port";
  std::filesystem::remove(port_file);
  const pid_t pid = fork();
  if (pid == 0) {
    const int log = ::open((dir + "/server.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(log, 1);
    dup2(log, 2);
    execl(ETUNER_EXE, ETUNER_EXE, "serve", "--model", "tiny", "--classes", "10", "--input",
          "1x12x12", "--policies", "immediate", "--data-dir", dir.c_str(), "--port", "0",
          "--port-file", port_file.c_str(), "--batch-samples", "4", "--batch-wait", "0.05",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 600 && !std::filesystem::exists(port_file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int port = 0;
  std::ifstream(port_file) >> port;
  return {pid, port};
}

struct Acked {
  int64_t label;
  float value;
};

// Clients of one run: two post samples, one predicts; all stop once the server is gone.
struct Load {
  std::mutex mu;
  std::map<int64_t, Acked> acked;
  std::atomic<int> max_version{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;

  void start(int port, uint32_t seed) {
    for (int t = 0; t < 2; ++t)
      threads.emplace_back([this, port, seed, t] { post_samples(port, seed * 2 + t); });
    threads.emplace_back([this, port] { predict(port); });
  }
  void post_samples(int port, uint32_t seed) {
    httplib::Client c("127.0.0.1", port);
    std::mt19937 rng(seed);
    while (!stop) {
      const int label = static_cast<int>(rng() % 10);
      const float value = static_cast<float>(rng() % 1000) / 1000.0f;
      const auto body = json{{"tensor", std::vector<float>(144, value)}, {"label", label}}.dump();
      auto r = c.Post("/v1/samples", body, "application/json");
      if (!r) return;  // the server died
      if (r->status != 202) continue;
      std::lock_guard<std::mutex> lock(mu);
      acked[json::parse(r->body)["sample_id"].get<int64_t>()] = {label, value};
    }
  }
  void predict(int port) {
    httplib::Client c("127.0.0.1", port);
    while (!stop) {
      auto r = c.Post("/v1/predict", json{{"tensor", std::vector<float>(144, 0.5f)}}.dump(),
                      "application/json");
      if (!r) return;
      if (r->status == 200)
        max_version =
            std::max(max_version.load(), json::parse(r->body)["model_version"].get<int>());
    }
  }
  void join() {
    stop = true;
    for (auto& t : threads) t.join();
    threads.clear();
    stop = false;
  }
};

// With the server dead: the store holds every acknowledged sample exactly as sent, and the
// committed version (with its checkpoint) is at least any version a client saw.
void check_store(const std::string& dir, Load& load) {
  SampleStore store(dir + "/samples.db");
  std::map<int64_t, StoredSample> by_id;
  for (auto& s : store.untrained()) by_id[s.id] = s;
  for (auto& s : store.recent_trained(1 << 30)) by_id[s.id] = s;
  for (const auto& [id, a] : load.acked) {
    auto it = by_id.find(id);
    ASSERT_NE(it, by_id.end()) << "acknowledged sample " << id << " lost";
    EXPECT_EQ(it->second.label, a.label);
    const std::vector<float> sent(144, a.value);  // every byte, not one pixel
    ASSERT_EQ(it->second.pixels.size(), sent.size());
    EXPECT_EQ(std::memcmp(it->second.pixels.data(), sent.data(), sent.size() * sizeof(float)), 0)
        << "sample " << id << " changed";
  }
  const int committed = store.committed_version();
  EXPECT_GE(committed, load.max_version.load());
  EXPECT_TRUE(std::filesystem::exists(checkpoint_path(dir + "/checkpoints", committed)));
}

json status(int port) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get("/v1/status");
  return r ? json::parse(r->body) : json();
}

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
