// The durable sample store of `etuner serve`: SQLite in WAL mode with synchronous=FULL.
//
//   SampleStore store(data_dir + "/samples.db");
//   int64_t id = store.add(pixels, label);     // durable when it returns (fsync'd WAL)
//   store.commit_version(7, trained_ids);       // one transaction: version 7 + what it consumed
//
// fsync discipline (docs/serve.md): every add() is its own transaction, and in WAL mode with
// synchronous=FULL SQLite fsyncs the WAL before a commit returns, so an acknowledged sample
// survives kill -9 and power loss. The committed model version and the samples it consumed
// change in one transaction, so a restart never sees one without the other.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace etuner::serve {

struct StoredSample {
  int64_t id = 0;
  int64_t label = 0;
  std::vector<float> pixels;
};

struct StoreCounts {
  int64_t stored = 0;
  int64_t untrained = 0;  // not consumed by a committed version (nor quarantined)
};

class SampleStore {
 public:
  // Opens or creates the database; throws IoError naming the path.
  explicit SampleStore(const std::string& path);

  int64_t add(const std::vector<float>& pixels, int64_t label);
  // Samples no committed version consumed, oldest first: a restart re-queues them.
  std::vector<StoredSample> untrained();
  // Up to n most recently consumed samples (to seed the replay buffer after a restart).
  std::vector<StoredSample> recent_trained(int n);
  // The new committed version and the samples it consumed, in one transaction.
  void commit_version(int version, const std::vector<int64_t>& consumed);
  // Samples of a discarded (NaN/inf) round: never re-queued.
  void quarantine(const std::vector<int64_t>& ids);
  int committed_version();
  StoreCounts counts();

  std::string meta(const std::string& key, const std::string& fallback = "");
  void set_meta(const std::string& key, const std::string& value);

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  void exec(const std::string& sql);
  void mark(const std::vector<int64_t>& ids, int64_t value);
  std::vector<StoredSample> select(const std::string& sql, int limit);

  std::string path_;
  std::mutex mu_;  // one connection; SQLite transactions must not interleave on it
  std::unique_ptr<sqlite3, Close> db_;
};

}  // namespace etuner::serve
