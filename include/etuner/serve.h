// etuner serve: a long-lived service that answers inference requests at once and fine-tunes
// in the background under the chosen policy. docs/serve.md documents the API, every flag,
// the error codes and the durability rules.
//
//   etuner::serve::ServeConfig cfg;
//   cfg.model = "tiny"; cfg.classes = 10; cfg.channels = 1; cfg.height = cfg.width = 28;
//   cfg.data_dir = "/var/lib/etuner";
//   etuner::serve::Server server(cfg);   // restores the last committed version and samples
//   int port = server.start();           // HTTP on cfg.host:cfg.port (0 = any free port)
//   ...
//   server.stop();                       // graceful: finish the round, commit, return
//
// Threads: HTTP handler threads decode requests, predict with the published (immutable)
// model snapshot and store samples; one trainer thread owns the Runtime, runs rounds on its
// working copy and publishes each committed version by swapping the snapshot pointer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace etuner::serve {

struct ServeConfig {
  // The model: a zoo name or a TorchScript file. With stream_spec, the spec's pretrained
  // model, label space, input shape and training settings are used instead.
  std::string model = "tiny";
  std::string stream_spec;  // "" = none: classes and the input shape below define the task
  std::string data_root;    // overrides the spec's data.root
  int classes = 0;
  int channels = 3;
  int height = 32;
  int width = 32;
  std::string policy = "etuner";
  // Policy parameters per scheduler/freezer as JSON text, as `etuner bench --params`
  // ('{"lazytune": {"max_merge": 8}}'); "" or "{}" = the preset's defaults.
  std::string policy_params;
  std::string device = "cpu";  // or "cuda" (DeviceError when LibTorch sees no CUDA device)
  std::string device_profile = "cpu-2core";  // modeled joules where nothing is measured
  uint64_t seed = 1;

  std::string data_dir;  // everything that must survive a restart: samples.db, checkpoints/,
                         // LOCK (one server per directory)
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port (Server::start returns it)

  int torch_threads = 1;                // LibTorch intra-op threads (inference and training)
  int trainer_nice = 10;                // added to the trainer thread's nice value: rounds yield
  bool trainer_idle = false;            // SCHED_IDLE trainer: rounds use only otherwise idle CPU
  int max_inflight = 8;                 // concurrent predict/sample requests; more get 503
  size_t max_body_bytes = 4u << 20;     // larger bodies (decompressed, however sent) get 413
  int max_connections = 128;            // connections served at once (one thread each)
  double request_timeout_s = 10;        // whole request (headers and body); then it is dropped
  int64_t max_stored_samples = 100000;  // then /v1/samples answers 507
  int64_t max_store_bytes = int64_t(1) << 30;  // samples.db size; then 507
  std::string auth_token;            // non-empty: every route but /healthz needs "Bearer <token>"
  bool insecure = false;             // allow a non-loopback host without a token
  int batch_samples = 32;            // samples handed to the runtime as one labeled batch
  int64_t max_queue_samples = 4096;  // untrained samples held in memory; the rest stay in SQLite
  double batch_wait_s = 1.0;         // ... or fewer, once the oldest has waited this long
  // A copy adapted to the answered requests (the policy's adapter) is committed as a new
  // version with every round, and at most this often between rounds (0: with rounds only).
  double adapt_publish_s = 10.0;
  bool quiet = false;     // no log lines on stderr
  int test_delay_ms = 0;  // tests only: each predict holds its slot this long
};

class Server {
 public:
  // Builds the model, opens data_dir and restores from it. Throws etuner::Error kinds.
  explicit Server(ServeConfig cfg);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts the trainer and the HTTP listener; returns the bound port.
  int start();
  // Stops accepting, lets in-flight requests finish, finishes the round in progress and
  // commits it. Idempotent.
  void stop();
  int model_version() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace etuner::serve
