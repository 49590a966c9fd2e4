#include "runtime/ledger.h"

#include <algorithm>
#include <utility>

namespace etuner::runtime {

namespace {

double& share_of(Totals::DecisionFlops& by, Ledger::Decision kind) {
  switch (kind) {
    case Ledger::Decision::kTestThenTrain:
      return by.test_then_train;
    case Ledger::Decision::kBatchNorm:
      return by.batchnorm;
    case Ledger::Decision::kProbe:
      return by.probes;
    case Ledger::Decision::kAdaptationStep:
      break;
  }
  return by.adaptation_steps;
}

}  // namespace

Ledger::Ledger(std::unique_ptr<meter::Meter> meter, DeviceProfile profile, torch::Device device)
    : meter_(std::move(meter)), profile_(std::move(profile)), device_(device) {}

void Ledger::profile_once(model::BlockModel& m, const torch::Tensor& x) {
  if (flops_.unit_forward_flops.empty()) flops_ = model::profile_flops(m, x.slice(0, 0, 1));
}

void Ledger::sync_device() const {
  if (device_.is_cuda()) torch::cuda::synchronize();
}

meter::Measurement Ledger::end_window(const char* key) {
  sync_device();
  return meter_->end(key);
}

void Ledger::begin_decide() { meter_->begin("decide"); }

void Ledger::end_decide() {
  const auto m = end_window("decide");
  totals_.decision_s += m.time_s;
  totals_.finetune_s += m.time_s;
  totals_.finetune_j += m.energy_j;
}

void Ledger::end_adapt() {
  const auto m = end_window("decide");
  totals_.decision_s += m.time_s;
  totals_.finetune_s += m.time_s;
  totals_.finetune_j += m.energy_j;
  totals_.adapt_s += m.time_s;
}

void Ledger::count_decision_pass(Decision kind, int64_t images, int from_unit, int to_unit) {
  const int units = static_cast<int>(flops_.unit_forward_flops.size());
  if (units == 0) return;  // no input seen yet: nothing to count
  const int to = to_unit < 0 ? units : std::min(to_unit, units);
  count_decision_flops(kind,
                       static_cast<double>(images) * flops_.range(std::min(from_unit, to), to));
}

void Ledger::count_tallied_values(int64_t values) {
  count_decision_flops(Decision::kBatchNorm, 3.0 * static_cast<double>(values));
}

void Ledger::count_adaptation_step(int64_t images) {
  count_decision_flops(Decision::kAdaptationStep,
                       3.0 * static_cast<double>(images) * flops_.total());
}

// Decision work runs at the training throughput with no overhead.
void Ledger::count_decision_flops(Decision kind, double flops) {
  totals_.decision_flops += flops;
  share_of(totals_.decision_by_kind, kind) += flops;
  const double seconds = flops / profile_.train_flops_per_s;
  book_modeled(flops, seconds);
  held_s_ += seconds;
}

void Ledger::count_trial(int steps, double train_flops) {
  totals_.train_flops += train_flops;
  const double seconds = profile_.round_seconds(steps, train_flops);
  book_modeled(train_flops, seconds);
  held_s_ += seconds;
}

void Ledger::count_answer_pass(int64_t images) {
  held_s_ += static_cast<double>(images) * flops_.total() / profile_.train_flops_per_s;
}

double Ledger::take_held_s() { return std::exchange(held_s_, 0.0); }

void Ledger::book_modeled(double flops, double seconds) {
  const double joules_per_flop =
      (profile_.train_power_w - profile_.idle_power_w) / profile_.train_flops_per_s;
  totals_.modeled_s += seconds;
  totals_.modeled_j += flops * joules_per_flop + profile_.idle_power_w * seconds;
}

void Ledger::begin_infer() { meter_->begin("infer"); }

void Ledger::end_infer() {
  const auto m = meter_->end("infer");  // the answers were copied to the host: no sync needed
  totals_.inference_j += m.energy_j;
  totals_.inference_s += m.time_s;
}

void Ledger::begin_probe() { meter_->begin("similarity"); }

void Ledger::end_probe() { totals_.similarity_s += end_window("similarity").time_s; }

void Ledger::begin_round() { meter_->begin("round"); }

void Ledger::end_round(RoundRecord& r) {
  const auto m = end_window("round");
  r.wall_s = m.time_s;
  r.energy_j = m.energy_j;
  totals_.finetune_s += m.time_s;
  totals_.finetune_j += m.energy_j;
  book_modeled(r.train_flops, r.modeled_s);
  totals_.rounds += 1;
  totals_.samples_trained += r.samples;
  totals_.cache_hits += r.cache_hits;
  totals_.train_flops += r.train_flops;
}

}  // namespace etuner::runtime
