// Replays one timeline against one runtime and records every answer and every round.
#pragma once
#include <vector>

#include "etuner/runtime.h"
#include "etuner/stream.h"

namespace etuner::harness {

struct Answer {
  int request = 0;
  double time_s = 0;
  int scenario = 0;
  int label = 0;
  int prediction = 0;
  double confidence = 0;
  int version = 0;
  int64_t lag_samples = 0;  // labeled samples the answering version had not consumed yet
};

struct PolicyRun {
  std::string name;
  std::string scheduler;
  std::string freezer;
  std::string adapter;
  std::string description;
  std::vector<Answer> answers;
  std::vector<runtime::RoundRecord> rounds;
  runtime::Totals totals;
  double peak_rss_mb = 0;
};

using Progress = std::function<void(size_t done, size_t total)>;

PolicyRun replay(runtime::Runtime& rt, const stream::Timeline& tl, const Progress& progress);

}  // namespace etuner::harness
