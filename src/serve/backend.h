// What the HTTP routes (http.cpp) ask of the serving core: the seam between the torch-free
// HTTP front and the Engine (LibTorch). The Engine implements it in production; the HTTP
// fuzz target (fuzz/fuzz_http.cpp) puts a fake behind the same routes and limits.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "serve/request.h"

namespace etuner::serve {

struct PredictResult {
  int64_t label = 0;
  double confidence = 0;
  int version = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual PredictResult predict(const std::vector<float>& pixels) = 0;
  virtual int64_t add_sample(std::vector<float> pixels, int64_t label) = 0;  // durable on return
  virtual nlohmann::json status() const = 0;
  virtual std::string metrics_text() const = 0;  // model and training gauges
  virtual const InputSpec& input() const = 0;
};

}  // namespace etuner::serve
