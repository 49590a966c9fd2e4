// Recorded streams: manifests (CSV and JSONL) read into rows and images, their errors with
// line numbers, and the timeline replayed from them.
#include <gtest/gtest.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <fstream>

#include "etuner/error.h"
#include "etuner/stream.h"
#include "fixtures.h"

using namespace etuner;

namespace {

namespace fs = std::filesystem;

// A w x h RGB PNG whose every pixel is `value`.
void write_png(const fs::path& path, int w, int h, uint8_t value) {
  fs::create_directories(path.parent_path());
  std::vector<uint8_t> px(static_cast<size_t>(w) * h * 3, value);
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, 3, px.data(), w * 3));
}

// Five 4x4 frames (pixel value 10 * i) in <dir>/frames/, and `text` as <dir>/<name>.
std::string manifest(const std::string& test, const std::string& name, const std::string& text) {
  const fs::path dir = fixtures::temp_dir("manifest-" + test);
  for (int i = 0; i < 5; ++i)
    write_png(dir / "frames" / (std::to_string(i) + ".png"), 4, 4, 10 * i);
  std::ofstream(dir / name) << text;
  return (dir / name).string();
}

// Rows out of time order, two unlabeled, a scenario that continues on empty cells.
const char* kCsv =
    "time,path,label,scenario\n"
    "2.0,frames/2.png,1,\n"
    "0.5,frames/0.png,0,day\n"
    "1.0,frames/1.png,,\n"
    "3.0,frames/3.png,2,night\n"
    "\"3.5\",frames/4.png,,\n";

template <class E>
std::string error_of(const std::string& path, int classes = 3, data::ImageSize size = {}) {
  try {
    data::load_manifest(path, classes, size);
  } catch (const E& e) {
    return e.what();
  }
  return "(no error)";
}

stream::StreamSpec manifest_spec(const std::string& path, int batch_size) {
  return stream::parse_spec(
      {{"name", "recorded"},
       {"model", "model.pt"},
       {"data",
        {{"source", "manifest"}, {"root", path}, {"num_classes", 3}, {"batch_size", batch_size}}}});
}

}  // namespace

TEST(Manifest, CsvRowsComeInTimeOrderWithTheirImages) {
  const auto m = data::load_manifest(manifest("csv", "m.csv", kCsv), 3, {});
  ASSERT_EQ(m.rows.size(), 5u);
  std::vector<double> times;
  std::vector<int64_t> labels;
  for (const auto& r : m.rows) times.push_back(r.time_s), labels.push_back(r.label);
  EXPECT_EQ(times, (std::vector<double>{0.5, 1.0, 2.0, 3.0, 3.5}));
  EXPECT_EQ(labels, (std::vector<int64_t>{0, -1, 1, 2, -1}));
  EXPECT_EQ(m.rows[0].line, 3u);
  EXPECT_EQ(m.rows[0].scenario, "day");
  EXPECT_EQ(m.images.sizes(), (std::vector<int64_t>{5, 3, 4, 4}));
  EXPECT_EQ(m.images[2][1][3][3].item<int>(), 20);  // time 2.0 is frames/2.png
}

TEST(Manifest, JsonlReadsTheSameRows) {
  const auto path = manifest("jsonl", "m.jsonl",
                             "{\"time\": 1, \"path\": \"frames/1.png\", \"label\": 2}\n\n"
                             "{\"time\": 0, \"path\": \"frames/0.png\", \"label\": null, "
                             "\"scenario\": \"a\"}\n");
  const auto m = data::load_manifest(path, 3, {});
  ASSERT_EQ(m.rows.size(), 2u);
  EXPECT_EQ(m.rows[0].label, -1);
  EXPECT_EQ(m.rows[0].line, 3u);
  EXPECT_EQ(m.rows[1].label, 2);
}

