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

#include "etuner/error.h"

namespace etuner::serve {

// A sample the store could not make durable, so it was not stored: the disk or the database
// is full (SQLITE_FULL, max_bytes), an I/O error, or max_samples are stored. HTTP 507.
class StoreRefused : public IoError {
 public:
  StoreRefused(std::string code, const std::string& message)
      : IoError(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

struct StoreLimits {
  int64_t max_samples = 100000;
  int64_t max_bytes = int64_t(1) << 30;  // the database file (the WAL comes on top)
};

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
  explicit SampleStore(const std::string& path, StoreLimits limits = {});

  // Durable when it returns; throws StoreRefused when the sample was not stored.
  int64_t add(const std::vector<float>& pixels, int64_t label);
  // Samples no committed version consumed, oldest first: a restart re-queues them.
  std::vector<StoredSample> untrained();
  // At most `limit` of them with an id above `after`, oldest first: the backlog in chunks.
  std::vector<StoredSample> untrained_after(int64_t after, int64_t limit);
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
  std::vector<StoredSample> select(const std::string& sql, std::vector<int64_t> binds);

  std::string path_;
  StoreLimits limits_;
  int64_t rows_ = 0;  // samples stored (under mu_), checked against limits_.max_samples
  std::mutex mu_;     // one connection; SQLite transactions must not interleave on it
  std::unique_ptr<sqlite3, Close> db_;
};

}  // namespace etuner::serve
