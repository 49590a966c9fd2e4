// What a Runtime needs from a stream spec, shared by bench and serve's --stream-spec.
#include "etuner/harness.h"

namespace etuner::harness {

runtime::RuntimeConfig runtime_config(const stream::StreamSpec& spec, int num_classes) {
  runtime::RuntimeConfig c;
  c.train = spec.train;
  c.protocol = spec.protocol.mode;
  c.profile = device_profile(spec.protocol.device);
  c.seed = spec.seed;
  c.known_classes = stream::pretrain_classes(spec, num_classes);
  return c;
}

LabeledSamples pretrain_replay(const stream::StreamSpec& spec, const data::Splits& splits) {
  if (splits.train.size() == 0) return {};
  auto rows = stream::pretrain_indices(spec, splits.train);
  rows.resize(std::min<size_t>(rows.size(), spec.train.replay_buffer));
  auto idx = torch::tensor(rows, torch::kLong);
  return {data::to_float(splits.train.images.index_select(0, idx)),
          splits.train.labels.index_select(0, idx)};
}

}  // namespace etuner::harness
