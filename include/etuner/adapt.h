// Adapters (label-free adaptation from answered requests): the third axis of a policy,
// `<scheduler>+<freezer>+<adapter>`. One file each in src/adapt/, listed in builtin.cpp.
// An adapter is a plain value, policy::AdaptOptions, built from its JSON parameters; the
// runtime's one adaptation part (src/runtime/adapter.cpp) applies it.
//
//   auto a = etuner::adapt::registry().make("bn", {{"bn_chunk", 30}});  // a->bn_adapt == true
#pragma once
#include "etuner/policy.h"
#include "etuner/registry.h"

namespace etuner::adapt {
const Registry<policy::AdaptOptions>& registry();
}  // namespace etuner::adapt
