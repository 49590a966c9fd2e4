// The HTML report: a tiny fake run written in code, rendered, and checked for structure
// (every policy, every chart, no external URLs, balanced markup). When Debian's chromium is
// installed the page is also rendered headless: no console errors, and a non-blank image.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "etuner/error.h"
#include "etuner/report.h"
#include "etuner/csv.h"
#include "report/csv.h"
#include "report/svg.h"

#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

namespace fs = std::filesystem;
namespace rp = etuner::report;
using nlohmann::json;

namespace {

struct FakePolicy {
  std::string name, scheduler, freezer;
  double recovery_s;  // how fast accuracy recovers after a shift
  int round_every;    // a round every this many requests
};

const std::vector<FakePolicy> kPolicies = {
    {"immediate", "immediate", "none", 8, 4},
    {"periodic", "periodic", "none", 20, 10},
    {"lazy-freeze", "lazy", "prefix", 12, 8},
};

// Deterministic pseudo-random in [0, 1): tests must not depend on a seed or a platform RNG.
double unit_hash(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 29;
  return static_cast<double>(x % 10000) / 10000.0;
}

// The prefix freezer freezes one more block per round within a scenario, up to 3 of 4.
std::string mask_for(const FakePolicy& p, int round_in_scenario) {
  if (p.freezer == "none") return "0000";
  const int k = std::min(round_in_scenario, 3);
  return std::string(static_cast<size_t>(k), '1') + std::string(static_cast<size_t>(4 - k), '0');
}

struct FakeRun {
  int requests = 50;  // per policy, over 100 s of stream
  double stream_s = 100;
};

class RunWriter {
 public:
  RunWriter(const fs::path& dir, FakeRun run) : dir_(dir), run_(run) {}

  void write() {
    fs::create_directories(dir_);
    std::ofstream req(dir_ / "requests.csv"), rnd(dir_ / "rounds.csv");
    req << "policy,request,time_s,scenario,label,prediction,correct,confidence,model_version,"
           "extra\n";
    rnd << "policy,round,start_s,end_s,scenario,samples,steps,epochs,frozen_prefix,frozen_mask,"
           "wall_s,"
           "modeled_s,energy_j,train_flops,loss\n";
    json policies = json::object();
    for (size_t i = 0; i < kPolicies.size(); ++i)
      policies[kPolicies[i].name] = write_policy(kPolicies[i], i, req, rnd);
    std::ofstream(dir_ / "results.json") << results(policies).dump(2);
  }

 private:
  double accuracy_at(const FakePolicy& p, double t) const {
    const double half = run_.stream_s / 2;
    if (t < half) return 0.85;
    return 0.85 - 0.4 * std::exp(-(t - half) / p.recovery_s);
  }

  json write_policy(const FakePolicy& p, size_t pi, std::ostream& req, std::ostream& rnd) const {
    double wall = 0, energy = 0, correct = 0, per_scn[2] = {0, 0}, n_scn[2] = {0, 0};
    int round = 0, in_scenario = 0, last_scenario = 0;
    for (int i = 0; i < run_.requests; ++i) {
      const double t = run_.stream_s * i / run_.requests;
      const int scn = t < run_.stream_s / 2 ? 0 : 1;
      const bool ok = unit_hash(static_cast<uint64_t>(i), pi) < accuracy_at(p, t);
      correct += ok;
      per_scn[scn] += ok;
      n_scn[scn] += 1;
      req << p.name << "," << i << "," << t << "," << scn << ",3," << (ok ? 3 : 5) << "," << ok
          << ",0.9," << round << ",x\n";
      if (i % p.round_every != p.round_every - 1) continue;
      in_scenario = scn == last_scenario ? in_scenario + 1 : 0;
      last_scenario = scn;
      const std::string mask = mask_for(p, in_scenario);
      const double w = 0.5 * (4 - std::count(mask.begin(), mask.end(), '1')) / 4.0 + 0.1;
      wall += w;
      energy += 20 * w;
      rnd << p.name << "," << round++ << "," << t << "," << t + 0.5 << "," << scn << ",32,4,1,"
          << std::count(mask.begin(), mask.end(), '1') << "," << mask << "," << w << "," << w * 0.9
          << "," << 20 * w << ",1e9,0.5\n";
    }
    return {{"avg_inference_accuracy", correct / run_.requests},
            {"per_scenario_accuracy", {per_scn[0] / n_scn[0], per_scn[1] / n_scn[1]}},
            {"finetune_seconds", wall},
            {"modeled_finetune_seconds", wall * 0.9},
            {"finetune_energy_joules", energy},
            {"energy_source", "modeled"},
            {"inference_energy_joules", 1.5},
            {"idle_energy_joules", 0.0},
            {"rounds", round},
            {"samples_trained", round * 32},
            {"train_flops", 1.2e12},
            {"peak_rss_mb", 512},
            {"decision_seconds", 0.01},
            {"scheduler", p.scheduler},
            {"freezer", p.freezer},
            {"description", "fake " + p.name + " <script>alert(1)</script>"},
            {"future_field", 7}};
  }

