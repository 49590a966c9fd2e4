// Private helpers shared by the data module's loaders and shifts (not installed, not API).
//
// The image codecs live behind this header so that stb_image's implementation is compiled in
// exactly one translation unit (codec.cpp) and, being static there, never clashes with another
// copy linked into the same program (a test that writes fixtures with stb_image_write, say).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace etuner::data::detail {

// The whole file, or IoError naming the path.
std::vector<uint8_t> read_file(const std::string& path);

// Width, height and channel count of an encoded PNG/JPEG; false if it is not one.
struct ImageInfo {
  int width = 0;
  int height = 0;
  int channels = 0;
};
bool probe_image(const std::vector<uint8_t>& bytes, ImageInfo* info);

// Decodes PNG/JPEG bytes to `channels` interleaved channels (HWC). Throws IoError naming
// `name` if the bytes do not decode or the size differs from `expect` (width, height).
std::vector<uint8_t> decode_image(const std::vector<uint8_t>& bytes, int channels,
                                  const ImageInfo& expect, const std::string& name);

// Encodes an HWC uint8 image as a baseline JPEG at `quality` (1..100) and decodes it back.
std::vector<uint8_t> jpeg_roundtrip(const uint8_t* hwc, int width, int height, int channels,
                                    int quality);

// The CIFAR-10 classes in the official label order 0..9.
const std::vector<std::string>& cifar10_class_names();

// "a, b, c": for error messages that list the valid choices.
std::string join(const std::vector<std::string>& items);

}  // namespace etuner::data::detail
