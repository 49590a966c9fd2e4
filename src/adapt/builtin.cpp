// The adapter table: name, one-line help, factory. Add an adapter here and nowhere else.
#include "adapt/adapters.h"
#include "etuner/adapt.h"

namespace etuner::adapt {

const Registry<policy::AdaptOptions>& registry() {
  static const Registry<policy::AdaptOptions> r(
      "adapter",
      {
          {"none", "no label-free adaptation: the deployed version answers as trained", make_none},
          {"bn", "BatchNorm statistics follow answered requests (a step per chunk of answers)",
           make_bn},
          {"bn-ssl", "bn + confident answers kept as pseudo-labels for the next round",
           make_bn_ssl},
          {"eata",
           "bn + EATA-style entropy steps on BatchNorm's affine parameters (confident, "
           "non-redundant answers; Fisher penalty; optional resets)",
           make_eata},
      });
  return r;
}

}  // namespace etuner::adapt