  json results(const json& policies) const {
    const double half = run_.stream_s / 2;
    return {{"stream", "fake-ni"},
            {"model", "tinycnn"},
            {"protocol", "instant"},
            {"device_profile", "cpu-2core"},
            {"command", "build/etuner bench --spec https://example.com/spec.json"},
            {"etuner_version", "0.1.0"},
            {"git", "abc123"},
            {"created_utc", "2026-11-27T16:00:00Z"},
            {"machine",
             {{"hostname", "testbox"},
              {"cpus", 2},
              {"os", "Linux"},
              {"torch", "1.13.1"},
              {"device", "cpu"},
              {"threads", 2}}},
            {"spec", {{"name", "fake-ni"}, {"source", "http://example.org/data"}}},
            {"scenarios",
             {{{"index", 0},
               {"name", "clean"},
               {"shift", "none"},
               {"severity", 0},
               {"start_s", 0.0},
               {"end_s", half}},
              {{"index", 1},
               {"name", "gaussian-blur"},
               {"shift", "blur"},
               {"severity", 3},
               {"start_s", half},
               {"end_s", run_.stream_s}}}},
            {"num_blocks", 4},
            {"policies", policies},
            {"unknown_top_level", true}};
  }

  fs::path dir_;
  FakeRun run_;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1))
    ++n;
  return n;
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // ETUNER_REPORT_KEEP=DIR keeps the fake run and its report there (to look at the page).
    const char* keep = std::getenv("ETUNER_REPORT_KEEP");
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = keep ? fs::path(keep)
                : fs::temp_directory_path() /
                      ("etuner-report-" + std::to_string(getpid()) + "-" + info->name());
    keep_ = keep != nullptr;
    RunWriter(dir_, FakeRun{}).write();
  }
  void TearDown() override {
    if (!keep_) fs::remove_all(dir_);
  }
  std::string render() { return rp::render_html(rp::load_run(dir_.string())); }

  fs::path dir_;
  bool keep_ = false;
};

TEST_F(ReportTest, LoadsEveryPolicyImmediateFirst) {
  const auto run = rp::load_run(dir_.string());
  ASSERT_EQ(run.policies.size(), 3u);
  EXPECT_EQ(run.policies[0].name, "immediate");
  EXPECT_EQ(run.policies[0].requests.size(), 50u);
  EXPECT_EQ(run.policies[0].rounds.size(), 12u);
  EXPECT_EQ(run.scenarios.size(), 2u);
  EXPECT_EQ(run.num_blocks, 4);
}

