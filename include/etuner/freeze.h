// Freezing policies (what to train): one file each in src/freeze/, listed in builtin.cpp.
#pragma once
#include "etuner/policy.h"
#include "etuner/registry.h"

namespace etuner::freeze {
const Registry<policy::Freezer>& registry();
}  // namespace etuner::freeze
