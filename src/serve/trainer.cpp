// The trainer thread: hands queued samples to the Runtime in labeled batches, lets it decide
// and run rounds, and commits each good round as a new version (checkpoint, then the store's
// transaction, then publication).
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>

#include <spdlog/spdlog.h>

#include "serve/checkpoints.h"
#include "serve/engine.h"

namespace etuner::serve {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(100);  // scheduler polling, mirrored requests
// Batches handed over before the scheduler is asked again: a backlog (after a restart, or
// samples arriving faster than rounds) reaches the runtime as the batches a stream would
// have delivered meanwhile, yet one round never grows without bound.
constexpr int kMaxBatchesPerStep = 32;
// A failed commit (a full disk) is retried after 0.5 s, then twice as long each time up to
// this, so a disk that stays full costs little and one that frees up is noticed soon.
constexpr double kFirstBackoff = 0.5, kMaxBackoff = 30;

// Linux applies setpriority(PRIO_PROCESS, tid) to one thread: rounds yield the cores to the
// handler threads, which keeps prediction latency flat while fine-tuning.
// A process already at nice 19 cannot lower one thread further that way: SCHED_IDLE (which
// an unprivileged thread may choose for itself) ranks below every nice level.
void lower_priority(int increment, bool idle) {
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (errno == 0) ::setpriority(PRIO_PROCESS, tid, std::min(19, now + increment));
  if (idle) {
    sched_param none{};
    ::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &none);
  }
}

// Checkpoints hold CPU tensors, so a data directory written on a GPU restarts on a CPU too.
// On the CPU the model itself is written, without a copy.
std::shared_ptr<const model::BlockModel> on_cpu(std::shared_ptr<const model::BlockModel> m,
                                                const torch::Device& device) {
  if (device.is_cpu()) return m;
  std::shared_ptr<model::BlockModel> copy = m->clone();
  copy->to(torch::kCPU);
  return copy;
}

}  // namespace

void Engine::start() {
  std::lock_guard<std::mutex> lock(q_mu_);
  if (trainer_.joinable() || stop_) return;
  trainer_ = std::thread([this] { trainer_loop(); });
}

void Engine::stop() {
  {
    std::lock_guard<std::mutex> lock(q_mu_);
    stop_ = true;
  }
  q_cv_.notify_all();
  if (trainer_.joinable()) trainer_.join();
}

bool Engine::batch_ready(Clock::time_point now) const {
  if (queue_.empty()) return false;
  return static_cast<int>(queue_.size()) >= cfg_.batch_samples ||
         now - queue_.front().at >= std::chrono::duration<double>(cfg_.batch_wait_s);
}

// The backlog (samples past --max-queue-samples, or left untrained by the last run) comes
// back from SQLite at most one queue's worth at a time, so memory stays bounded.
void Engine::refill() {
  std::lock_guard<std::mutex> feed(feed_mu_);
  int64_t after = 0, room = 0;
  {
    std::lock_guard<std::mutex> lock(q_mu_);
    if (!spilled_) return;
    after = queued_upto_;
    room = cfg_.max_queue_samples - static_cast<int64_t>(queue_.size());
  }
  if (room <= 0) return;
  auto chunk = store_->untrained_after(after, room);
  std::lock_guard<std::mutex> lock(q_mu_);
  for (auto& s : chunk) {
    queue_.push_back({s.id, std::move(s.pixels), s.label, std::chrono::steady_clock::now()});
    queued_upto_ = s.id;
  }
  queue_peak_ = std::max(queue_peak_, queue_.size());
  if (static_cast<int64_t>(chunk.size()) < room) spilled_ = false;  // the backlog is all here
}

