// Request parsing for `etuner serve`, kept free of torch so the fuzz targets (fuzz/) build it
// with clang alone. Everything a client can send is validated here; the rest of the server
// only sees well-formed inputs.
//
//   serve::InputSpec spec{1, 28, 28, 10};
//   serve::Input in = serve::parse_predict("image/png", body, spec);   // or throws RequestError
//   in.pixels;  // C*H*W floats in [0,1] (images) or as sent (raw tensors), CHW order
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "etuner/error.h"

namespace etuner::serve {

// What the model takes: images must match it exactly (rejected otherwise, never resized).
struct InputSpec {
  int channels = 3;
  int height = 32;
  int width = 32;
  int num_classes = 10;
  size_t pixel_count() const { return static_cast<size_t>(channels) * height * width; }
};

// A request the server refuses: an HTTP status (4xx/503), a stable machine-readable code and
// a message for people. http.cpp turns it into the JSON error body in one place.
class RequestError : public Error {
 public:
  RequestError(int status, std::string code, const std::string& message)
      : Error(message), status_(status), code_(std::move(code)) {}
  const char* kind() const noexcept override { return "request"; }
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

struct Input {
  std::vector<float> pixels;  // CHW, pixel_count() values, all finite
  std::optional<int64_t> label;
};

// POST /v1/predict. content_type: image/png, image/jpeg, application/octet-stream (an
// encoded image) or application/json ({"image": base64} or {"tensor": [...], "shape": [C,H,W]}).
Input parse_predict(const std::string& content_type, const std::string& body,
                    const InputSpec& spec);

// POST /v1/predict:batch: application/json {"instances": [item, ...]}, each item an object as
// predict's JSON body ({"image": base64} or {"tensor": [...], "shape": [...]}), 1 to
// kMaxBatch items (the body limit bounds the bytes). Any bad item refuses the whole batch
// with the item's index in the message.
constexpr size_t kMaxBatch = 256;
std::vector<Input> parse_predict_batch(const std::string& content_type, const std::string& body,
                                       const InputSpec& spec);

// POST /v1/samples: as predict plus a label, from the JSON "label" field or, for an image
// body, the `label` query parameter (label_param; empty when absent).
Input parse_sample(const std::string& content_type, const std::string& body,
                   const std::string& label_param, const InputSpec& spec);

// PNG/JPEG bytes -> CHW floats in [0,1]. Throws RequestError: 400 bad_image when the bytes do
// not decode (malformed, truncated), 422 wrong_shape when size or channels differ from spec.
std::vector<float> decode_image(const std::string& bytes, const InputSpec& spec);

// Standard base64 (RFC 4648, padding optional, no whitespace). Throws RequestError 400.
std::string base64_decode(const std::string& text);

}  // namespace etuner::serve
