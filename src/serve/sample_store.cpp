#include "serve/sample_store.h"

#include <algorithm>
#include <cstring>

#include "etuner/error.h"

namespace etuner::serve {
namespace {

constexpr int64_t kQuarantined = -1;  // trained_in of samples that broke a round

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS samples(
  id INTEGER PRIMARY KEY,
  label INTEGER NOT NULL,
  pixels BLOB NOT NULL,
  trained_in INTEGER);            -- NULL: untrained; >0 the version that consumed it; -1 quarantined
CREATE INDEX IF NOT EXISTS samples_trained_in ON samples(trained_in);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

struct Finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, Finalize>;

Stmt prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
    throw IoError(std::string("sample store: ") + sqlite3_errmsg(db));
  return Stmt(s);
}

void step_done(sqlite3* db, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE)
    throw IoError(std::string("sample store: ") + sqlite3_errmsg(db));
}

StoredSample read_row(sqlite3_stmt* s) {
  StoredSample r;
  r.id = sqlite3_column_int64(s, 0);
  r.label = sqlite3_column_int64(s, 1);
  const auto* blob = static_cast<const char*>(sqlite3_column_blob(s, 2));
  r.pixels.resize(static_cast<size_t>(sqlite3_column_bytes(s, 2)) / sizeof(float));
  if (!r.pixels.empty()) std::memcpy(r.pixels.data(), blob, r.pixels.size() * sizeof(float));
  return r;
}

}  // namespace

SampleStore::SampleStore(const std::string& path, StoreLimits limits)
    : path_(path), limits_(limits) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(db);
  if (rc != SQLITE_OK)
    throw IoError("cannot open sample store '" + path + "': " + sqlite3_errstr(rc));
  sqlite3_busy_timeout(db, 5000);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");  // WAL fsync'd on every commit: acknowledged = durable
  exec(kSchema);
  // Past max_page_count pages SQLite answers SQLITE_FULL, as on a full disk (per connection).
  auto page = prepare(db_.get(), "PRAGMA page_size");
  const int64_t page_size = sqlite3_step(page.get()) == SQLITE_ROW
                                ? std::max<int64_t>(512, sqlite3_column_int64(page.get(), 0))
                                : 4096;
  exec("PRAGMA max_page_count = " +
       std::to_string(std::max<int64_t>(1, limits_.max_bytes / page_size)));
  rows_ = counts().stored;
}

void SampleStore::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw IoError("sample store '" + path_ + "': " + msg);
  }
}

int64_t SampleStore::add(const std::vector<float>& pixels, int64_t label) {
  std::lock_guard<std::mutex> lock(mu_);
  if (rows_ >= limits_.max_samples)
    throw StoreRefused("sample_limit", "the store holds " + std::to_string(rows_) +
                                           " samples, its limit (--max-stored-samples)");
  auto s = prepare(db_.get(), "INSERT INTO samples(label, pixels) VALUES(?, ?)");
  sqlite3_bind_int64(s.get(), 1, label);
  sqlite3_bind_blob(s.get(), 2, pixels.data(), static_cast<int>(pixels.size() * sizeof(float)),
                    SQLITE_STATIC);
  const int rc = sqlite3_step(s.get());  // autocommit: returns after the WAL fsync
  if (rc == SQLITE_FULL)
    throw StoreRefused("storage_full", "sample store full (disk or --max-store-mb): " +
                                           std::string(sqlite3_errmsg(db_.get())));
  if (rc != SQLITE_DONE)
    throw StoreRefused("storage_error",
                       "sample store cannot write: " + std::string(sqlite3_errmsg(db_.get())));
  ++rows_;
  return sqlite3_last_insert_rowid(db_.get());
}

std::vector<StoredSample> SampleStore::select(const std::string& sql, std::vector<int64_t> binds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = prepare(db_.get(), sql);
  for (size_t i = 0; i < binds.size(); ++i)
    sqlite3_bind_int64(s.get(), static_cast<int>(i + 1), binds[i]);
  std::vector<StoredSample> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(read_row(s.get()));
  if (rc != SQLITE_DONE) throw IoError(std::string("sample store: ") + sqlite3_errmsg(db_.get()));
  return out;
}

std::vector<StoredSample> SampleStore::untrained() {
  return select(
      "SELECT id, label, pixels FROM samples WHERE trained_in IS NULL ORDER BY id LIMIT ?", {-1});
}

std::vector<StoredSample> SampleStore::untrained_after(int64_t after, int64_t limit) {
  return select(
      "SELECT id, label, pixels FROM samples WHERE trained_in IS NULL AND id > ? ORDER BY id "
      "LIMIT ?",
      {after, limit});
}

std::vector<StoredSample> SampleStore::recent_trained(int n) {
  return select(
      "SELECT id, label, pixels FROM samples WHERE trained_in > 0 ORDER BY id DESC LIMIT ?", {n});
}

// Callers hold mu_ inside a transaction.
void SampleStore::mark(const std::vector<int64_t>& ids, int64_t value) {
  auto s = prepare(db_.get(), "UPDATE samples SET trained_in = ? WHERE id = ?");
  for (int64_t id : ids) {
    sqlite3_bind_int64(s.get(), 1, value);
    sqlite3_bind_int64(s.get(), 2, id);
    step_done(db_.get(), s.get());
    sqlite3_reset(s.get());
  }
}

void SampleStore::commit_version(int version, const std::vector<int64_t>& consumed) {
  std::lock_guard<std::mutex> lock(mu_);
  exec("BEGIN IMMEDIATE");
  try {
    mark(consumed, version);
    exec("INSERT INTO meta(key, value) VALUES('version', '" + std::to_string(version) +
         "') ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void SampleStore::quarantine(const std::vector<int64_t>& ids) {
  std::lock_guard<std::mutex> lock(mu_);
  exec("BEGIN IMMEDIATE");
  try {
    mark(ids, kQuarantined);
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

int SampleStore::committed_version() { return std::stoi(meta("version", "0")); }

StoreCounts SampleStore::counts() {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = prepare(db_.get(), "SELECT COUNT(*), COALESCE(SUM(trained_in IS NULL), 0) FROM samples");
  if (sqlite3_step(s.get()) != SQLITE_ROW)
    throw IoError(std::string("sample store: ") + sqlite3_errmsg(db_.get()));
  return {sqlite3_column_int64(s.get(), 0), sqlite3_column_int64(s.get(), 1)};
}

std::string SampleStore::meta(const std::string& key, const std::string& fallback) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = prepare(db_.get(), "SELECT value FROM meta WHERE key = ?");
  sqlite3_bind_text(s.get(), 1, key.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return fallback;
  return reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
}

void SampleStore::set_meta(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = prepare(db_.get(),
                   "INSERT INTO meta(key, value) VALUES(?, ?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  sqlite3_bind_text(s.get(), 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.get(), 2, value.c_str(), -1, SQLITE_TRANSIENT);
  step_done(db_.get(), s.get());
}

}  // namespace etuner::serve
