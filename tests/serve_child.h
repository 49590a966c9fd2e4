// For the tests that run the real `etuner serve` (crash, power loss): start it, wait for its
// port, load it with clients that remember every acknowledgement, and check a data directory
// against those acknowledgements.
//
//   Load load;
//   auto child = spawn_serve({dir, dir + "/port", dir + "/server.log"});
//   load.start(child.port, seed);  ...  ::kill(child.pid, SIGKILL);  load.join();
//   expect_acknowledged(dir + "/samples.db", load);   // every sample, every byte
#pragma once
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace etuner::serve_test {

using nlohmann::json;
constexpr int kPixels = 144;  // --input 1x12x12

struct Child {
  pid_t pid = -1;
  int port = 0;     // 0: it ended before listening (see wstatus)
  int wstatus = 0;  // set when it ended
  bool ended = false;
};

struct SpawnOptions {
  std::string data_dir, port_file, log;
  std::vector<std::string> env;  // NAME=value: added to (or replacing) this process's
};

// Starts `etuner serve` (tiny model, 1x12x12, immediate, 4-sample batches) and waits until
// it writes its port or ends (up to 60 s).
inline Child spawn_serve(const SpawnOptions& o) {
  std::filesystem::remove(o.port_file);
  std::vector<std::string> env(o.env);
  auto overridden = [&o](const std::string& e) {
    for (const auto& mine : o.env)
      if (e.compare(0, mine.find('=') + 1, mine, 0, mine.find('=') + 1) == 0) return true;
    return false;
  };
  for (char** e = environ; *e; ++e)
    if (!overridden(*e)) env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const char* argv[] = {ETUNER_EXE,
                        "serve",
                        "--model",
                        "tiny",
                        "--classes",
                        "10",
                        "--input",
                        "1x12x12",
                        "--policies",
                        "immediate",
                        "--data-dir",
                        o.data_dir.c_str(),
                        "--port",
                        "0",
                        "--port-file",
                        o.port_file.c_str(),
                        "--batch-samples",
                        "4",
                        "--batch-wait",
                        "0.05",
                        nullptr};
  const pid_t pid = fork();
  if (pid == 0) {
    const int log = ::open(o.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(log, 1);
    dup2(log, 2);
    execve(ETUNER_EXE, const_cast<char**>(argv), envp.data());
    _exit(127);
  }
  Child c{pid};
  for (int i = 0; i < 1200 && c.port == 0; ++i) {
    std::ifstream(o.port_file) >> c.port;  // renamed into place: never a partial number
    if (c.port == 0 && waitpid(pid, &c.wstatus, WNOHANG) == pid) {
      c.ended = true;
      break;
    }
    if (c.port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return c;
}

// Kills (SIGKILL) and reaps a child unless it already ended.
inline void kill_child(Child& c) {
  if (c.ended) return;
  ::kill(c.pid, SIGKILL);
  waitpid(c.pid, &c.wstatus, 0);
  c.ended = true;
}

inline std::string tail_of(const std::string& path, size_t bytes = 2000) {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

inline json get_status(int port) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get("/v1/status");
  return r && r->status == 200 ? json::parse(r->body) : json();
}

struct Acked {
  int64_t label;
  std::vector<float> pixels;  // every value distinct: a moved or mixed-up byte shows
};

// Clients of one run: two post samples, one predicts; all stop once the server is gone.
// Acknowledgements (sample ids, versions answered) accumulate over runs.
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
  void told(int version) {
    int seen = max_version.load();
    while (version > seen && !max_version.compare_exchange_weak(seen, version)) {
    }
  }
  void post_samples(int port, uint32_t seed) {
    httplib::Client c("127.0.0.1", port);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
    while (!stop) {
      Acked a{static_cast<int64_t>(rng() % 10), std::vector<float>(kPixels)};
      for (auto& v : a.pixels) v = pixel(rng);
      auto r = c.Post("/v1/samples", json{{"tensor", a.pixels}, {"label", a.label}}.dump(),
                      "application/json");
      if (!r) return;  // the server died
      if (r->status != 202) continue;
      const auto id = json::parse(r->body)["sample_id"].get<int64_t>();
      std::lock_guard<std::mutex> lock(mu);
      acked[id] = std::move(a);
    }
  }
  void predict(int port) {
    httplib::Client c("127.0.0.1", port);
    while (!stop) {
      auto r = c.Post("/v1/predict", json{{"tensor", std::vector<float>(kPixels, 0.5f)}}.dump(),
                      "application/json");
      if (!r) return;
      if (r->status == 200) told(json::parse(r->body)["model_version"].get<int>());
    }
  }
  void join() {
    stop = true;
    for (auto& t : threads) t.join();
    threads.clear();
    stop = false;
  }
};

// Every acknowledged sample is in the database with its label and the exact bytes of its
// pixels (read with SQLite directly: quarantined samples count too). The server is not running.
inline void expect_acknowledged(const std::string& db_path, Load& load) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK)
      << db_path;
  std::map<int64_t, std::pair<int64_t, std::string>> rows;
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v2(db, "SELECT id, label, pixels FROM samples", -1, &s, nullptr);
  while (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    const auto* blob = static_cast<const char*>(sqlite3_column_blob(s, 2));
    rows[sqlite3_column_int64(s, 0)] = {
        sqlite3_column_int64(s, 1),
        std::string(blob, static_cast<size_t>(sqlite3_column_bytes(s, 2)))};
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  ASSERT_TRUE(rc == SQLITE_OK || load.acked.empty())
      << "no samples table in " << db_path << " (" << load.acked.size() << " samples acknowledged)";
  size_t lost = 0, changed = 0;
  for (const auto& [id, a] : load.acked) {
    auto it = rows.find(id);
    if (it == rows.end()) {
      if (lost++ == 0) ADD_FAILURE() << "acknowledged sample " << id << " lost";
      continue;
    }
    const std::string sent(reinterpret_cast<const char*>(a.pixels.data()),
                           a.pixels.size() * sizeof(float));
    if (it->second.first != a.label || it->second.second != sent)
      if (changed++ == 0) ADD_FAILURE() << "sample " << id << " changed (label or pixel bytes)";
  }
  EXPECT_EQ(lost, 0u) << "of " << load.acked.size() << " acknowledged samples";
  EXPECT_EQ(changed, 0u) << "of " << load.acked.size() << " acknowledged samples";
}

}  // namespace etuner::serve_test
