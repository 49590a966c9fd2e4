// Image and base64 decoding of request bodies: JPEG with libjpeg-turbo, PNG with libpng
// (Debian's maintained decoders; stb_image stays for the data sets, src/data/codec.cpp).
//
// Bounds: the header is read first and the image must have exactly the model's width, height
// and channel count before any pixel is decoded, so a request can never make the server
// allocate more than the model's own input (no decompression bombs). Corrupt or truncated
// data is an error, never a partly grey image: libjpeg's warnings ("premature end of data",
// "corrupt data") are treated as errors, and a progressive JPEG may have at most kMaxScans
// scans (each rereads the whole image: a CPU bomb otherwise). The libraries are C: their
// errors end in longjmp (libjpeg) or a return code (libpng's simplified API), never in a C++
// exception thrown through C frames.
#include <png.h>
#include <stdio.h>  // jpeglib.h needs FILE and size_t first
#include <jpeglib.h>

#include <csetjmp>
#include <cstring>

#include "serve/request.h"

namespace etuner::serve {
namespace {

constexpr int kMaxScans = 64;               // progressive JPEG scans
constexpr long kMaxJpegMemory = 64L << 20;  // libjpeg's working memory
constexpr uint32_t kMaxDimension = 16384;   // either side, before the shape check

std::string shape_text(int c, int h, int w) {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

void check_shape(int c, int h, int w, const InputSpec& spec) {
  // Rejects (never resizes or converts): a silent resize or colour conversion would change
  // what the model sees without the client knowing, and samples would train on it.
  if (w != spec.width || h != spec.height || c != spec.channels)
    throw RequestError(422, "wrong_shape",
                       "image is " + shape_text(c, h, w) + " (CxHxW) but the model takes " +
                           shape_text(spec.channels, spec.height, spec.width));
}

[[noreturn]] void bad_image(const std::string& why) { throw RequestError(400, "bad_image", why); }

bool is_png(const std::string& b) {
  return b.size() >= 8 && std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) == 0;
}
bool is_jpeg(const std::string& b) {
  return b.size() >= 3 && static_cast<unsigned char>(b[0]) == 0xff &&
         static_cast<unsigned char>(b[1]) == 0xd8 && static_cast<unsigned char>(b[2]) == 0xff;
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

// Every chunk must fit in the body, and the IDAT total may not exceed twice the image's raw
// size (deflate never expands real data that much): the inflate work stays proportional to
// the image, whatever the decoder does with excess data. A PNG without its IEND chunk was
// cut short: libpng's simplified reader stops after the last IDAT and would accept it.
bool png_chunks_safe(const std::string& b) {
  uint64_t raw = 0, idat = 0;
  bool ended = false;
  for (size_t p = 8; p + 8 <= b.size();) {
    const uint64_t len = be32(b, p);
    if (b.size() - p < 12 || len > b.size() - p - 12) return false;  // length, type, data, CRC
    const std::string type = b.substr(p + 4, 4);
    if (type == "IHDR" && len >= 13) raw = png_raw_bytes(b, p + 8);
    if (type == "IDAT") idat += len;
    if (type == "IEND") {
      ended = true;
      break;
    }
    p += 12 + len;
  }
  return ended && idat <= 2 * raw + 4096;
}

// libpng's simplified API: errors are a return code and image.message.
struct PngImage {
  png_image img{};
  PngImage() { img.version = PNG_IMAGE_VERSION; }
  ~PngImage() { png_image_free(&img); }
};

std::vector<uint8_t> decode_png(const std::string& bytes, const InputSpec& spec) {
  if (!png_chunks_safe(bytes)) bad_image("corrupt or truncated PNG (chunk sizes)");
  PngImage p;
  if (!png_image_begin_read_from_memory(&p.img, bytes.data(), bytes.size()))
    bad_image(std::string("PNG header does not decode: ") + p.img.message);
  if (p.img.width > kMaxDimension || p.img.height > kMaxDimension)
    bad_image("PNG larger than 16384 pixels on a side");
  const int channels = static_cast<int>(PNG_IMAGE_SAMPLE_CHANNELS(p.img.format));
  check_shape(channels, static_cast<int>(p.img.height), static_cast<int>(p.img.width), spec);
  static const png_uint_32 kFormats[5] = {0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB,
                                          PNG_FORMAT_RGBA};
  p.img.format = kFormats[channels];  // the file's own channels, 8 bits each
  std::vector<uint8_t> px(PNG_IMAGE_SIZE(p.img));
  if (!png_image_finish_read(&p.img, nullptr, px.data(), 0, nullptr))
    bad_image(std::string("PNG does not decode: ") + p.img.message);
  return px;
}

// libjpeg: every error and warning ends here, jumps back to decode_jpeg's setjmp.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_fail(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

// Level -1 is a warning about the data (corrupt or truncated): an error here.
void jpeg_message(j_common_ptr cinfo, int level) {
  if (level < 0) jpeg_fail(cinfo);
}

void jpeg_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->is_decompressor && d->input_scan_number > kMaxScans) {
    auto* e = reinterpret_cast<JpegError*>(cinfo->err);
    std::snprintf(e->message, sizeof e->message, "more than %d progressive scans", kMaxScans);
    std::longjmp(e->jump, 1);
  }
}

// Plain C-style state only between setjmp and longjmp (no C++ destructors skipped): the
// header fields come out through `info`, the pixels into `out` (sized by the caller from
// them on a second call).
enum JpegStep { kHeader, kPixels };
struct JpegInfo {
  int width = 0, height = 0, channels = 0;
  bool ok = false;
  char message[JMSG_LENGTH_MAX] = "";
};

void run_jpeg(const std::string& bytes, JpegStep step, JpegInfo& info, uint8_t* out) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  jpeg_progress_mgr progress;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_message;
  err.message[0] = '\0';
  if (setjmp(err.jump)) {
    std::memcpy(info.message, err.message, sizeof info.message);
    info.ok = false;
    jpeg_destroy_decompress(&cinfo);
    return;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.mem->max_memory_to_use = kMaxJpegMemory;
  progress.progress_monitor = jpeg_progress;
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  info.width = static_cast<int>(cinfo.image_width);
  info.height = static_cast<int>(cinfo.image_height);
  info.channels = cinfo.num_components == 1 ? 1 : cinfo.num_components == 3 ? 3 : 0;
  if (step == kPixels) {
    cinfo.out_color_space = info.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    const size_t stride = static_cast<size_t>(info.width) * info.channels;
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW row = out + cinfo.output_scanline * stride;
      jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  info.ok = true;
}

std::vector<uint8_t> decode_jpeg(const std::string& bytes, const InputSpec& spec) {
  JpegInfo info;
  run_jpeg(bytes, kHeader, info, nullptr);
  if (!info.ok) bad_image(std::string("JPEG header does not decode: ") + info.message);
  if (info.channels == 0) bad_image("JPEG colour space not supported (use grayscale or RGB)");
  if (info.width > int(kMaxDimension) || info.height > int(kMaxDimension))
    bad_image("JPEG larger than 16384 pixels on a side");
  check_shape(info.channels, info.height, info.width, spec);
  std::vector<uint8_t> px(spec.pixel_count());
  run_jpeg(bytes, kPixels, info, px.data());
  if (!info.ok) bad_image(std::string("JPEG does not decode: ") + info.message);
  return px;
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
  std::vector<uint8_t> px;
  if (is_png(bytes))
    px = decode_png(bytes, spec);
  else if (is_jpeg(bytes))
    px = decode_jpeg(bytes, spec);
  else
    bad_image("body is not a PNG or JPEG image");
  std::vector<float> chw(spec.pixel_count());
  const size_t plane = static_cast<size_t>(spec.width) * spec.height;
  for (size_t i = 0; i < plane; ++i)
    for (int k = 0; k < spec.channels; ++k) chw[k * plane + i] = px[i * spec.channels + k] / 255.0f;
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
