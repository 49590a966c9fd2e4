// bn: BatchNorm statistics of the serving copy follow answered requests, a step per
// `bn_chunk` answers (docs/algorithms.md, "BatchNorm statistics in etuner"). bn-ssl also
// keeps confident answers as pseudo-labels for the next round.
#include <algorithm>

#include "adapt/adapters.h"
#include "etuner/fields.h"

namespace etuner::adapt {
namespace {

policy::AdaptOptions read_bn(const nlohmann::json& params, const char* name, bool pseudo) {
  auto a = policy::AdaptOptions{}.with_bn().with_pseudo_labels(pseudo);
  Fields f(params, name);
  read_statistics_fields(f, a);
  a.pseudo_threshold = f.get("pseudo_threshold", a.pseudo_threshold);
  f.finish();
  return a;
}

}  // namespace

void read_statistics_fields(Fields& f, policy::AdaptOptions& a) {
  a.bn_chunk = std::max(1, f.get("bn_chunk", a.bn_chunk));
  a.bn_images = std::max(0, f.get("bn_images", a.bn_images));
  a.bn_alpha = std::clamp(f.get("bn_alpha", a.bn_alpha), 0.0, 1.0);
  a.bn_fused = f.get("bn_fused", a.bn_fused);
}

std::unique_ptr<policy::AdaptOptions> make_bn(const nlohmann::json& params) {
  return std::make_unique<policy::AdaptOptions>(read_bn(params, "bn", false));
}

std::unique_ptr<policy::AdaptOptions> make_bn_ssl(const nlohmann::json& params) {
  return std::make_unique<policy::AdaptOptions>(read_bn(params, "bn-ssl", true));
}

}  // namespace etuner::adapt
