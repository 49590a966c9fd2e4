// Materializes a stream spec into a timeline. Deterministic: every random choice (sample
// order, shift noise) draws from a generator seeded by the spec's seed and the event's index.
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <numeric>

#include "etuner/error.h"
#include "etuner/shift.h"
#include "etuner/stream.h"

namespace etuner::stream {
namespace {

uint64_t mix(uint64_t a, uint64_t b) {  // splitmix64-style combination of two seeds
  uint64_t z = a * 0x9E3779B97F4A7C15ULL + b + 0x632BE59BD9B4E5DULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::vector<int64_t> shuffled(int64_t n, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto perm = torch::randperm(n, gen, torch::kLong);
  return std::vector<int64_t>(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + n);
}

// Draws samples of given classes from a shuffled order without replacement.
class Pool {
 public:
  Pool(const data::Dataset& d, std::vector<int64_t> order, bool reuse)
      : labels_(to_vector(d.labels)),
        order_(std::move(order)),
        used_(order_.size(), false),
        reuse_(reuse) {}

  void exclude(const std::vector<int64_t>& rows) {
    std::vector<bool> drop(labels_.size(), false);
    for (auto r : rows) drop[r] = true;
    order_.erase(std::remove_if(order_.begin(), order_.end(), [&](int64_t r) { return drop[r]; }),
                 order_.end());
    used_.assign(order_.size(), false);
    cursor_ = 0;
  }

  std::vector<int64_t> take(const std::vector<int>& classes, int n, const std::string& what) {
    auto out = scan(classes, n);
    if (static_cast<int>(out.size()) < n && reuse_) {
      release(classes);
      auto more = scan(classes, n - static_cast<int>(out.size()));
      out.insert(out.end(), more.begin(), more.end());
    }
    if (static_cast<int>(out.size()) < n)
      throw ConfigError(what + ": the split has too few unused samples of the scenario's classes");
    return out;
  }

 private:
  bool wanted(int64_t row, const std::vector<int>& classes) const {
    if (classes.empty()) return true;
    const int label = static_cast<int>(labels_[row]);
    return std::find(classes.begin(), classes.end(), label) != classes.end();
  }

  // Scans on from where the last draw stopped, wrapping around once. Restarting at the front
  // would be biased: when the wanted classes grow (new classes join the requests), the front
  // of the order holds unused samples of the new classes only, and the first draws would be
  // all new classes (a class-incremental stream then opened each scenario with 100 requests
  // of new classes only).
  std::vector<int64_t> scan(const std::vector<int>& classes, int n) {
    std::vector<int64_t> out;
    const size_t size = order_.size();
    for (size_t k = 0; k < size && static_cast<int>(out.size()) < n; ++k) {
      const size_t i = (cursor_ + k) % size;
      if (used_[i] || !wanted(order_[i], classes)) continue;
      used_[i] = true;
      out.push_back(order_[i]);
      cursor_ = (i + 1) % size;
    }
    return out;
  }

  void release(const std::vector<int>& classes) {
    for (size_t i = 0; i < order_.size(); ++i)
      if (wanted(order_[i], classes)) used_[i] = false;
  }

  static std::vector<int64_t> to_vector(const torch::Tensor& t) {
    auto c = t.to(torch::kLong).contiguous();
    return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  }

  std::vector<int64_t> labels_;  // a copy: tensor element access per row is slow
  std::vector<int64_t> order_;
  std::vector<bool> used_;
  bool reuse_;
  size_t cursor_ = 0;  // where the next scan starts
};

torch::Tensor gather(const torch::Tensor& t, const std::vector<int64_t>& rows) {
  return t.index_select(0, torch::tensor(rows, torch::kLong));
}

torch::Tensor shifted(const data::Dataset& d, const std::vector<int64_t>& rows,
                      const ScenarioSpec& sc, uint64_t seed) {
  return data::apply_shift(sc.shift, sc.severity, data::to_float(gather(d.images, rows)), seed);
}

void check_classes(const std::vector<int>& classes, int num_classes, const std::string& field) {
  for (int c : classes)
    if (c < 0 || c >= num_classes)
      throw ConfigError(field + ": class " + std::to_string(c) + " out of range 0.." +
                        std::to_string(num_classes - 1));
}

}  // namespace

uint64_t pretrain_seed(const StreamSpec& spec) {
  return spec.pretrain.seed >= 0 ? static_cast<uint64_t>(spec.pretrain.seed) : spec.seed;
}

std::vector<int64_t> pretrain_indices(const StreamSpec& spec, const data::Dataset& train) {
  check_classes(spec.pretrain.classes, train.num_classes(), "pretrain.classes");
  const uint64_t seed = pretrain_seed(spec);
  Pool pool(train, shuffled(train.size(), mix(seed, 1)), false);
  return pool.take(spec.pretrain.classes, spec.pretrain.samples, "pretrain.samples");
}

std::vector<int> pretrain_classes(const StreamSpec& spec, int num_classes) {
  if (!spec.pretrain.classes.empty()) return spec.pretrain.classes;
  std::vector<int> all(num_classes);
  std::iota(all.begin(), all.end(), 0);
  return all;
}

Timeline build_timeline(const StreamSpec& spec, const data::Splits& splits) {
  Timeline tl;
  tl.num_classes = splits.train.num_classes();
  Pool labeled(splits.train, shuffled(splits.train.size(), mix(spec.seed, 2)), false);
  labeled.exclude(pretrain_indices(spec, splits.train));
  Pool requests(splits.test, shuffled(splits.test.size(), mix(spec.seed, 3)), true);
  const double dt = spec.protocol.batch_interval_s;
  std::vector<torch::Tensor> req_images, req_labels;
  int gap = 0, request_count = 0;
  for (size_t s = 0; s < spec.scenarios.size(); ++s) {
    const auto& sc = spec.scenarios[s];
    const std::string path = "scenarios[" + std::to_string(s) + "]";
    check_classes(sc.classes, tl.num_classes, path + ".classes");
    check_classes(sc.request_classes, tl.num_classes, path + ".request_classes");
    const auto& rc = sc.request_classes.empty() ? sc.classes : sc.request_classes;
    tl.spans.push_back({sc.name, gap * dt, (gap + sc.labeled_batches) * dt});
    for (int b = 0; b < sc.labeled_batches; ++b, ++gap) {
      // Requests arrive before the batch: inputs shift before labels for them come in.
      auto rrows = requests.take(rc, sc.requests_per_batch, path + ".requests_per_batch");
      if (!rrows.empty()) {
        req_images.push_back(shifted(splits.test, rrows, sc, mix(spec.seed, 2000003ULL * gap + 7)));
        req_labels.push_back(gather(splits.test.labels, rrows));
      }
      for (int r = 0; r < sc.requests_per_batch; ++r)
        tl.events.push_back({EventKind::kRequest,
                             gap * dt + (r + 1) * dt / (sc.requests_per_batch + 1),
                             static_cast<int>(s), request_count++});
      auto lrows = labeled.take(sc.classes, sc.batch_size, path + ".labeled_batches");
      tl.batches.push_back({shifted(splits.train, lrows, sc, mix(spec.seed, 1000003ULL * gap + 5)),
                            gather(splits.train.labels, lrows)});
      tl.events.push_back({EventKind::kLabeled, (gap + 1) * dt, static_cast<int>(s),
                           static_cast<int>(tl.batches.size()) - 1});
    }
  }
  tl.end_s = gap * dt;
  if (!req_images.empty()) {
    tl.requests.images = torch::cat(req_images);
    tl.requests.labels = torch::cat(req_labels);
  }
  return tl;
}

}  // namespace etuner::stream
