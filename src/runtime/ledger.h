// The runtime's books: the meter's windows and the run's Totals. Every total is changed here,
// so what a number counts is read in one file. Decision passes are charged at the device
// profile's training throughput with no per-pass overhead (a lower bound). Modeled energy:
// joules per FLOP = (training power - idle power) / training throughput, so FLOP-bound work
// draws the profile's training power, and per-step and per-round overheads the idle power
// (a lower bound for dispatch-bound steps).
#pragma once
#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <string>

#include "etuner/device_profile.h"
#include "etuner/meter.h"
#include "etuner/model.h"
#include "etuner/runtime_records.h"

namespace etuner::runtime {

class Ledger {
 public:
  Ledger(std::unique_ptr<meter::Meter> meter, DeviceProfile profile, torch::Device device);

  // FLOPs per unit and sample, from the first input of any kind (a seed, a labeled batch or
  // a request): every pass is counted from then on.
  void profile_once(model::BlockModel& m, const torch::Tensor& x);
  const model::FlopsProfile& flops() const { return flops_; }

  // Decision overhead ("decide" window): signals, adaptation, profiling trials.
  void begin_decide();
  void end_decide();
  void end_adapt();  // a decide window that was label-free adaptation
  // What a decision pass is for (Totals::decision_by_kind).
  enum class Decision { kTestThenTrain, kBatchNorm, kProbe, kAdaptationStep };
  // A decision's forward pass of `images` through units [from_unit, to_unit) (-1: to the
  // last unit): decision FLOPs and modeled device seconds.
  void count_decision_pass(Decision kind, int64_t images, int from_unit = 0, int to_unit = -1);
  // BatchNorm statistics tallied inside answering passes (the fused adaptation): `values`
  // inputs of BatchNorm layers summed and squared, 3 FLOPs each; decision FLOPs.
  void count_tallied_values(int64_t values);
  // A label-free training step (adapter eata) on `images`: forward and backward through every
  // unit, 3 forward passes' FLOPs as a round's trainable units are counted; decision FLOPs.
  void count_adaptation_step(int64_t images);
  // A profiling trial's training: training FLOPs and modeled seconds, no round.
  void count_trial(int steps, double train_flops);
  // Answering `images` requests: a forward pass through every unit. Not fine-tuning work (no
  // total changes), but under the realtime protocol it holds the device like any other pass.
  void count_answer_pass(int64_t images);
  // The modeled device seconds of every pass outside rounds (answers, decisions, adaptation,
  // trials) booked since the last call; the realtime protocol places them on the device's
  // timeline (Runtime::Impl::hold_device).
  double take_held_s();

  void begin_infer();
  void end_infer();
  // Probes inside a round (CKA, plasticity): already inside the round's window.
  void begin_probe();
  void end_probe();
  void begin_round();
  // Fills the record's measured time and energy and books the round.
  void end_round(RoundRecord& r);

  void count_drift() { ++totals_.drifts; }
  void count_recall() { ++totals_.recalls; }
  void note_shelf_bytes(int64_t b) { totals_.shelf_bytes = std::max(totals_.shelf_bytes, b); }
  void count_adaptation() { ++totals_.adapt_steps; }
  void count_pseudo_labeled(int64_t n) { totals_.pseudo_labeled += n; }

  const Totals& totals() const { return totals_; }
  std::string source() const { return meter_->source(); }
  const DeviceProfile& profile() const { return profile_; }

 private:
  meter::Measurement end_window(const char* key);
  void count_decision_flops(Decision kind, double flops);
  // Books modeled work: `seconds` of device time that ran `flops` FLOPs.
  void book_modeled(double flops, double seconds);
  // On CUDA, waits for queued kernels so a window ends after its work, not its launches.
  void sync_device() const;

  std::unique_ptr<meter::Meter> meter_;
  DeviceProfile profile_;
  torch::Device device_;
  model::FlopsProfile flops_;
  Totals totals_;
  double held_s_ = 0;  // see take_held_s
};

}  // namespace etuner::runtime
