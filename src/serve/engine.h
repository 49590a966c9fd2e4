// The serving core: durable sample ingestion, prediction on the published snapshot, and the
// trainer thread that owns the (single-threaded) Runtime.
//
// Threads: handler threads call predict() and add_sample(); only the trainer thread touches
// the Runtime. A committed version is published by swapping one shared_ptr under snap_mu_,
// so each request holds exactly one version for its whole forward pass, and a version is
// published only after its checkpoint and the store's commit are durable: every version a
// client ever sees survives kill -9.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "etuner/publisher.h"
#include "etuner/runtime.h"
#include "etuner/serve.h"
#include "serve/backend.h"
#include "serve/dir_lock.h"
#include "serve/request.h"
#include "serve/sample_store.h"
#include "serve/setup.h"

namespace etuner::serve {

// What the trainer last reported, for /v1/status and /metrics.
struct TrainerView {
  int rounds = 0;
  int discarded = 0;
  int frozen_blocks = 0;
  std::string frozen_mask;
  int scenario_changes = 0;
  double finetune_s = 0;
  double finetune_j = 0;
  double last_loss = 0;
  std::string last_error;
  std::string energy_source;
  bool checkpoints_writable = true;  // the last commit (or its retry) succeeded
  int commit_failures = 0;
  std::string storage_error;  // the last write failure, samples or checkpoints
};

class Engine final : public Backend {
 public:
  explicit Engine(const ServeConfig& cfg);
  ~Engine();
  void start();
  void stop();  // finishes the round in progress (each round commits as it ends), joins

  PredictResult predict(const std::vector<float>& pixels) override;
  int64_t add_sample(std::vector<float> pixels, int64_t label) override;  // durable on return
  nlohmann::json status() const override;
  std::string metrics_text() const override;  // model and training gauges
  const InputSpec& input() const override { return input_; }
  int version() const;

 private:
  // What handler threads read: the committed version, swapped whole under snap_mu_.
  struct Snapshot {
    std::shared_ptr<model::BlockModel> model;  // never mutated once published
    int version = 0;
  };
  struct Queued {
    int64_t id;
    std::vector<float> pixels;
    int64_t label;
    std::chrono::steady_clock::time_point at;
  };

  void restore(Task& task);
  void open_runtime(Task& task);
  void publish();  // the committed version becomes what requests see
  std::shared_ptr<const Snapshot> current() const;
  void mirror(const torch::Tensor& x);
  torch::Tensor image_tensor(const std::vector<float>& pixels) const;

  // Trainer thread (trainer.cpp).
  void trainer_loop();
  void refill();  // tops the queue up from the store's backlog, one bounded chunk
  bool batch_ready(std::chrono::steady_clock::time_point now) const;
  void step(std::vector<std::vector<Queued>> batches, std::vector<torch::Tensor> mirrored);
  void feed(std::vector<Queued>& batch);
  void on_round(const runtime::RoundRecord& r);
  void commit(const std::vector<int64_t>& ids);
  void try_commit();
  bool adaptation_due() const;
  std::vector<int64_t> store_ids(const std::vector<int64_t>& runtime_ids);
  void consume(const runtime::Consumed& c);
  void update_view();
  double now_s() const;

  ServeConfig cfg_;
  InputSpec input_;
  torch::Device device_;  // answers and rounds; samples and checkpoints stay on the CPU
  std::string checkpoint_dir_;
  std::unique_ptr<DirLock> lock_;  // before store_: released after the store is closed
  std::unique_ptr<SampleStore> store_;
  std::unique_ptr<runtime::Runtime> rt_;  // the trainer thread's alone once started
  nlohmann::json policy_;                 // names, copied so handlers never touch rt_
  int num_blocks_ = 0;
  std::chrono::steady_clock::time_point start_;

  mutable std::mutex snap_mu_;
  std::shared_ptr<const Snapshot> snap_;

  // Taken before q_mu_: an insert and its place in the queue, or a refill from the store.
  std::mutex feed_mu_;
  mutable std::mutex q_mu_;  // queue_, mirrored_, stop_, spilled_, queued_upto_
  std::condition_variable q_cv_;
  std::deque<Queued> queue_;  // at most cfg_.max_queue_samples
  bool spilled_ = false;      // untrained samples above queued_upto_ wait in the store
  int64_t queued_upto_ = 0;   // the largest store id ever queued
  size_t queue_peak_ = 0;     // the longest the queue has been (status: samples_queued_peak)
  std::vector<torch::Tensor> mirrored_;  // answered inputs for the runtime's drift monitor
  bool stop_ = false;
  std::thread trainer_;

  // trainer: the store id of every sample handed to the runtime and not yet consumed
  std::unordered_map<int64_t, int64_t> store_id_of_;
  // Trainer: committed versions (durable: checkpointed and in the store). The runtime numbers
  // its own versions; serve's are the committed ones, which survive restarts.
  std::optional<runtime::Publisher> committed_;
  // Trainer: a round trained but not yet committed (its checkpoint or the store's commit
  // failed: a full disk, say). The next try commits the runtime's current model and every
  // id since, after a backoff that doubles up to kMaxBackoff.
  bool uncommitted_ = false;
  int committed_adapt_steps_ = 0;  // the runtime's adaptation steps in the last commit
  std::chrono::steady_clock::time_point last_commit_{};
  std::vector<int64_t> uncommitted_ids_;
  std::chrono::steady_clock::time_point retry_at_{};
  double backoff_s_ = 0;

  mutable std::mutex view_mu_;
  TrainerView view_;
  std::atomic<int64_t> stored_{0}, untrained_{0};
  std::atomic<bool> samples_writable_{true};  // the last /v1/samples insert succeeded
  std::atomic<int64_t> sample_write_failures_{0};
};

}  // namespace etuner::serve
