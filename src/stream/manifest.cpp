// Recorded streams: a manifest's rows replayed in time order (docs/data.md, "Manifest").
// Every row is first a request (test, then train, as on a device that answers what it later
// gets a label for); labeled rows then join labeled batches.
#include "etuner/error.h"
#include "etuner/stream.h"

namespace etuner::stream {
namespace {

// Scenario names per row: an empty one continues the previous row's ("default" at the start).
std::vector<std::string> scenario_names(const data::Manifest& m) {
  std::vector<std::string> names;
  std::string current = "default";
  for (const auto& r : m.rows) {
    if (!r.scenario.empty()) current = r.scenario;
    names.push_back(current);
  }
  return names;
}

// Builds the timeline row by row; a batch closes when full, at a scenario change, at the end.
class Builder {
 public:
  Builder(const data::Manifest& m, int batch_size) : m_(m), batch_size_(batch_size) {}

  Timeline build() {
    const auto names = scenario_names(m_);
    tl_.requests.images = data::to_float(m_.images);
    std::vector<int64_t> labels;
    for (size_t i = 0; i < m_.rows.size(); ++i) {
      if (i == 0 || names[i] != names[i - 1]) open_scenario(names[i], m_.rows[i].time_s);
      const auto& r = m_.rows[i];
      labels.push_back(r.label);
      tl_.events.push_back({EventKind::kRequest, r.time_s, scenario(), static_cast<int>(i)});
      if (r.label >= 0) pending_.push_back(static_cast<int64_t>(i));
      if (static_cast<int>(pending_.size()) >= batch_size_) close_batch(r.time_s);
      tl_.spans.back().end_s = r.time_s;
    }
    close_batch(m_.rows.back().time_s);
    tl_.requests.labels = torch::tensor(labels, torch::kLong);
    tl_.end_s = m_.rows.back().time_s;
    return std::move(tl_);
  }

 private:
  int scenario() const { return static_cast<int>(tl_.spans.size()) - 1; }

  void open_scenario(const std::string& name, double time_s) {
    if (!tl_.spans.empty()) close_batch(tl_.spans.back().end_s);
    tl_.spans.push_back({name, time_s, time_s});
  }

  void close_batch(double time_s) {
    if (pending_.empty()) return;
    const auto rows = torch::tensor(pending_, torch::kLong);
    tl_.batches.push_back({data::to_float(m_.images.index_select(0, rows)), labels_of(rows)});
    tl_.events.push_back(
        {EventKind::kLabeled, time_s, scenario(), static_cast<int>(tl_.batches.size()) - 1});
    pending_.clear();
  }

  torch::Tensor labels_of(const torch::Tensor& rows) const {
    std::vector<int64_t> out;
    const auto* r = rows.data_ptr<int64_t>();
    for (int64_t k = 0; k < rows.numel(); ++k) out.push_back(m_.rows[r[k]].label);
    return torch::tensor(out, torch::kLong);
  }

  const data::Manifest& m_;
  int batch_size_;
  Timeline tl_;
  std::vector<int64_t> pending_;  // labeled rows waiting for their batch
};

}  // namespace

Timeline manifest_timeline(const StreamSpec& spec, const data::Manifest& manifest) {
  if (manifest.rows.empty()) throw ConfigError(spec.data.root + ": the manifest has no rows");
  Timeline tl = Builder(manifest, spec.data.batch_size).build();
  tl.num_classes = spec.data.num_classes;
  return tl;
}

Timeline manifest_timeline(const StreamSpec& spec) {
  const data::ImageSize size{spec.input.height, spec.input.width,
                             spec.input.size_mismatch == "resize"};
  return manifest_timeline(spec, data::load_manifest(spec.data.root, spec.data.num_classes, size));
}

data::Splits load_data(const StreamSpec& spec) {
  auto splits = data::load(spec.data.source, spec.data.root);
  const auto& in = spec.input;
  if (in.height <= 0 || splits.train.size() == 0) return splits;
  const auto h = splits.train.images.size(2), w = splits.train.images.size(3);
  if (h == in.height && w == in.width) return splits;
  if (in.size_mismatch != "resize")
    throw ConfigError("input.size: the data set's images are " + std::to_string(h) + "x" +
                      std::to_string(w) + ", not " + std::to_string(in.height) + "x" +
                      std::to_string(in.width) + " (set input.size_mismatch to \"resize\")");
  for (auto* d : {&splits.train, &splits.test})
    d->images = data::resize_images(d->images, in.height, in.width);
  return splits;
}

}  // namespace etuner::stream
