// Request parsing: every kind of bad input is a RequestError with a 4xx status and a code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "serve/request.h"
#include "serve_fixtures.h"

namespace etuner::serve {
namespace {

using serve_test::base64;
using serve_test::jpeg;
using serve_test::png;

const InputSpec kGray{1, 12, 12, 10};
const InputSpec kRgb{3, 8, 8, 10};

// The status and code a parse fails with, or (0, "") if it succeeds.
template <typename F>
std::pair<int, std::string> failure(F&& f) {
  try {
    f();
  } catch (const RequestError& e) {
    return {e.status(), e.code()};
  }
  return {0, ""};
}

TEST(ServeParse, PngDecodesToChwInUnitRange) {
  const auto px = decode_image(png(3, 8, 8), kRgb);
  ASSERT_EQ(px.size(), kRgb.pixel_count());
  const auto hwc = serve_test::pattern(3, 8, 8);
  // CHW: channel 1 of pixel (y=2, x=5) is HWC element (2*8+5)*3+1.
  EXPECT_FLOAT_EQ(px[1 * 64 + 2 * 8 + 5], hwc[(2 * 8 + 5) * 3 + 1] / 255.0f);
}

// stb's writer (like many encoders) writes 3-component JPEGs even from gray pixels: an RGB model.
TEST(ServeParse, JpegDecodes) {
  EXPECT_EQ(decode_image(jpeg(3, 8, 8), kRgb).size(), kRgb.pixel_count());
  EXPECT_EQ(failure([] { decode_image(jpeg(1, 12, 12), kGray); }).second, "wrong_shape");
}

TEST(ServeParse, WrongSizeOrChannelsIsRejectedNotResized) {
  EXPECT_EQ(failure([] { decode_image(png(1, 13, 12), kGray); }),
            std::make_pair(422, std::string("wrong_shape")));
  EXPECT_EQ(failure([] { decode_image(png(3, 12, 12), kGray); }),
            std::make_pair(422, std::string("wrong_shape")));
  EXPECT_EQ(failure([] { decode_image(png(4, 8, 8), kRgb); }),
            std::make_pair(422, std::string("wrong_shape")));
}

TEST(ServeParse, MalformedAndTruncatedImagesAre400) {
  EXPECT_EQ(failure([] { decode_image("not an image", kGray); }).first, 400);
  EXPECT_EQ(failure([] { decode_image("", kGray); }).first, 400);
  for (const auto& full : {png(3, 8, 8), jpeg(3, 8, 8)}) {
    for (size_t cut : {size_t{8}, size_t{30}, full.size() / 2, full.size() - 3}) {
      const auto r = failure([&] { decode_image(full.substr(0, cut), kRgb); });
      // libjpeg's "premature end of data" warning is an error here: every cut is a 400.
      EXPECT_EQ(r, std::make_pair(400, std::string("bad_image"))) << cut;
    }
  }
}

// libjpeg-turbo and libpng (docs/serve.md, "Images"): exact pixels, and every corrupt,
// truncated or oversized image a 4xx.
std::string encoded(const char* kind, int c, int h, int w, uint8_t value) {
  std::string out;
  std::vector<uint8_t> px(static_cast<size_t>(c) * h * w, value);
  if (std::string(kind) == "png")
    stbi_write_png_to_func(serve_test::append, &out, w, h, c, px.data(), w * c);
  else
    stbi_write_jpg_to_func(serve_test::append, &out, w, h, c, px.data(), 95);
  return out;
}

TEST(ServeImages, PngPixelsAreExactAndJpegWithinOneStep) {
  const auto p = decode_image(png(3, 8, 8), kRgb);
  const auto hwc = serve_test::pattern(3, 8, 8);
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 64; ++i) ASSERT_FLOAT_EQ(p[k * 64 + i], hwc[i * 3 + k] / 255.0f);
  const auto j = decode_image(encoded("jpg", 3, 8, 8, 200), kRgb);  // flat: near lossless
  for (float v : j) EXPECT_NEAR(v, 200 / 255.0f, 1.5 / 255.0f);
  const auto g = decode_image(encoded("png", 2, 4, 4, 77), InputSpec{2, 4, 4, 3});  // gray+alpha
  for (float v : g) EXPECT_FLOAT_EQ(v, 77 / 255.0f);
}

TEST(ServeImages, TruncatedImagesAreAlways400) {
  for (const auto& full : {png(3, 8, 8), jpeg(3, 8, 8)})
    for (size_t cut = 3; cut < full.size(); cut += std::max<size_t>(1, full.size() / 40))
      EXPECT_EQ(failure([&] { decode_image(full.substr(0, cut), kRgb); }),
                std::make_pair(400, std::string("bad_image")))
          << "cut at " << cut << " of " << full.size();
}

TEST(ServeImages, CorruptImagesAre400) {
  auto p = png(3, 8, 8);
  p[p.size() - 20] ^= 0x55;  // inside IDAT (or its CRC): libpng refuses a bad critical chunk
  EXPECT_EQ(failure([&] { decode_image(p, kRgb); }).first, 400);
  auto j = jpeg(3, 8, 8);
  const size_t sos = j.find("\xff\xda");
  ASSERT_NE(sos, std::string::npos);
  j.insert(sos + 20, "\xff\x01\xff\x01", 4);  // markers inside entropy-coded data
  EXPECT_EQ(failure([&] { decode_image(j, kRgb); }).first, 400);
  auto h = jpeg(3, 8, 8);
  h[h.find("\xff\xc4") + 4] = '\x7f';  // a Huffman table class/id libjpeg refuses
  EXPECT_EQ(failure([&] { decode_image(h, kRgb); }).first, 400);
}

TEST(ServeImages, OversizedImagesAreRefusedBeforeDecoding) {
  for (const char* kind : {"png", "jpg"}) {
    const auto wide = encoded(kind, 1, 1, 20000, 9);
    EXPECT_EQ(failure([&] { decode_image(wide, kGray); }),
              std::make_pair(400, std::string("bad_image")))
        << kind;
    const auto big = encoded(kind, 1, 64, 64, 9);
    EXPECT_EQ(failure([&] { decode_image(big, kGray); }),
              std::make_pair(422, std::string("wrong_shape")))
        << kind;
  }
}

TEST(ServeParse, PredictFromImageBase64AndTensor) {
  EXPECT_EQ(parse_predict("image/png", png(1, 12, 12), kGray).pixels.size(), 144u);
  EXPECT_EQ(parse_predict("application/octet-stream", jpeg(3, 8, 8), kRgb).pixels.size(), 192u);
  const nlohmann::json b64 = {{"image", base64(png(1, 12, 12))}};
  EXPECT_EQ(parse_predict("application/json; charset=utf-8", b64.dump(), kGray).pixels.size(),
            144u);
  const nlohmann::json t = {{"tensor", std::vector<float>(144, 0.5f)}, {"shape", {1, 12, 12}}};
  const auto in = parse_predict("application/json", t.dump(), kGray);
  EXPECT_FLOAT_EQ(in.pixels[143], 0.5f);
  EXPECT_FALSE(in.label.has_value());
}

TEST(ServeParse, NestedTensorIsRowMajor) {
  nlohmann::json rows = nlohmann::json::array();
  for (int y = 0; y < 8; ++y) rows.push_back(std::vector<float>(8, static_cast<float>(y)));
  const nlohmann::json t = {{"tensor", {rows, rows, rows}}};
  const auto px = parse_predict("application/json", t.dump(), kRgb).pixels;
  EXPECT_FLOAT_EQ(px[64 + 3 * 8 + 1], 3.0f);
}

TEST(ServeParse, BadJsonRequests) {
  auto code = [](const std::string& body) {
    return failure([&] { parse_predict("application/json", body, kGray); });
  };
  EXPECT_EQ(code("{oops"), std::make_pair(400, std::string("invalid_json")));
  EXPECT_EQ(code("[1,2]"), std::make_pair(400, std::string("invalid_json")));
  EXPECT_EQ(code("{}"), std::make_pair(400, std::string("bad_request")));
  EXPECT_EQ(code(R"({"image":"aa","tensor":[1]})"),
            std::make_pair(400, std::string("bad_request")));
  EXPECT_EQ(code(R"({"imgae":"aa"})"), std::make_pair(400, std::string("unknown_field")));
  EXPECT_EQ(code(R"({"image":"@@@@"})"), std::make_pair(400, std::string("bad_base64")));
  EXPECT_EQ(code(R"({"image":5})"), std::make_pair(400, std::string("bad_request")));
  EXPECT_EQ(code(R"({"tensor":[1,2,3]})"), std::make_pair(422, std::string("wrong_shape")));
  EXPECT_EQ(code(R"({"tensor":["a"]})"), std::make_pair(400, std::string("bad_tensor")));
  EXPECT_EQ(code(R"({"tensor":[[[[[[1]]]]]]})"), std::make_pair(400, std::string("bad_tensor")));
  EXPECT_EQ(code(R"({"tensor":[1e39]})"), std::make_pair(400, std::string("bad_tensor")));
  EXPECT_EQ(code(R"({"tensor":[1],"shape":[1,2,3]})"),
            std::make_pair(422, std::string("wrong_shape")));
  EXPECT_EQ(code(std::string(100000, '[')), std::make_pair(400, std::string("invalid_json")));
}

TEST(ServeParse, UnsupportedContentTypeIs415) {
  EXPECT_EQ(failure([] { parse_predict("text/plain", "x", kGray); }).first, 415);
  EXPECT_EQ(failure([] { parse_predict("", "x", kGray); }).first, 415);
}

TEST(ServeParse, SampleLabels) {
  const auto img = png(1, 12, 12);
  EXPECT_EQ(*parse_sample("image/png", img, "7", kGray).label, 7);
  EXPECT_EQ(failure([&] { parse_sample("image/png", img, "", kGray); }).second, "missing_label");
  EXPECT_EQ(failure([&] { parse_sample("image/png", img, "10", kGray); }),
            std::make_pair(422, std::string("unknown_label")));
  EXPECT_EQ(failure([&] { parse_sample("image/png", img, "-1", kGray); }).second, "bad_label");
  EXPECT_EQ(failure([&] { parse_sample("image/png", img, "99999999999999999999", kGray); }).second,
            "bad_label");
  const auto t = [](const nlohmann::json& label) {
    return nlohmann::json{{"tensor", std::vector<float>(144, 0.1f)}, {"label", label}}.dump();
  };
  EXPECT_EQ(*parse_sample("application/json", t(3), "", kGray).label, 3);
  EXPECT_EQ(failure([&] { parse_sample("application/json", t(-2), "", kGray); }).second,
            "unknown_label");
  EXPECT_EQ(failure([&] { parse_sample("application/json", t(2.5), "", kGray); }).second,
            "bad_label");
  EXPECT_EQ(failure([&] { parse_sample("application/json", t("3"), "", kGray); }).second,
            "bad_label");
  EXPECT_EQ(failure([&] {
              parse_sample("application/json", t(18446744073709551615ull), "", kGray);
            }).second,
            "unknown_label");
}

TEST(ServeParse, Base64RoundTrip) {
  for (const std::string s : {"", "a", "ab", "abc", "abcd", "\xff\x00\x10"}) {
    EXPECT_EQ(base64_decode(base64(s)), s);
  }
  EXPECT_EQ(base64_decode("YWI"), "ab");  // padding optional
  EXPECT_EQ(failure([] { base64_decode("Y"); }).second, "bad_base64");
}

}  // namespace
}  // namespace etuner::serve

namespace etuner::serve {
namespace {

// Inputs the fuzzers once crashed on (fuzz/regressions/<target>/, first byte = the fuzzer's
// selector): the production build must refuse them with a 4xx, never crash.
TEST(ServeParse, FuzzRegressionsAreRefusedCleanly) {
  const char* root = std::getenv("ETUNER_SOURCE_DIR");
  ASSERT_NE(root, nullptr);
  int seen = 0;
  for (const auto* target : {"image", "request"}) {
    const auto dir = std::string(root) + "/fuzz/regressions/" + target;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(e.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      if (bytes.size() < 2) continue;
      ++seen;
      for (const InputSpec& spec : {kGray, kRgb, InputSpec{1, 4, 4, 5}, InputSpec{3, 32, 32, 10}}) {
        try {
          decode_image(bytes.substr(1), spec);
        } catch (const RequestError& err) {
          EXPECT_GE(err.status(), 400) << e.path();
          EXPECT_LT(err.status(), 500) << e.path();
        }
      }
    }
  }
  EXPECT_GE(seen, 4);
}

}  // namespace
}  // namespace etuner::serve