void Engine::trainer_loop() {
  lower_priority(cfg_.trainer_nice, cfg_.trainer_idle);
  std::unique_lock<std::mutex> lock(q_mu_);
  while (!stop_) {
    lock.unlock();
    try {
      refill();
    } catch (const std::exception& e) {  // a read error: the backlog waits for the next try
      std::lock_guard<std::mutex> v(view_mu_);
      view_.last_error = e.what();
    }
    lock.lock();
    if (stop_) break;
    q_cv_.wait_for(lock, kTick, [&] { return stop_ || batch_ready(Clock::now()); });
    if (stop_) break;  // queued samples stay untrained in the store: the restart re-queues them
    std::vector<std::vector<Queued>> batches;
    while (batch_ready(Clock::now()) && static_cast<int>(batches.size()) < kMaxBatchesPerStep) {
      batches.emplace_back();
      while (!queue_.empty() && static_cast<int>(batches.back().size()) < cfg_.batch_samples) {
        batches.back().push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    auto mirrored = std::move(mirrored_);
    mirrored_.clear();
    lock.unlock();
    step(std::move(batches), std::move(mirrored));
    lock.lock();
  }
  lock.unlock();
  if (uncommitted_) try_commit();  // one last try before the process ends
}

// One failure (a full disk, say) must not end the service: the last committed version keeps
// serving and the error shows in /v1/status.
void Engine::step(std::vector<std::vector<Queued>> batches, std::vector<torch::Tensor> mirrored) {
  try {
    if (!mirrored.empty()) (void)rt_->predict(torch::cat(mirrored));
    for (auto& batch : batches) feed(batch);
    if (auto r = rt_->advance(now_s())) on_round(*r);
    consume(rt_->take_consumed());
    if (adaptation_due()) uncommitted_ = true;
    if (uncommitted_ && Clock::now() >= retry_at_) try_commit();
    update_view();
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(view_mu_);
    view_.last_error = e.what();
    if (!cfg_.quiet) std::cerr << "etuner serve: trainer: " << e.what() << "\n";
  }
}

void Engine::feed(std::vector<Queued>& batch) {
  const auto n = static_cast<int64_t>(batch.size());
  auto x = torch::empty({n, input_.channels, input_.height, input_.width});
  auto y = torch::empty({n}, torch::kLong);
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(x[i].data_ptr<float>(), batch[i].pixels.data(),
                input_.pixel_count() * sizeof(float));
    y[i] = batch[i].label;
  }
  const int64_t first = rt_->add_labeled(x, y, now_s());
  for (int64_t i = 0; i < n; ++i) store_id_of_[first + i] = batch[i].id;
}

// The store ids of samples the runtime consumed (its ids, as add_labeled numbered them).
std::vector<int64_t> Engine::store_ids(const std::vector<int64_t>& runtime_ids) {
  std::vector<int64_t> ids;
  for (int64_t id : runtime_ids) {
    auto it = store_id_of_.find(id);
    if (it == store_id_of_.end()) continue;
    ids.push_back(it->second);
    store_id_of_.erase(it);
  }
  return ids;
}

// Exactly what the runtime reports: trained samples are committed with the version that
// trained them; samples retired untrained (e.g. ekya's skipped windows) with the next
// committed version (they are consumed: replayed, never trained fresh); samples of a
// discarded round are quarantined.
void Engine::consume(const runtime::Consumed& c) {
  const auto quarantined = store_ids(c.quarantined);
  if (!quarantined.empty()) {
    store_->quarantine(quarantined);
    untrained_ -= static_cast<int64_t>(quarantined.size());
  }
  const auto trained = store_ids(c.trained);
  if (!trained.empty()) uncommitted_ = true;  // committed by step(), now or after a backoff
  uncommitted_ids_.insert(uncommitted_ids_.end(), trained.begin(), trained.end());
  const auto retired = store_ids(c.retired);
  uncommitted_ids_.insert(uncommitted_ids_.end(), retired.begin(), retired.end());
}

void Engine::on_round(const runtime::RoundRecord& r) {
  // One line per round; a discarded one (loss NaN/inf: the runtime restored the last good
  // model) as a warning.
  if (!cfg_.quiet)
    spdlog::log(r.discarded ? spdlog::level::warn : spdlog::level::info,
                "serve: round {} loss {:.4f} frozen {} ({}){}", rt_->totals().rounds, r.loss,
                r.frozen_prefix, r.frozen_mask, r.discarded ? " discarded" : "");
  std::lock_guard<std::mutex> lock(view_mu_);
  view_.last_loss = r.loss;
  view_.frozen_blocks = r.frozen_prefix;
  view_.frozen_mask = r.frozen_mask;
  view_.discarded += r.discarded ? 1 : 0;
}

// The adapter's copy moved since the last commit, and no round committed it for a while.
bool Engine::adaptation_due() const {
  if (cfg_.adapt_publish_s <= 0 || rt_->totals().adapt_steps == committed_adapt_steps_)
    return false;
  return Clock::now() - last_commit_ >= std::chrono::duration<double>(cfg_.adapt_publish_s);
}

// What answers is the runtime's answering copy: its deployed version as trained, adapted to
// the answered requests by the policy's adapter (the same as in bench).
void Engine::commit(const std::vector<int64_t>& ids) {
  const auto trained = rt_->answering();  // the trainer thread's alone while it commits
  const int version = committed_->version() + 1;
  write_checkpoint(checkpoint_dir_, *on_cpu(trained, device_), version);  // durable first
  store_->commit_version(version, ids);                                   // the commit point
  committed_->deploy(*trained);
  committed_adapt_steps_ = rt_->totals().adapt_steps;
  last_commit_ = Clock::now();
  publish();  // only durable versions are ever seen
  prune_checkpoints(checkpoint_dir_, version);
  if (!cfg_.quiet) spdlog::info("serve: committed version {} ({} samples)", version, ids.size());
}

// Commits what the runtime trained since the last commit, or schedules the next try: a
// failure here never ends the service, and the last committed version keeps answering.
void Engine::try_commit() {
  try {
    commit(uncommitted_ids_);
    untrained_ -= static_cast<int64_t>(uncommitted_ids_.size());
    uncommitted_ids_.clear();
    uncommitted_ = false;
    backoff_s_ = 0;
    std::lock_guard<std::mutex> lock(view_mu_);
    view_.checkpoints_writable = true;
  } catch (const std::exception& e) {
    backoff_s_ = backoff_s_ == 0 ? kFirstBackoff : std::min(kMaxBackoff, 2 * backoff_s_);
    retry_at_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(backoff_s_));
    if (!cfg_.quiet)
      spdlog::error("serve: commit failed (retry in {} s): {}", backoff_s_, e.what());
    std::lock_guard<std::mutex> lock(view_mu_);
    view_.checkpoints_writable = false;
    ++view_.commit_failures;
    view_.storage_error = view_.last_error = e.what();
  }
}

void Engine::update_view() {
  const auto& t = rt_->totals();
  std::lock_guard<std::mutex> lock(view_mu_);
  view_.rounds = t.rounds;
  view_.scenario_changes = t.drifts;
  view_.finetune_s = t.finetune_s;
  view_.finetune_j = t.finetune_j;
  view_.energy_source = rt_->energy_source();
}

}  // namespace etuner::serve
