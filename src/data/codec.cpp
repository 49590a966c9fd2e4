// PNG/JPEG decoding and JPEG re-encoding through stb_image / stb_image_write (Debian
// libstb-dev). The implementations are compiled here, once, as static functions.
//
// Why stb for the JPEG corruption rather than libjpeg: etuner_data links only torch and zlib,
// and stb's encoder uses the same baseline quantisation tables and quality scaling as IJG
// libjpeg (which PIL uses in the CIFAR-10-C reference), with 4:2:0 chroma subsampling at the
// qualities CIFAR-10-C uses (<= 90). The DCT and chroma filters differ slightly, so pixels
// are close to, not identical with, PIL's output (docs/shifts.md).
#include <fstream>
#include <memory>

#include "data/internal.h"
#include "etuner/error.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#include <stb/stb_image.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

namespace etuner::data::detail {
namespace {

struct StbFree {
  void operator()(stbi_uc* p) const { stbi_image_free(p); }
};
using StbPixels = std::unique_ptr<stbi_uc, StbFree>;

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* bytes = static_cast<const uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

int byte_count(const std::vector<uint8_t>& bytes) {
  // stb takes an int length; images here are tiny, but refuse rather than wrap.
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) throw IoError("image larger than 2 GiB");
  return static_cast<int>(bytes.size());
}

}  // namespace

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IoError("cannot open " + path);
  const auto size = static_cast<size_t>(in.tellg());
  std::vector<uint8_t> bytes(size);
  in.seekg(0);
  if (size > 0 &&
      !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    throw IoError("cannot read " + path);
  }
  return bytes;
}

bool probe_image(const std::vector<uint8_t>& bytes, ImageInfo* info) {
  return stbi_info_from_memory(bytes.data(), byte_count(bytes), &info->width, &info->height,
                               &info->channels) != 0;
}

std::vector<uint8_t> decode_image(const std::vector<uint8_t>& bytes, int channels,
                                  const ImageInfo& expect, const std::string& name) {
  int w = 0, h = 0, n = 0;
  StbPixels px(stbi_load_from_memory(bytes.data(), byte_count(bytes), &w, &h, &n, channels));
  if (!px) throw IoError(name + ": cannot decode image (" + stbi_failure_reason() + ")");
  if (w != expect.width || h != expect.height) {
    throw IoError(name + ": image is " + std::to_string(w) + "x" + std::to_string(h) +
                  ", but the split's images are " + std::to_string(expect.width) + "x" +
                  std::to_string(expect.height) + " (all images of a split must share one size)");
  }
  return std::vector<uint8_t>(px.get(), px.get() + static_cast<size_t>(w) * h * channels);
}

std::vector<uint8_t> jpeg_roundtrip(const uint8_t* hwc, int width, int height, int channels,
                                    int quality) {
  std::vector<uint8_t> encoded;
  if (!stbi_write_jpg_to_func(append_bytes, &encoded, width, height, channels, hwc, quality)) {
    throw IoError("JPEG encoding failed");
  }
  int w = 0, h = 0, n = 0;
  StbPixels px(stbi_load_from_memory(encoded.data(), byte_count(encoded), &w, &h, &n, channels));
  if (!px) throw IoError(std::string("JPEG decoding failed: ") + stbi_failure_reason());
  return std::vector<uint8_t>(px.get(), px.get() + static_cast<size_t>(w) * h * channels);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace etuner::data::detail
