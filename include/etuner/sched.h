// Scheduling policies (when to tune): one file each in src/sched/, listed in builtin.cpp.
#pragma once
#include "etuner/policy.h"
#include "etuner/registry.h"

namespace etuner::sched {
const Registry<policy::Scheduler>& registry();
}  // namespace etuner::sched