TEST_F(ReportTest, ShowsEveryPolicyAndChart) {
  const std::string html = render();
  for (const auto& p : kPolicies) EXPECT_NE(html.find(">" + p.name), std::string::npos) << p.name;
  for (const char* id : {"chart-accuracy", "chart-time", "chart-energy", "chart-freeze-lazy-freeze",
                         "table-summary", "table-scenarios", "provenance"})
    EXPECT_EQ(count(html, std::string("id=\"") + id + "\""), 1u) << id;
  EXPECT_NE(html.find("gaussian-blur"), std::string::npos);  // scenario boundary label
  EXPECT_NE(html.find("Energy source: modeled"), std::string::npos);
  EXPECT_NE(html.find("class=\"boundary\""), std::string::npos);  // dashed scenario line
}

TEST_F(ReportTest, HasNoExternalUrlsOrScripts) {
  const std::string html = render();
  for (const char* bad :
       {"http://", "https://", "src=", "url(", "@import", "<script", "<link", "<iframe"})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  // The URLs in the command and spec are still shown, escaped.
  EXPECT_NE(html.find("https&#58;//example.com/spec.json"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)"), std::string::npos);
}

TEST_F(ReportTest, MarkupIsBalanced) {
  const std::string html = render();
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
  EXPECT_EQ(count(html, "<svg"), 4u);  // accuracy, time, energy, one freezing policy
  for (const char* tag : {"table", "section", "figure", "tr", "dl", "details"})
    EXPECT_EQ(count(html, std::string("<") + tag + ">") + count(html, std::string("<") + tag + " "),
              count(html, std::string("</") + tag + ">"))
        << tag;
  EXPECT_EQ(html.rfind("</html>"), html.size() - 8);
}

TEST_F(ReportTest, SkipsPoliciesThatNeverFreeze) {
  const std::string html = render();
  EXPECT_EQ(html.find("chart-freeze-immediate"), std::string::npos);
  EXPECT_EQ(html.find("chart-freeze-periodic"), std::string::npos);
  EXPECT_NE(html.find("No timeline for immediate, periodic"), std::string::npos);
}

TEST_F(ReportTest, SummaryHasRatiosVsImmediate) {
  const auto run = rp::load_run(dir_.string());
  const std::string html = rp::render_html(run);
  const double imm = run.policies[0].summary["finetune_seconds"],
               per = run.policies[1].summary["finetune_seconds"];
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.2f×", per / imm);
  EXPECT_NE(html.find(std::string("<td>") + ratio + "</td>"), std::string::npos) << ratio;
  EXPECT_NE(html.find("<td>1.00×</td>"), std::string::npos);  // immediate vs itself
  EXPECT_NE(html.find("Δ acc (pt)"), std::string::npos);
}

TEST_F(ReportTest, MissingOptionalFieldsShowADash) {
  json results = json::parse(read_all(dir_ / "results.json"));
  results["policies"]["periodic"].erase("peak_rss_mb");
  results.erase("machine");
  std::ofstream(dir_ / "results.json") << results.dump();
  const std::string html = render();
  EXPECT_NE(html.find("<dt>machine</dt><dd>—</dd>"), std::string::npos);
  EXPECT_NE(html.find("<td>—</td>"), std::string::npos);
}

TEST_F(ReportTest, RendersWithoutCsvFiles) {
  fs::remove(dir_ / "requests.csv");
  fs::remove(dir_ / "rounds.csv");
  const std::string html = render();
  for (const char* id : {"chart-accuracy", "chart-time", "chart-energy", "table-summary"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_NE(html.find("requests.csv not found"), std::string::npos);
  EXPECT_NE(html.find("rounds.csv not found"), std::string::npos);
}

TEST_F(ReportTest, MissingResultsIsAnIoErrorNamingThePath) {
  fs::remove(dir_ / "results.json");
  try {
    rp::load_run(dir_.string());
    FAIL() << "expected IoError";
  } catch (const etuner::IoError& e) {
    EXPECT_NE(std::string(e.what()).find((dir_ / "results.json").string()), std::string::npos)
        << e.what();
  }
}

TEST_F(ReportTest, BadCsvNumberNamesFileAndLine) {
  std::ofstream(dir_ / "rounds.csv") << "policy,end_s,wall_s\nimmediate,1,0.5\nimmediate,2,abc\n";
  try {
    rp::load_run(dir_.string());
    FAIL() << "expected ConfigError";
  } catch (const etuner::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("rounds.csv:3: column wall_s"), std::string::npos)
        << e.what();
  }
}

TEST_F(ReportTest, WriteReportDefaultsToDirAndHonorsOut) {
  EXPECT_EQ(rp::write_report(dir_.string()), (dir_ / "report.html").string());
  EXPECT_TRUE(fs::exists(dir_ / "report.html"));
  const auto other = (dir_ / "other.html").string();
  EXPECT_EQ(rp::write_report(dir_.string(), other), other);
  EXPECT_EQ(read_all(other), read_all(dir_ / "report.html"));
}

TEST_F(ReportTest, LargeRunsStaySmall) {
  RunWriter(dir_, FakeRun{20000, 3600}).write();
  const std::string html = render();
  RecordProperty("html_bytes", std::to_string(html.size()));
  EXPECT_LT(html.size(), 250u * 1024) << "downsampling or span merging regressed";
}

TEST(ReportCsv, SplitsQuotedFields) {
  EXPECT_EQ(rp::split_csv_line("a,\"b,c\",\"say \"\"hi\"\"\",\r"),
            (std::vector<std::string>{"a", "b,c", "say \"hi\"", ""}));
}

TEST(ReportSvg, DownsampleKeepsEndsAndBound) {
  std::vector<rp::svg::Point> pts;
  for (int i = 0; i < 1000; ++i) pts.push_back({double(i), double(i)});
  const auto out = rp::svg::downsample(pts, 400);
  ASSERT_EQ(out.size(), 400u);
  EXPECT_EQ(out.front().x, 0);
  EXPECT_EQ(out.back().x, 999);
}

TEST(ReportSvg, NiceTicksAreRound) {
  EXPECT_EQ(rp::svg::nice_ticks(0, 100, 5), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_DOUBLE_EQ(rp::svg::nice_ceiling(87), 100);  // lands on a tick: 0, 20, ... 100
  EXPECT_DOUBLE_EQ(rp::svg::nice_ceiling(0.42), 0.5);
}

// ---- headless chromium --------------------------------------------------------------------

const char* kChromium = "/usr/bin/chromium";

// Console messages reach chromium's log as `:CONSOLE(line)] "..."`; uncaught ones say so.
std::vector<std::string> console_errors(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos)
      out.push_back(line);
  return out;
}

struct Screenshot {
  int rc = -1;
  std::string log;
  double seconds = 0;
};

Screenshot screenshot(const fs::path& html, const fs::path& png) {
  const fs::path log = png.string() + ".log";
  const std::string cmd = "timeout 60 sh " + std::string(ETUNER_REPORT_SOURCE_DIR) +
                          "/scripts/screenshot-report.sh '" + html.string() + "' '" + png.string() +
                          "' 1280x2400 >'" + log.string() + "' 2>&1";
  const auto t0 = std::chrono::steady_clock::now();
  Screenshot s;
  s.rc = std::system(cmd.c_str());
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.log = read_all(log);
  return s;
}

// Not blank: many distinct colors, and a fair share of pixels that are not the background.
void expect_not_blank(const fs::path& png) {
  int w = 0, h = 0, channels = 0;
  unsigned char* px = stbi_load(png.string().c_str(), &w, &h, &channels, 3);
  ASSERT_NE(px, nullptr) << "cannot decode " << png << ": " << stbi_failure_reason();
  std::set<uint32_t> colors;
  size_t differ = 0;
  for (size_t i = 0; i < static_cast<size_t>(w) * h; ++i) {
    const unsigned char* p = px + 3 * i;
    colors.insert(uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]);
    differ += (p[0] != px[0] || p[1] != px[1] || p[2] != px[2]);
  }
  stbi_image_free(px);
  EXPECT_EQ(w, 1280);
  EXPECT_GT(colors.size(), 16u) << "the page rendered as a flat image";
  EXPECT_GT(differ, static_cast<size_t>(w) * h / 100)
      << "almost every pixel is the background color";
}

TEST_F(ReportTest, ChromiumRendersWithoutConsoleErrors) {
  if (!fs::exists(kChromium)) GTEST_SKIP() << "chromium not installed (apt-get install chromium)";
  const std::string html = rp::write_report(dir_.string());
  const fs::path png = dir_ / "report.png";
  const Screenshot s = screenshot(html, png);
  RecordProperty("chromium_seconds", std::to_string(s.seconds));
  ASSERT_EQ(s.rc, 0) << s.log;
  ASSERT_TRUE(fs::exists(png)) << s.log;
  EXPECT_TRUE(console_errors(s.log).empty()) << s.log;
  expect_not_blank(png);
}

// The console check above must be able to fail: a page with a script error trips it.
TEST_F(ReportTest, ChromiumConsoleCheckCatchesErrors) {
  if (!fs::exists(kChromium)) GTEST_SKIP() << "chromium not installed (apt-get install chromium)";
  const fs::path html = dir_ / "broken.html";
  std::ofstream(html)
      << "<!DOCTYPE html><p>x</p><script>console.error('boom'); undefined_fn();</script>";
  const Screenshot s = screenshot(html, dir_ / "broken.png");
  ASSERT_EQ(s.rc, 0) << s.log;
  EXPECT_FALSE(console_errors(s.log).empty()) << s.log;
}

}  // namespace

