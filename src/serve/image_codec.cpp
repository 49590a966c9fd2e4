// Image and base64 decoding of request bodies.
//
// Why a second stb_image copy (src/data/codec.cpp has one): this file must build without
// torch for the fuzz targets, and stb compiled STATIC here never clashes with the data
// module's copy. Only PNG and JPEG are compiled in, and the header is probed before any
// pixel is decoded, so a request can never make the server allocate more than the model's
// own input size (no decompression bombs).
#include <cmath>
#include <memory>

#include "serve/request.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS 16384
// stb's internal asserts off in every build, as Release (NDEBUG) ships them: on some corrupt
// JPEGs stbi__jpeg_huff_decode's consistency assert fires nondeterministically (it reads
// state the malformed stream never set), and an abort would take the whole server down.
// The fuzz build then checks what ships: memory safety (ASan) and UB (UBSan), not stb's asserts.
#define STBI_ASSERT(x) ((void)0)
#include <stb/stb_image.h>

namespace etuner::serve {
namespace {

struct StbFree {
  void operator()(stbi_uc* p) const { stbi_image_free(p); }
};

std::string shape_text(int c, int h, int w) {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

int stb_length(const std::string& bytes) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    throw RequestError(413, "body_too_large", "image larger than 2 GiB");
  return static_cast<int>(bytes.size());
}

const stbi_uc* stb_bytes(const std::string& bytes) {
  return reinterpret_cast<const stbi_uc*>(bytes.data());
}

// stb_image (Debian's 2022 copy) trusts a JPEG DHT table's code counts: a sum over 256
// writes past its 257-entry size and 256-entry value arrays (found by fuzz/fuzz_image; fixed
// upstream later with this same check). Every FF C4 in the body is read the way stb reads a
// DHT segment (bytes past the end read as 0, as stb's do), a superset of the segments stb
// will process, and a table whose counts exceed 256 rejects the image before stb sees it.
bool jpeg_tables_safe(const std::string& b) {
  const auto byte = [&](size_t i) { return i < b.size() ? static_cast<unsigned char>(b[i]) : 0; };
  for (size_t p = 0; p + 1 < b.size(); ++p) {
    if (byte(p) != 0xff || byte(p + 1) != 0xc4) continue;
    long left = ((byte(p + 2) << 8) | byte(p + 3)) - 2;
    for (size_t q = p + 4; left > 0 && q < b.size();) {
      if ((byte(q) >> 4) > 1 || (byte(q) & 15) > 3) break;  // stb refuses this header itself
      int n = 0;
      for (size_t i = 1; i <= 16; ++i) n += byte(q + i);
      if (n > 256) return false;
      q += 17 + n;
      left -= 17 + n;
    }
  }
  return true;
}

uint64_t be32(const std::string& b, size_t p) {
  uint64_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(b[p + i]);
  return v;
}

// Bytes of a PNG's filtered scanlines (IHDR at p), or "unbounded" for sizes the shape check
// refuses anyway.
uint64_t png_raw_bytes(const std::string& b, size_t p) {
  const uint64_t w = be32(b, p), h = be32(b, p + 4), depth = static_cast<unsigned char>(b[p + 8]);
  static const uint64_t kChannels[7] = {1, 0, 3, 1, 2, 0, 4};  // by colour type
  const auto type = static_cast<unsigned char>(b[p + 9]);
  if (w > 65536 || h > 65536 || type > 6) return UINT64_MAX / 4;
  return h * (1 + (w * kChannels[type] * depth + 7) / 8);
}

// stb allocates a PNG chunk's declared length before reading it (a 100-byte body asked for
// 2 GiB: fuzz/regressions/request/stb-png-chunk-length-oom) and inflates IDAT without an
// output limit. So: every chunk must fit in the body, and the IDAT total may not exceed twice
// the image's raw size (deflate never expands real data that much), which bounds what a
// deflate bomb can inflate to about 2000x the image's own size.
bool png_chunks_safe(const std::string& b) {
  static const char kSig[] = "\x89PNG\r\n\x1a\n";
  if (b.size() < 8 || b.compare(0, 8, kSig, 8) != 0) return true;  // not a PNG
  uint64_t raw = 0, idat = 0;
  for (size_t p = 8; p + 8 <= b.size();) {
    const uint64_t len = be32(b, p);
    if (len > b.size() - p - 8) return false;
    const std::string type = b.substr(p + 4, 4);
    if (type == "IHDR" && len >= 13) raw = png_raw_bytes(b, p + 8);
    if (type == "IDAT") idat += len;
    if (type == "IEND") break;
    p += 12 + len;
  }
  return idat <= 2 * raw + 4096;
}

// Rejects (never resizes or converts): a silent resize or colour conversion would change
// what the model sees without the client knowing, and samples would train on it.
void check_header(const std::string& bytes, const InputSpec& spec) {
  if (!jpeg_tables_safe(bytes))
    throw RequestError(400, "bad_image", "corrupt JPEG (bad Huffman table)");
  if (!png_chunks_safe(bytes))
    throw RequestError(400, "bad_image", "corrupt or truncated PNG (chunk sizes)");
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(stb_bytes(bytes), stb_length(bytes), &w, &h, &c))
    throw RequestError(400, "bad_image", "body is not a PNG or JPEG image");
  if (w != spec.width || h != spec.height || c != spec.channels)
    throw RequestError(422, "wrong_shape",
                       "image is " + shape_text(c, h, w) + " (CxHxW) but the model takes " +
                           shape_text(spec.channels, spec.height, spec.width));
}

int base64_value(unsigned char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '+') return 62;
  if (ch == '/') return 63;
  return -1;
}

}  // namespace

std::vector<float> decode_image(const std::string& bytes, const InputSpec& spec) {
  check_header(bytes, spec);
  int w = 0, h = 0, c = 0;
  std::unique_ptr<stbi_uc, StbFree> px(
      stbi_load_from_memory(stb_bytes(bytes), stb_length(bytes), &w, &h, &c, spec.channels));
  // A header that probes fine can still hide a truncated or corrupt body.
  if (!px || w != spec.width || h != spec.height)
    throw RequestError(400, "bad_image",
                       std::string("image does not decode: ") + stbi_failure_reason());
  std::vector<float> chw(spec.pixel_count());
  const size_t plane = static_cast<size_t>(w) * h;
  for (size_t i = 0; i < plane; ++i)
    for (int k = 0; k < spec.channels; ++k)
      chw[k * plane + i] = px.get()[i * spec.channels + k] / 255.0f;
  return chw;
}

std::string base64_decode(const std::string& text) {
  size_t n = text.size();
  while (n > 0 && text[n - 1] == '=' && text.size() - n < 2) --n;
  if (n % 4 == 1) throw RequestError(400, "bad_base64", "base64 text has an impossible length");
  std::string out;
  out.reserve(n * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    const int v = base64_value(static_cast<unsigned char>(text[i]));
    if (v < 0)
      throw RequestError(400, "bad_base64",
                         "invalid base64 character at offset " + std::to_string(i));
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace etuner::serve
