// libFuzzer target: predict and sample request parsing (content type, JSON, base64, raw
// tensors, labels). The first byte picks the route and content type; the rest is the body.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "serve/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* kTypes[] = {"application/json", "image/png", "application/octet-stream",
                                 "application/json; charset=utf-8", "text/plain"};
  static const char* kLabels[] = {"", "3", "12", "-1", "x"};
  const etuner::serve::InputSpec spec{1, 4, 4, 5};
  const uint8_t sel = data[0];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const auto in = (sel & 1) ? etuner::serve::parse_sample(kTypes[(sel >> 1) % 5], body,
                                                            kLabels[(sel >> 4) % 5], spec)
                              : etuner::serve::parse_predict(kTypes[(sel >> 1) % 5], body, spec);
    if (in.pixels.size() != spec.pixel_count()) __builtin_trap();
    for (float v : in.pixels)
      if (!std::isfinite(v)) __builtin_trap();
    if ((sel & 1) && (!in.label || *in.label < 0 || *in.label >= spec.num_classes))
      __builtin_trap();
  } catch (const etuner::serve::RequestError& e) {
    if (e.status() < 400 || e.status() > 499) __builtin_trap();
  }
  return 0;
}
