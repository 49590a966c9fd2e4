// Helpers for the serve tests: encoded test images, base64, a tiny server configuration.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "etuner/serve.h"
#include "fixtures.h"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

namespace etuner::serve_test {

inline void append(void* ctx, void* data, int size) {
  auto* out = static_cast<std::string*>(ctx);
  out->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

// An HWC image whose pixel values encode their position, so decoding order can be checked.
inline std::vector<uint8_t> pattern(int c, int h, int w) {
  std::vector<uint8_t> px(static_cast<size_t>(c) * h * w);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 7) % 251);
  return px;
}

inline std::string png(int c, int h, int w) {
  std::string out;
  auto px = pattern(c, h, w);
  stbi_write_png_to_func(append, &out, w, h, c, px.data(), w * c);
  return out;
}

inline std::string jpeg(int c, int h, int w) {
  std::string out;
  auto px = pattern(c, h, w);
  stbi_write_jpg_to_func(append, &out, w, h, c, px.data(), 90);
  return out;
}

inline std::string base64(const std::string& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v =
        (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += std::string{k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += std::string{k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

// The tiny zoo model on 1x12x12 inputs, 10 classes, small rounds: fast on 2 cores.
inline serve::ServeConfig tiny_config(const std::string& data_dir) {
  serve::ServeConfig c;
  c.model = "tiny";
  c.classes = 10;
  c.channels = 1;
  c.height = c.width = 12;
  c.policy = "immediate";
  c.data_dir = data_dir;
  c.port = 0;
  c.batch_samples = 8;
  c.batch_wait_s = 0.2;
  c.quiet = true;
  return c;
}

}  // namespace etuner::serve_test