// Writing and reading agree: any text survives csv_field then split_csv_line as one field.
TEST(Csv, FieldsAreQuotedPerRfc4180) {
  EXPECT_EQ(etuner::csv_field("batch arrived"), "batch arrived");
  EXPECT_EQ(etuner::csv_field("profiled: 2 epochs, 16 replayed"),
            "\"profiled: 2 epochs, 16 replayed\"");
  EXPECT_EQ(etuner::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  for (const std::string text : {"a,b", "\"", "x\"y,z", "", "plain"}) {
    const auto fields = rp::split_csv_line("1," + etuner::csv_field(text) + ",2");
    ASSERT_EQ(fields.size(), 3u) << text;
    EXPECT_EQ(fields[1], text);
  }
}

TEST(SeedsPage, IntervalAndPerSeedTables) {
  const json seeds = {
      {"stream", "tiny"},
      {"seeds", {4, 5}},
      {"baseline", "immediate"},
      {"policies",
       {{"immediate",
         {{"avg_inference_accuracy", {{"per_seed", {0.5, 0.75}}, {"mean", 0.625}}},
          {"delta_vs_baseline_pp", {{"mean", 0.0}, {"sd", 0.0}, {"ci95", {0.0, 0.0}}}}}},
        {"never",
         {{"avg_inference_accuracy", {{"per_seed", {0.25, 0.5}}, {"mean", 0.375}}},
          {"delta_vs_baseline_pp", {{"mean", -25.0}, {"sd", 0.0}, {"ci95", {-25.5, -24.5}}}},
          {"ratio_vs_baseline", {{"finetune_seconds", {{"mean", 0.0}}}}}}}}}};
  const auto html = rp::render_seeds_html(seeds, "/nonexistent");
  EXPECT_NE(html.find("<td>62.50</td><td>0.00</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>-25.00</td><td>0.00</td><td>[-25.50, -24.50]</td><td>0.00</td>"),
            std::string::npos)
      << html;
  const auto per_seed = html.substr(html.find("table-per-seed"));
  EXPECT_NE(per_seed.find("<th scope=\"row\">4</th><td>50.0</td><td>25.0</td>"), std::string::npos);
  EXPECT_NE(per_seed.find("<th scope=\"row\">5</th><td>75.0</td><td>50.0</td>"), std::string::npos);
  EXPECT_THROW(rp::render_seeds_html(json{{"seeds", {1}}}, "d"), etuner::ConfigError);
}
