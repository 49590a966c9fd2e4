#include "serve/engine.h"

#include <algorithm>
#include <dlfcn.h>

#include <cstring>
#include <filesystem>
#include <iostream>

#include "etuner/device_profile.h"
#include "etuner/error.h"
#include "etuner/presets.h"
#include "etuner/meter.h"
#include "serve/checkpoints.h"
#include "serve/metrics.h"

namespace etuner::serve {
namespace {

constexpr int64_t kMirrorCap = 64;  // answered inputs waiting for the trainer; more are dropped

torch::Tensor stack_pixels(const std::vector<StoredSample>& rows, const InputSpec& s) {
  auto x = torch::empty({static_cast<int64_t>(rows.size()), s.channels, s.height, s.width});
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(x[static_cast<int64_t>(i)].data_ptr<float>(), rows[i].pixels.data(),
                s.pixel_count() * sizeof(float));
  return x;
}

torch::Tensor labels_of(const std::vector<StoredSample>& rows) {
  std::vector<int64_t> y;
  for (const auto& r : rows) y.push_back(r.label);
  return torch::tensor(y, torch::kLong);
}

// OpenBLAS (Debian's BLAS for LibTorch's linear layers) keeps its own thread pool, created at
// load time at normal priority, which torch::set_num_threads does not size. Rounds running
// GEMMs there would escape the trainer thread's lower priority.
void limit_blas_threads(int n) {
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    f(n);
}

// Version 0's checkpoint pins the starting model. Without it (a full disk) the restart
// rebuilds version 0 from the same flags, so failing to write it is not fatal.
void pin_version_zero(const model::BlockModel& m, const std::string& dir, bool quiet) {
  try {
    write_checkpoint(dir, m, 0);
  } catch (const std::exception& e) {
    if (!quiet) std::cerr << "etuner serve: version 0 not checkpointed: " << e.what() << "\n";
  }
}

}  // namespace

Engine::Engine(const ServeConfig& cfg)
    : cfg_(cfg),
      device_(cfg.device == "cuda" ? torch::kCUDA : torch::kCPU),
      start_(std::chrono::steady_clock::now()) {
  torch::set_num_threads(cfg_.torch_threads);
  limit_blas_threads(cfg_.torch_threads);
  validate(cfg_);
  make_durable_dir(cfg_.data_dir);  // a power cut must not take a new --data-dir back
  lock_ = std::make_unique<DirLock>(cfg_.data_dir);  // before anything reads or writes there
  Task task = build_task(cfg_);
  input_ = task.input;
  num_blocks_ = task.model->num_blocks();
  checkpoint_dir_ = cfg_.data_dir + "/checkpoints";
  store_ = std::make_unique<SampleStore>(
      cfg_.data_dir + "/samples.db", StoreLimits{cfg_.max_stored_samples, cfg_.max_store_bytes});
  restore(task);
  open_runtime(task);
}

Engine::~Engine() { stop(); }

// The committed version's weights replace version 0's; checkpoints the store never committed
// (a crash between rename and commit) are deleted.
void Engine::restore(Task& task) {
  const auto identity = store_->meta("identity");
  if (identity.empty())
    store_->set_meta("identity", task.identity);
  else if (identity != task.identity)
    throw ConfigError("--data-dir '" + cfg_.data_dir + "' belongs to " + identity + ", not to " +
                      task.identity + " (use another directory)");
  const int committed = store_->committed_version();
  const auto path = checkpoint_path(checkpoint_dir_, committed);
  if (std::filesystem::exists(path))
    task.model->load(path);
  else if (committed == 0)
    pin_version_zero(*task.model, checkpoint_dir_, cfg_.quiet);
  else
    throw IoError("'" + path + "': the committed checkpoint is missing");
  prune_checkpoints(checkpoint_dir_, committed);
  task.model->to(device_);
  committed_.emplace(*task.model, committed);
  const auto counts = store_->counts();
  stored_ = counts.stored;
  untrained_ = counts.untrained;
}

void Engine::open_runtime(Task& task) {
  auto cfg = task.runtime;
  cfg.protocol = Protocol::kInstant;  // rounds take real time here; realtime is bench's simulation
  cfg.profile = device_profile(cfg_.device_profile);
  cfg.seed = cfg_.seed;
  cfg.device = device_;
  auto policy = policy::make(cfg_.policy, policy_params(cfg_));  // --params reach it
  rt_ = std::make_unique<runtime::Runtime>(std::move(task.model), std::move(policy), cfg,
                                           meter::detect(cfg.profile));
  const auto& p = rt_->policy();
  policy_ = {{"name", p.name},
             {"scheduler", p.scheduler_name},
             {"freezer", p.freezer_name},
             {"adapter", p.adapter_name},
             {"bn_adaptation", p.adapt.bn_adapt},
             {"pseudo_labels", p.adapt.pseudo_labels},
             {"params", policy_params(cfg_)}};
  if (task.replay.x.defined()) rt_->seed_replay(task.replay.x, task.replay.y);
  const auto replayed = store_->recent_trained(cfg.train.replay_buffer);
  if (!replayed.empty()) rt_->seed_replay(stack_pixels(replayed, input_), labels_of(replayed));
  spilled_ = true;  // acknowledged but never committed: the trainer streams them back in chunks
  last_commit_ = std::chrono::steady_clock::now();
  publish();
  update_view();
}

void Engine::publish() {
  auto snap =
      std::make_shared<const Snapshot>(Snapshot{committed_->deployed(), committed_->version()});
  std::lock_guard<std::mutex> lock(snap_mu_);
  snap_ = std::move(snap);  // the old snapshot lives on while requests still hold it
}

std::shared_ptr<const Engine::Snapshot> Engine::current() const {
  std::lock_guard<std::mutex> lock(snap_mu_);
  return snap_;
}

int Engine::version() const { return current()->version; }

torch::Tensor Engine::image_tensor(const std::vector<float>& pixels) const {
  auto x = torch::empty({1, input_.channels, input_.height, input_.width});
  std::memcpy(x.data_ptr<float>(), pixels.data(), input_.pixel_count() * sizeof(float));
  return x;
}

PredictResult Engine::predict(const std::vector<float>& pixels) {
  const auto snap = current();  // exactly one version answers this request
  auto x = image_tensor(pixels);
  PredictResult r;
  {
    torch::NoGradGuard no_grad;
    auto [conf, label] = torch::softmax(snap->model->forward(x.to(device_)), 1).max(1);
    r = {label.item<int64_t>(), conf.item<double>(), snap->version};
  }
  mirror(x);
  return r;
}

// The runtime's drift detection and adaptation read answered inputs; the trainer replays them
// through Runtime::predict in its own time, and drops them under load rather than queue up.
void Engine::mirror(const torch::Tensor& x) {
  std::lock_guard<std::mutex> lock(q_mu_);
  if (static_cast<int64_t>(mirrored_.size()) < kMirrorCap) mirrored_.push_back(x);
}

int64_t Engine::add_sample(std::vector<float> pixels, int64_t label) {
  int64_t id = 0;
  // Held from the insert to the queue: ids reach the queue in order, so the backlog in the
  // store is exactly the untrained ids above queued_upto_ (refill()).
  std::lock_guard<std::mutex> feed(feed_mu_);
  try {
    id = store_->add(pixels, label);  // durable before anyone hears of it
    samples_writable_ = true;
  } catch (const StoreRefused& e) {
    if (e.code() != "sample_limit") samples_writable_ = false;
    ++sample_write_failures_;
    std::lock_guard<std::mutex> lock(view_mu_);
    view_.storage_error = e.what();
    throw;
  }
  ++stored_;
  ++untrained_;
  {
    std::lock_guard<std::mutex> lock(q_mu_);
    if (!spilled_ && static_cast<int64_t>(queue_.size()) < cfg_.max_queue_samples) {
      queue_.push_back({id, std::move(pixels), label, std::chrono::steady_clock::now()});
      queued_upto_ = id;
      queue_peak_ = std::max(queue_peak_, queue_.size());
    } else {
      spilled_ = true;  // stored and acknowledged; the trainer reads it back later
    }
  }
  q_cv_.notify_one();
  return id;
}

nlohmann::json Engine::status() const {
  TrainerView v;
  {
    std::lock_guard<std::mutex> lock(view_mu_);
    v = view_;
  }
  size_t queued, peak;
  {
    std::lock_guard<std::mutex> lock(q_mu_);
    queued = queue_.size();
    peak = queue_peak_;
  }
  return {{"model_version", version()},
          {"samples_stored", stored_.load()},
          {"samples_pending", untrained_.load()},
          {"samples_queued", queued},
          {"samples_queued_peak", peak},
          {"rounds_run", v.rounds},
          {"rounds_discarded", v.discarded},
          {"frozen_blocks", v.frozen_blocks},
          {"num_blocks", num_blocks_},
          {"frozen_mask", v.frozen_mask},
          {"scenario_changes", v.scenario_changes},
          {"policy", policy_},
          {"finetune_s", v.finetune_s},
          {"finetune_j", v.finetune_j},
          {"energy_source", v.energy_source},
          {"last_round_loss", v.last_loss},
          {"last_error", v.last_error},
          {"input",
           {{"channels", input_.channels},
            {"height", input_.height},
            {"width", input_.width},
            {"classes", input_.num_classes}}},
          {"storage",
           {{"samples_writable", samples_writable_.load()},
            {"checkpoints_writable", v.checkpoints_writable},
            {"sample_write_failures", sample_write_failures_.load()},
            {"commit_failures", v.commit_failures},
            {"last_error", v.storage_error}}},
          {"uptime_s", now_s()}};
}

std::string Engine::metrics_text() const {
  TrainerView v;
  {
    std::lock_guard<std::mutex> lock(view_mu_);
    v = view_;
  }
  struct Row {
    const char* name;
    const char* type;
    const char* help;
    double value;
  };
  const Row rows[] = {
      {"etuner_model_version", "gauge", "Committed model version serving.", double(version())},
      {"etuner_samples_stored", "gauge", "Samples in the durable store.", double(stored_.load())},
      {"etuner_samples_pending", "gauge", "Stored samples no committed version consumed.",
       double(untrained_.load())},
      {"etuner_rounds_total", "counter", "Fine-tuning rounds run since start.", double(v.rounds)},
      {"etuner_rounds_discarded_total", "counter", "Rounds discarded (loss NaN/inf).",
       double(v.discarded)},
      {"etuner_finetune_seconds_total", "counter", "Seconds spent fine-tuning and deciding.",
       v.finetune_s},
      {"etuner_finetune_joules_total", "counter",
       "Joules spent fine-tuning (energy_source in /v1/status says how measured).", v.finetune_j},
      {"etuner_frozen_blocks", "gauge", "Blocks frozen at the end of the last round.",
       double(v.frozen_blocks)},
      {"etuner_scenario_changes_total", "counter", "Scenario changes detected.",
       double(v.scenario_changes)},
      {"etuner_samples_writable", "gauge", "1 while the sample store accepts writes.",
       samples_writable_.load() ? 1.0 : 0.0},
      {"etuner_checkpoints_writable", "gauge", "1 while checkpoints commit.",
       v.checkpoints_writable ? 1.0 : 0.0},
      {"etuner_sample_write_failures_total", "counter", "Samples refused with 507.",
       double(sample_write_failures_.load())},
      {"etuner_commit_failures_total", "counter", "Commits that failed (and are retried).",
       double(v.commit_failures)},
  };
  std::string out;
  for (const auto& r : rows) out += prometheus_metric(r.name, r.type, r.help, r.value);
  return out;
}

double Engine::now_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

}  // namespace etuner::serve