TEST(Manifest, ErrorsNameTheLine) {
  EXPECT_NE(error_of<ConfigError>(manifest("col", "m.csv", "time,path,lable\n"))
                .find("line 1: unknown column 'lable'"),
            std::string::npos);
  EXPECT_NE(error_of<ConfigError>(manifest("jcol", "m.jsonl",
                                           "{\"time\":0,\"path\":\"frames/0.png\"}\n"
                                           "{\"time\":1,\"path\":\"frames/1.png\",\"x\":1}\n"))
                .find("line 2: unknown column 'x'"),
            std::string::npos);
  EXPECT_NE(error_of<IoError>(
                manifest("missing", "m.csv", "time,path\n0,frames/0.png\n1,frames/nope.png\n"))
                .find("line 3: image"),
            std::string::npos);
  EXPECT_NE(error_of<ConfigError>(manifest("range", "m.csv", "time,path,label\n0,frames/0.png,3\n"))
                .find("line 2: label 3 out of range 0..2"),
            std::string::npos);
  EXPECT_NE(error_of<ConfigError>(manifest("time", "m.csv", "time,path\nsoon,frames/0.png\n"))
                .find("line 2: time 'soon' is not a number"),
            std::string::npos);
}

TEST(Manifest, AnotherSizeIsRejectedOrResized) {
  const auto path = manifest("size", "m.csv", "time,path\n0,frames/0.png\n1,frames/big.png\n");
  write_png(fs::path(path).parent_path() / "frames" / "big.png", 8, 8, 200);
  EXPECT_NE(error_of<IoError>(path).find("line 3"), std::string::npos);
  const auto m = data::load_manifest(path, 3, {4, 4, true});
  EXPECT_EQ(m.images.sizes(), (std::vector<int64_t>{2, 3, 4, 4}));
  EXPECT_EQ(m.images[1][0][2][2].item<int>(), 200);  // a flat image stays flat when resized
}

TEST(Manifest, TimelineAnswersEveryRowAndTrainsOnTheLabeledOnes) {
  const auto path = manifest("timeline", "m.csv", kCsv);
  const auto tl = stream::manifest_timeline(manifest_spec(path, 2));
  // Requests at every row; batches: {0.5, 2.0} full at 2.0, {3.0} closed by the end.
  std::vector<std::pair<int, double>> events;
  for (const auto& e : tl.events)
    events.push_back({e.kind == stream::EventKind::kLabeled, e.time_s});
  EXPECT_EQ(events, (std::vector<std::pair<int, double>>{
                        {0, 0.5}, {0, 1.0}, {0, 2.0}, {1, 2.0}, {0, 3.0}, {0, 3.5}, {1, 3.5}}));
  ASSERT_EQ(tl.batches.size(), 2u);
  EXPECT_TRUE(torch::equal(tl.batches[0].labels, torch::tensor({0, 1}, torch::kLong)));
  EXPECT_TRUE(torch::equal(tl.requests.labels, torch::tensor({0, -1, 1, 2, -1}, torch::kLong)));
  ASSERT_EQ(tl.spans.size(), 2u);
  EXPECT_EQ(tl.spans[0].name, "day");
  EXPECT_EQ(tl.spans[1].name, "night");
  EXPECT_EQ(tl.events[4].scenario, 1);
  EXPECT_EQ(tl.num_classes, 3);
}

TEST(Manifest, ScenarioChangeClosesABatch) {
  const auto tl = stream::manifest_timeline(manifest_spec(manifest("close", "m.csv", kCsv), 8));
  ASSERT_EQ(tl.batches.size(), 2u);  // {0.5, 2.0} of day, {3.0} of night
  EXPECT_EQ(tl.batches[0].labels.numel(), 2);
  EXPECT_EQ(tl.batches[1].labels.numel(), 1);
}

TEST(Manifest, SpecNeedsItsFileAndNoScenarios) {
  auto j = nlohmann::json{{"name", "r"}, {"data", {{"source", "manifest"}, {"num_classes", 3}}}};
  EXPECT_THROW(stream::parse_spec(j), ConfigError);  // no data.root
  j["data"]["root"] = "m.csv";
  j["scenarios"] = nlohmann::json::array({{{"name", "x"}}});
  EXPECT_THROW(stream::parse_spec(j), ConfigError);
  j.erase("scenarios");
  j["input"] = {{"mean", {0.5}}, {"std", {0.25}}, {"size", {8, 6}}, {"size_mismatch", "resize"}};
  const auto s = stream::parse_spec(j);
  EXPECT_EQ(s.input.height, 8);
  EXPECT_EQ(s.input.width, 6);
  j["input"]["std"] = {0.0};
  EXPECT_THROW(stream::parse_spec(j), ConfigError);
}
