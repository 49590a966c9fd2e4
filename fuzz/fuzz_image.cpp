// libFuzzer target: image decoding of request bodies (JPEG via libjpeg-turbo, PNG via libpng). The
// first byte picks the model's input spec, so wrong-shape rejection and full decoding are both
// reached.
#include <cstddef>
#include <cstdint>
#include <string>

#include "serve/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const etuner::serve::InputSpec kSpecs[] = {
      {1, 8, 8, 10}, {3, 8, 8, 10}, {1, 28, 28, 10}, {3, 32, 32, 10}, {4, 16, 16, 2}};
  const auto& spec = kSpecs[data[0] % 5];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const auto px = etuner::serve::decode_image(body, spec);
    if (px.size() != spec.pixel_count()) __builtin_trap();  // the contract: exactly C*H*W
    for (float v : px)
      if (!(v >= 0.0f && v <= 1.0f)) __builtin_trap();
  } catch (const etuner::serve::RequestError& e) {
    if (e.status() < 400 || e.status() > 499) __builtin_trap();  // bad input is always 4xx
  }
  return 0;
}
