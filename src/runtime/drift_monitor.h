#pragma once
#include <torch/torch.h>

#include <deque>

namespace etuner::runtime {

// Label-free scenario-change detection from inference inputs (src/runtime/drift_monitor.cpp).
//   monitor.observe(request_images);        // as requests are answered
//   bool change = monitor.end_gap();        // when the next labeled batch arrives
class DriftMonitor {
 public:
  // What a run of requests looks like to the detector: the mean of their features, the
  // spread (with the detector's floor) and how many there were.
  struct Signature {
    torch::Tensor mean, var;
    int64_t n = 0;
    bool defined() const { return n > 0; }
  };
  static Signature signature_of(const torch::Tensor& features);
  // The detector's statistic: the largest per-feature z of `window`'s mean under
  // `reference`'s spread. A change is a distance above the threshold.
  static double distance(const Signature& window, const Signature& reference);

  // `min_window`: the fewest requests a test sees. Gaps smaller than that are tested together
  // with the gaps before them (the shortest run of recent gaps holding `min_window`), so the
  // detector's power does not fall with the request rate; 30 is the gap size `z_threshold`
  // was calibrated on (docs/algorithms.md).
  explicit DriftMonitor(double z_threshold = 6, int min_reference = 16, int max_reference = 256,
                        int min_window = 30)
      : z_threshold_(z_threshold),
        min_reference_(min_reference),
        max_reference_(max_reference),
        min_window_(min_window) {}
  void observe(const torch::Tensor& images);
  bool end_gap();
  double last_score() const { return last_score_; }
  double z_threshold() const { return z_threshold_; }
  // After end_gap() returned true: the scenario the change ended (its reference) and the
  // one it began (the newest gap's requests, the new reference).
  const Signature& ended() const { return ended_; }
  const Signature& began() const { return began_; }

 private:
  double score(const torch::Tensor& window) const;
  void retire_old_gaps();
  double z_threshold_;
  int min_reference_, max_reference_, min_window_;
  torch::Tensor gap_,
      ref_;  // per-image features: this gap's, and the reference since the last change
  std::deque<torch::Tensor> window_;  // the recent gaps under test, oldest first
  double last_score_ = 0;
  Signature ended_, began_;
};

}  // namespace etuner::runtime
