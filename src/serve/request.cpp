// Parsing of predict and sample requests: content type, JSON, raw tensors, labels.
#include <cmath>
#include <nlohmann/json.hpp>

#include "serve/request.h"

namespace etuner::serve {
namespace {

using nlohmann::json;

constexpr int kMaxTensorDepth = 4;  // [C][H][W] nesting at most, plus one spare

std::string media_type(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  for (auto& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return t;
}

bool is_image_type(const std::string& t) {
  return t == "image/png" || t == "image/jpeg" || t == "application/octet-stream";
}

[[noreturn]] void bad_request(const std::string& code, const std::string& message) {
  throw RequestError(400, code, message);
}

json parse_json(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) bad_request("invalid_json", "body is not valid JSON");
  if (!j.is_object()) bad_request("invalid_json", "body must be a JSON object");
  return j;
}

void check_keys(const json& j, bool with_label) {
  for (const auto& item : j.items()) {
    const auto& k = item.key();
    if (k == "image" || k == "tensor" || k == "shape" || (with_label && k == "label")) continue;
    bad_request("unknown_field", "unknown field '" + k + "' (valid: image, tensor, shape" +
                                     std::string(with_label ? ", label" : "") + ")");
  }
}

// Flattens nested numeric arrays in row-major order, refusing anything else early.
void flatten(const json& v, int depth, size_t limit, std::vector<float>& out) {
  if (depth > kMaxTensorDepth) bad_request("bad_tensor", "tensor nested too deeply");
  if (v.is_array()) {
    for (const auto& e : v) flatten(e, depth + 1, limit, out);
    return;
  }
  if (!v.is_number()) bad_request("bad_tensor", "tensor values must be numbers");
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > 3.0e38)
    bad_request("bad_tensor", "tensor values must be finite floats");
  if (out.size() >= limit) throw RequestError(422, "wrong_shape", "tensor has too many values");
  out.push_back(static_cast<float>(d));
}

void check_shape_field(const json& shape, const InputSpec& spec) {
  const json want = {spec.channels, spec.height, spec.width};
  if (shape != want)
    throw RequestError(422, "wrong_shape",
                       "'shape' differs from the model's " + want.dump() +
                           " (C,H,W)");  // never echo user JSON: it may nest deeply
}

std::vector<float> tensor_pixels(const json& j, const InputSpec& spec) {
  if (j.contains("shape")) check_shape_field(j["shape"], spec);
  if (!j["tensor"].is_array()) bad_request("bad_tensor", "'tensor' must be an array of numbers");
  std::vector<float> out;
  out.reserve(spec.pixel_count());
  flatten(j["tensor"], 0, spec.pixel_count(), out);
  if (out.size() != spec.pixel_count())
    throw RequestError(422, "wrong_shape",
                       "tensor has " + std::to_string(out.size()) + " values but the model takes " +
                           std::to_string(spec.pixel_count()));
  return out;
}

std::vector<float> json_pixels(const json& j, const InputSpec& spec) {
  const bool image = j.contains("image"), tensor = j.contains("tensor");
  if (image == tensor) bad_request("bad_request", "give exactly one of 'image' or 'tensor'");
  if (tensor) return tensor_pixels(j, spec);
  if (!j["image"].is_string()) bad_request("bad_request", "'image' must be a base64 string");
  if (j.contains("shape")) check_shape_field(j["shape"], spec);
  return decode_image(base64_decode(j["image"].get<std::string>()), spec);
}

int64_t checked_label(int64_t label, const InputSpec& spec) {
  if (label < 0 || label >= spec.num_classes)
    throw RequestError(422, "unknown_label",
                       "label " + std::to_string(label) + " is not a class of this model (0.." +
                           std::to_string(spec.num_classes - 1) + ")");
  return label;
}

int64_t json_label(const json& j, const InputSpec& spec) {
  if (!j.contains("label")) bad_request("missing_label", "a sample needs a 'label'");
  const auto& l = j["label"];
  if (!l.is_number_integer()) bad_request("bad_label", "'label' must be an integer");
  if (l.is_number_unsigned() && l.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    throw RequestError(422, "unknown_label", "label out of range");
  return checked_label(l.get<int64_t>(), spec);
}

int64_t query_label(const std::string& text, const InputSpec& spec) {
  if (text.empty()) bad_request("missing_label", "an image sample needs ?label=<class>");
  if (text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    bad_request("bad_label", "label must be a non-negative integer");
  return checked_label(std::stoll(text), spec);
}

void check_media(const std::string& t) {
  if (t != "application/json" && !is_image_type(t))
    throw RequestError(415, "unsupported_media_type",
                       "Content-Type '" + t +
                           "' (use image/png, image/jpeg, "
                           "application/octet-stream or application/json)");
}

}  // namespace

Input parse_predict(const std::string& content_type, const std::string& body,
                    const InputSpec& spec) {
  const auto t = media_type(content_type);
  check_media(t);
  if (is_image_type(t)) return {decode_image(body, spec), std::nullopt};
  const json j = parse_json(body);
  check_keys(j, false);
  return {json_pixels(j, spec), std::nullopt};
}

std::vector<Input> parse_predict_batch(const std::string& content_type, const std::string& body,
                                       const InputSpec& spec) {
  const auto t = media_type(content_type);
  if (t != "application/json")
    throw RequestError(415, "unsupported_media_type",
                       "a batch is application/json {\"instances\": [...]}");
  const json j = parse_json(body);
  for (const auto& item : j.items())
    if (item.key() != "instances")
      bad_request("unknown_field", "unknown field '" + item.key() + "' (valid: instances)");
  if (!j.contains("instances") || !j["instances"].is_array())
    bad_request("bad_request", "'instances' must be an array of predict objects");
  const auto& items = j["instances"];
  if (items.empty()) bad_request("bad_request", "'instances' is empty");
  if (items.size() > kMaxBatch)
    throw RequestError(413, "batch_too_large",
                       std::to_string(items.size()) + " instances; at most " +
                           std::to_string(kMaxBatch) + " per batch");
  std::vector<Input> out;
  out.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    try {
      if (!items[i].is_object()) bad_request("bad_request", "an instance must be a JSON object");
      check_keys(items[i], false);
      out.push_back({json_pixels(items[i], spec), std::nullopt});
    } catch (const RequestError& e) {
      throw RequestError(e.status(), e.code(),
                         "instances[" + std::to_string(i) + "]: " + std::string(e.what()));
    }
  }
  return out;
}

Input parse_sample(const std::string& content_type, const std::string& body,
                   const std::string& label_param, const InputSpec& spec) {
  const auto t = media_type(content_type);
  check_media(t);
  if (is_image_type(t)) {
    const int64_t label = query_label(label_param, spec);  // before decoding: cheap first
    return {decode_image(body, spec), label};
  }
  const json j = parse_json(body);
  check_keys(j, true);
  const int64_t label = json_label(j, spec);
  return {json_pixels(j, spec), label};
}

}  // namespace etuner::serve
