// Load benchmark for `etuner serve` (loopback only, bounded in time and count).
//
//   etuner_serve_load --port 8080 --input 1x28x28 --clients 4 --sample-clients 2 --seconds 20
//
// Phase "idle": `clients` threads send predictions; no samples, so no round runs (checked
// against /v1/status). Phase "tuning": the same prediction load plus `sample-clients` threads
// posting labeled samples back to back, so rounds run throughout. Prints one JSON object:
// per phase throughput, p50/p99/max latency, errors, rounds run and the share of the phase
// spent fine-tuning.
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <thread>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string input = "1x28x28";
  int classes = 10;
  int clients = 4;
  int sample_clients = 2;
  double seconds = 20;
  int max_requests = 200000;  // per phase, all clients together
};

struct Shape {
  int c, h, w;
};

void append(void* ctx, void* data, int size) {
  static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

std::vector<std::string> make_pngs(const Shape& s, int n) {
  std::mt19937 rng(7);
  std::vector<std::string> out(n);
  for (auto& png : out) {
    std::vector<uint8_t> px(static_cast<size_t>(s.c) * s.h * s.w);
    for (auto& p : px) p = static_cast<uint8_t>(rng() % 256);
    stbi_write_png_to_func(append, &png, s.w, s.h, s.c, px.data(), s.w * s.c);
  }
  return out;
}

struct Recorder {
  std::mutex mu;
  std::vector<double> predict_ms, sample_ms;
  int64_t errors = 0;
  std::atomic<int64_t> budget{0};
  void add(bool predict, double ms, bool ok) {
    std::lock_guard<std::mutex> lock(mu);
    (predict ? predict_ms : sample_ms).push_back(ms);
    if (!ok) ++errors;
  }
};

void client_loop(const Options& o, const std::vector<std::string>& pngs, bool samples,
                 Clock::time_point end, Recorder& rec, uint32_t seed) {
  httplib::Client c(o.host, o.port);
  c.set_read_timeout(30, 0);
  std::mt19937 rng(seed);
  while (Clock::now() < end && rec.budget.fetch_sub(1) > 0) {
    const auto& png = pngs[rng() % pngs.size()];
    const auto t0 = Clock::now();
    auto r = samples ? c.Post(("/v1/samples?label=" + std::to_string(rng() % o.classes)).c_str(),
                              png, "image/png")
                     : c.Post("/v1/predict", png, "image/png");
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    rec.add(!samples, ms, r && r->status == (samples ? 202 : 200));
  }
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

json summary(const std::vector<double>& ms, double seconds) {
  return {{"requests", ms.size()},
          {"throughput_rps", ms.size() / seconds},
          {"p50_ms", percentile(ms, 0.50)},
          {"p99_ms", percentile(ms, 0.99)},
          {"max_ms", ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end())}};
}

json status(const Options& o) {
  httplib::Client c(o.host, o.port);
  auto r = c.Get("/v1/status");
  if (!r || r->status != 200) throw std::runtime_error("GET /v1/status failed");
  return json::parse(r->body);
}

json run_phase(const Options& o, const std::vector<std::string>& pngs, int sample_clients) {
  Recorder rec;
  rec.budget = o.max_requests;
  const auto before = status(o);
  const auto t0 = Clock::now();
  const auto end =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i)
    threads.emplace_back([&, i] { client_loop(o, pngs, false, end, rec, 100 + i); });
  for (int i = 0; i < sample_clients; ++i)
    threads.emplace_back([&, i] { client_loop(o, pngs, true, end, rec, 200 + i); });
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto after = status(o);
  return {{"seconds", secs},
          {"predict", summary(rec.predict_ms, secs)},
          {"samples", summary(rec.sample_ms, secs)},
          {"errors", rec.errors},
          {"rounds", after["rounds_run"].get<int>() - before["rounds_run"].get<int>()},
          {"finetune_share",
           (after["finetune_s"].get<double>() - before["finetune_s"].get<double>()) / secs},
          {"model_version", {before["model_version"], after["model_version"]}}};
}

// Lets rounds triggered by earlier samples finish, so "idle" has no round running.
void wait_quiet(const Options& o) {
  for (int i = 0; i < 600; ++i) {
    const auto a = status(o);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto b = status(o);
    if (a["samples_queued"] == 0 && a["rounds_run"] == b["rounds_run"]) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"etuner_serve_load: loopback load benchmark for etuner serve"};
  app.add_option("--host", o.host)->capture_default_str();
  app.add_option("--port", o.port)->required();
  app.add_option("--input", o.input, "CxHxW of the served model")->capture_default_str();
  app.add_option("--classes", o.classes)->capture_default_str();
  app.add_option("--clients", o.clients, "prediction clients")->capture_default_str();
  app.add_option("--sample-clients", o.sample_clients, "sample clients in the tuning phase")
      ->capture_default_str();
  app.add_option("--seconds", o.seconds, "length of each phase")->capture_default_str();
  app.add_option("--max-requests", o.max_requests, "cap per phase")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::smatch m;
  if (!std::regex_match(o.input, m, std::regex(R"((\d+)x(\d+)x(\d+))"))) {
    std::cerr << "--input: expected CxHxW\n";
    return 2;
  }
  const Shape shape{std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3])};
  const auto pngs = make_pngs(shape, 64);
  try {
    wait_quiet(o);
    json out;
    out["idle"] = run_phase(o, pngs, 0);
    out["tuning"] = run_phase(o, pngs, o.sample_clients);
    const double idle = out["idle"]["predict"]["p99_ms"],
                 tuning = out["tuning"]["predict"]["p99_ms"];
    out["p99_ratio"] = idle > 0 ? tuning / idle : 0;
    out["config"] = {{"clients", o.clients},
                     {"sample_clients", o.sample_clients},
                     {"seconds", o.seconds},
                     {"input", o.input}};
    std::cout << out.dump(2) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "etuner_serve_load: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
