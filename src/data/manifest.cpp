// Manifests: a recorded stream as rows `time, path, label, scenario` (JSONL or CSV), the
// images decoded into one tensor. Every error names the manifest and the line.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "etuner/csv.h"
#include "data/internal.h"
#include "etuner/data.h"
#include "etuner/error.h"

namespace etuner::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& columns() {
  static const std::vector<std::string> kColumns = {"time", "path", "label", "scenario"};
  return kColumns;
}

struct Where {
  std::string file;
  size_t line;
  std::string operator()(const std::string& what) const {
    return file + " line " + std::to_string(line) + ": " + what;
  }
};

void check_columns(const json& row, const Where& at) {
  for (const auto& [key, value] : row.items())
    if (std::find(columns().begin(), columns().end(), key) == columns().end())
      throw ConfigError(
          at("unknown column '" + key + "' (valid: " + detail::join(columns()) + ")"));
  for (const char* key : {"time", "path"})
    if (!row.contains(key) || row[key].is_null() || row[key] == "")
      throw ConfigError(at(std::string("'") + key + "' is missing"));
}

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// A number, or a CSV field holding one; `what` names the column in the error.
double number_of(const json& v, const std::string& what, const Where& at) {
  if (v.is_number()) return v.get<double>();
  const std::string text = text_of(v);
  try {
    size_t used = 0;
    const double x = std::stod(text, &used);
    if (used == text.size()) return x;
  } catch (const std::logic_error&) {  // invalid_argument, out_of_range
  }
  throw ConfigError(at(what + " '" + text + "' is not a number"));
}

int64_t label_of(const json& row, int num_classes, const Where& at) {
  if (!row.contains("label") || row["label"].is_null() || row["label"] == "") return -1;
  const double x = number_of(row["label"], "label", at);
  if (x != std::floor(x) || x < 0 || x >= num_classes)
    throw ConfigError(at("label " + text_of(row["label"]) + " out of range 0.." +
                         std::to_string(num_classes - 1) + " (data.num_classes is " +
                         std::to_string(num_classes) + ")"));
  return static_cast<int64_t>(x);
}

ManifestRow parse_row(const json& row, int num_classes, const fs::path& folder, const Where& at) {
  if (!row.is_object()) throw ConfigError(at("expected a JSON object"));
  check_columns(row, at);
  ManifestRow r;
  r.line = at.line;
  r.time_s = number_of(row["time"], "time", at);
  if (!std::isfinite(r.time_s)) throw ConfigError(at("time must be a finite number"));
  const fs::path p = text_of(row["path"]);
  r.path = (p.is_absolute() ? p : folder / p).string();
  if (!fs::is_regular_file(r.path)) throw IoError(at("image '" + r.path + "' not found"));
  r.label = label_of(row, num_classes, at);
  if (row.contains("scenario") && row["scenario"].is_string())
    r.scenario = row["scenario"].get<std::string>();
  return r;
}

// JSONL: one object per line; blank lines are skipped.
std::vector<std::pair<size_t, json>> read_jsonl(const std::string& path, std::istream& in) {
  std::vector<std::pair<size_t, json>> rows;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      rows.emplace_back(n, json::parse(line));
    } catch (const json::parse_error& e) {
      throw ConfigError(Where{path, n}("invalid JSON: " + std::string(e.what())));
    }
  }
  return rows;
}

// CSV (RFC 4180, one record per line): a header naming the columns, in any order.
std::vector<std::pair<size_t, json>> read_csv_rows(const std::string& path, std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) throw ConfigError(path + ": empty manifest (no header line)");
  const auto header = split_csv_line(line);
  for (const auto& name : header)
    if (std::find(columns().begin(), columns().end(), name) == columns().end())
      throw ConfigError(
          Where{path, 1}("unknown column '" + name + "' (valid: " + detail::join(columns()) + ")"));
  std::vector<std::pair<size_t, json>> rows;
  for (size_t n = 2; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto fields = split_csv_line(line);
    if (fields.size() != header.size())
      throw ConfigError(Where{path, n}(std::to_string(fields.size()) + " fields, the header has " +
                                       std::to_string(header.size())));
    json row = json::object();
    for (size_t k = 0; k < header.size(); ++k) row[header[k]] = fields[k];
    rows.emplace_back(n, row);
  }
  return rows;
}

bool is_csv(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".csv";
}

std::vector<ManifestRow> read_rows(const std::string& path, int num_classes) {
  std::ifstream in(path);
  if (!in) throw IoError(path + ": cannot open the manifest");
  const auto raw = is_csv(path) ? read_csv_rows(path, in) : read_jsonl(path, in);
  if (raw.empty()) throw ConfigError(path + ": the manifest has no rows");
  std::vector<ManifestRow> rows;
  const fs::path folder = fs::path(path).parent_path();
  for (const auto& [line, row] : raw)
    rows.push_back(parse_row(row, num_classes, folder, Where{path, line}));
  std::stable_sort(rows.begin(), rows.end(),
                   [](const ManifestRow& a, const ManifestRow& b) { return a.time_s < b.time_s; });
  return rows;
}

// One image as uint8 [C, H, W] at `size` (resized when allowed, else IoError with the line).
torch::Tensor load_image(const ManifestRow& r, int channels, const ImageSize& size,
                         const std::string& manifest) {
  const Where at{manifest, r.line};
  const auto bytes = detail::read_file(r.path);
  detail::ImageInfo info;
  if (!detail::probe_image(bytes, &info)) throw IoError(at(r.path + ": not a PNG or JPEG image"));
  auto hwc = detail::decode_image(bytes, channels, info, r.path);
  auto chw = torch::from_blob(hwc.data(), {info.height, info.width, channels}, torch::kUInt8)
                 .permute({2, 0, 1})
                 .clone();
  if (info.height == size.height && info.width == size.width) return chw;
  if (!size.resize)
    throw IoError(at(r.path + " is " + std::to_string(info.width) + "x" +
                     std::to_string(info.height) + ", the stream's images are " +
                     std::to_string(size.width) + "x" + std::to_string(size.height) +
                     " (set input.size_mismatch to \"resize\" to resize it)"));
  return resize_images(chw.unsqueeze(0), size.height, size.width).squeeze(0);
}

}  // namespace

torch::Tensor resize_images(const torch::Tensor& images_u8, int height, int width) {
  namespace F = torch::nn::functional;
  auto x = images_u8.to(torch::kFloat);
  auto y = F::interpolate(x, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{height, width})
                                 .mode(torch::kBilinear)
                                 .align_corners(false));
  return y.round_().clamp_(0, 255).to(torch::kUInt8);
}

Manifest load_manifest(const std::string& path, int num_classes, ImageSize size) {
  if (num_classes <= 0)
    throw ConfigError("data.num_classes: a manifest stream needs its number of classes (> 0)");
  Manifest m;
  m.rows = read_rows(path, num_classes);
  detail::ImageInfo first;
  if (!detail::probe_image(detail::read_file(m.rows[0].path), &first))
    throw IoError(Where{path, m.rows[0].line}(m.rows[0].path + ": not a PNG or JPEG image"));
  const int channels = first.channels <= 2 ? 1 : 3;  // an alpha channel is dropped
  if (size.height <= 0 || size.width <= 0) size = {first.height, first.width, size.resize};
  std::vector<torch::Tensor> images;
  for (const auto& r : m.rows) images.push_back(load_image(r, channels, size, path));
  m.images = torch::stack(images);
  return m;
}

}  // namespace etuner::data
