// etuner as a library: every public header at once. Link etuner::etuner (docs/library.md).
//
//   #include <etuner/etuner.h>
//   auto policy = etuner::policy::make("etuner");
//   etuner::runtime::Runtime rt(std::move(model), std::move(policy), cfg, std::move(meter));
//
// Each header below also stands alone; include only those you use to compile faster.
// Not for use inside etuner itself: modules include what they use (cmake/modules.txt).
#pragma once

#include "etuner/adapt.h"
#include "etuner/csv.h"
#include "etuner/data.h"
#include "etuner/device_profile.h"
#include "etuner/error.h"
#include "etuner/fields.h"
#include "etuner/freeze.h"
#include "etuner/harness.h"
#include "etuner/meter.h"
#include "etuner/model.h"
#include "etuner/policy.h"
#include "etuner/presets.h"
#include "etuner/publisher.h"
#include "etuner/registry.h"
#include "etuner/report.h"
#include "etuner/runtime.h"
#include "etuner/runtime_records.h"
#include "etuner/sched.h"
#include "etuner/serve.h"
#include "etuner/shift.h"
#include "etuner/stream.h"
#include "etuner/train_config.h"
#include "etuner/tuning.h"
#include "etuner/version.h"
