#include "etuner/publisher.h"

namespace etuner::runtime {

std::shared_ptr<model::BlockModel> snapshot(const model::BlockModel& m) {
  std::shared_ptr<model::BlockModel> s = m.clone();
  s->set_training(false);
  return s;
}

Publisher::Publisher(const model::BlockModel& initial, int version)
    : deployed_(snapshot(initial)), version_(version) {}

void Publisher::stage(const model::BlockModel& trained, double ready_s, int64_t consumed) {
  next_ = snapshot(trained);
  next_ready_s_ = ready_s;
  next_consumed_ = consumed;
}

bool Publisher::deploy_if_ready(double now_s) {
  if (!next_ || now_s < next_ready_s_) return false;
  deployed_ = std::move(next_);
  next_.reset();
  ++version_;
  deployed_consumed_ = next_consumed_;
  return true;
}

void Publisher::deploy(const model::BlockModel& trained, int64_t consumed) {
  next_.reset();
  deployed_ = snapshot(trained);
  ++version_;
  deployed_consumed_ = consumed;
}

double Publisher::next_deploy_s() const {
  return next_ ? next_ready_s_ : std::numeric_limits<double>::infinity();
}

}  // namespace etuner::runtime
