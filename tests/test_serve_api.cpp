// The API end to end on loopback: a real Server with the tiny model, a real HTTP client.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "etuner/error.h"
#include "etuner/serve.h"
#include "serve/checkpoints.h"
#include "serve/request.h"
#include "serve_fixtures.h"

namespace etuner::serve {
namespace {

using nlohmann::json;
using serve_test::png;

struct Running {
  explicit Running(ServeConfig c) : cfg(std::move(c)), server(cfg), port(server.start()) {}
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c;
  }
  json get(const std::string& path) const {
    auto r = client().Get(path.c_str());
    EXPECT_TRUE(r);
    return r ? json::parse(r->body) : json();
  }
  // Polls /v1/status until pred holds (or 60 s pass).
  template <typename P>
  json wait_for(P pred) const {
    json s;
    for (int i = 0; i < 600; ++i) {
      s = get("/v1/status");
      if (pred(s)) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "timed out; last status " << s.dump();
    return s;
  }
  ServeConfig cfg;
  Server server;
  int port;
};

std::string tensor_sample(float value, int label) {
  return json{{"tensor", std::vector<float>(144, value)}, {"label", label}}.dump();
}

// Bad requests get a JSON body naming an error code.
void expect_error(const httplib::Result& r, int status, const std::string& code) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  const auto j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r->body;
  EXPECT_EQ(j.value("error", ""), code) << r->body;
  EXPECT_FALSE(j.value("message", "").empty());
}

TEST(ServeApi, PredictFromPngJsonAndTensor) {
  Running s(serve_test::tiny_config(fixtures::temp_dir("serve-api-predict")));
  auto c = s.client();
  for (const auto& [body, type] : std::vector<std::pair<std::string, std::string>>{
           {png(1, 12, 12), "image/png"},
           {json{{"image", serve_test::base64(png(1, 12, 12))}}.dump(), "application/json"},
           {json{{"tensor", std::vector<float>(144, 0.3f)}}.dump(), "application/json"}}) {
    auto r = c.Post("/v1/predict", body, type.c_str());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const auto j = json::parse(r->body);
    EXPECT_GE(j["label"].get<int>(), 0);
    EXPECT_LT(j["label"].get<int>(), 10);
    EXPECT_GT(j["confidence"].get<double>(), 0.0);
    EXPECT_LE(j["confidence"].get<double>(), 1.0);
    EXPECT_EQ(j["model_version"], 0);
  }
}

TEST(ServeApi, SamplesTrainNewVersionsWhilePredictionsContinue) {
  Running s(serve_test::tiny_config(fixtures::temp_dir("serve-api-train")));
  std::atomic<bool> done{false};
  std::atomic<int> errors{0}, answered{0};
  std::thread reader([&] {  // each answer names one version, and versions never go back
    auto c = s.client();
    int last = 0;
    while (!done) {
      auto r = c.Post("/v1/predict", png(1, 12, 12), "image/png");
      if (!r || r->status != 200) {
        ++errors;
        continue;
      }
      const int v = json::parse(r->body)["model_version"];
      if (v < last) ++errors;
      last = v;
      ++answered;
    }
  });
  auto c = s.client();
  int64_t last_id = 0;
  for (int i = 0; i < 24; ++i) {
    auto r = c.Post("/v1/samples", tensor_sample(0.1f * (i % 10), i % 10), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    const int64_t id = json::parse(r->body)["sample_id"];
    EXPECT_GT(id, last_id);
    last_id = id;
  }
  auto img = c.Post("/v1/samples?label=4", png(1, 12, 12), "image/png");
  ASSERT_TRUE(img);
  EXPECT_EQ(img->status, 202);
  const auto st = s.wait_for([](const json& j) {
    return j["model_version"].get<int>() >= 1 && j["samples_pending"].get<int>() == 0;
  });
  done = true;
  reader.join();
  EXPECT_EQ(errors, 0);
  EXPECT_GT(answered, 0);
  EXPECT_EQ(st["samples_stored"], 25);
  EXPECT_GE(st["rounds_run"].get<int>(), 1);
  EXPECT_EQ(st["policy"]["name"], "immediate");
  for (const char* k : {"frozen_blocks", "scenario_changes", "samples_queued", "num_blocks"})
    EXPECT_TRUE(st.contains(k)) << k;
  const auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("etuner_http_requests_total{route=\"samples\",code=\"202\"}"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("etuner_http_request_duration_seconds_bucket{route=\"predict\""),
            std::string::npos);
  EXPECT_NE(metrics->body.find("etuner_rounds_total"), std::string::npos);
  EXPECT_NE(metrics->body.find("etuner_finetune_joules_total"), std::string::npos);
  EXPECT_NE(metrics->body.find("etuner_frozen_blocks"), std::string::npos);
  // A scrape is counted with the status it got (it was counted as -1, before the status was
  // set: found by fuzz_http).
  const auto again = c.Get("/metrics");
  ASSERT_TRUE(again);
  EXPECT_NE(again->body.find("etuner_http_requests_total{route=\"metrics\",code=\"200\"}"),
            std::string::npos);
  EXPECT_EQ(again->body.find("code=\"-1\""), std::string::npos);
}

TEST(ServeApi, BadInputGetsJson4xxAndTheServerStaysUp) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-bad"));
  cfg.max_body_bytes = 64 * 1024;
  Running s(cfg);
  auto c = s.client();
  const auto good = png(1, 12, 12);
  expect_error(c.Post("/v1/predict", "{oops", "application/json"), 400, "invalid_json");
  expect_error(c.Post("/v1/predict", good.substr(0, 40), "image/png"), 400, "bad_image");
  expect_error(c.Post("/v1/predict", "\x89PNG garbage", "image/png"), 400, "bad_image");
  expect_error(c.Post("/v1/predict", png(1, 16, 16), "image/png"), 422, "wrong_shape");
  expect_error(c.Post("/v1/predict", png(3, 12, 12), "image/png"), 422, "wrong_shape");
  expect_error(c.Post("/v1/predict", "hello", "text/plain"), 415, "unsupported_media_type");
  expect_error(c.Post("/v1/samples?label=12", good, "image/png"), 422, "unknown_label");
  expect_error(c.Post("/v1/samples", good, "image/png"), 400, "missing_label");
  expect_error(c.Post("/v1/samples", tensor_sample(0.5f, -1), "application/json"), 422,
               "unknown_label");
  expect_error(c.Post("/v1/predict", std::string(100 * 1024, 'x'), "image/png"), 413,
               "body_too_large");
  expect_error(c.Get("/v1/nothing"), 404, "not_found");
  auto ok = c.Post("/v1/predict", good, "image/png");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(s.get("/v1/status")["samples_stored"], 0);  // nothing bad was stored
}

TEST(ServeApi, TooManyConcurrentRequestsGet503WithRetryAfter) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-busy"));
  cfg.max_inflight = 1;
  cfg.test_delay_ms = 400;
  Running s(cfg);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, busy{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      auto r = s.client().Post("/v1/predict", png(1, 12, 12), "image/png");
      if (r && r->status == 200) ++ok;
      if (r && r->status == 503 && r->get_header_value("Retry-After") == "1" &&
          json::parse(r->body)["error"] == "overloaded")
        ++busy;
    });
  for (auto& t : threads) t.join();
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
  EXPECT_EQ(ok + busy, 4);
}

// A stream spec (its pretrained model and train settings) whose learning rate makes the first
// round's loss blow up to NaN/inf.
ServeConfig exploding_spec_config(const std::string& name) {
  const auto dir = fixtures::temp_dir(name);
  setenv("ETUNER_CACHE", (dir + "/cache").c_str(), 1);
  auto spec = fixtures::tiny_spec(fixtures::write_tiny_dataset(name + "-data"));
  spec["train"]["lr"] = 1e30;
  spec["train"]["replay_samples"] = 0;
  std::ofstream(dir + "/spec.json") << spec.dump();
  auto cfg = serve_test::tiny_config(dir + "/data");
  cfg.classes = 0;
  cfg.stream_spec = dir + "/spec.json";
  return cfg;
}

TEST(ServeApi, NonFiniteRoundIsDiscardedAndTheLastVersionKeepsServing) {
  Running s(exploding_spec_config("serve-api-nan"));
  auto c = s.client();
  const auto before = c.Post("/v1/predict", png(1, 12, 12), "image/png");
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200) << before->body;
  for (int i = 0; i < 8; ++i) {
    auto r = c.Post("/v1/samples", tensor_sample(0.1f * i, i % 10), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
  }
  // Every round explodes; its samples are quarantined (never re-queued), none stay pending.
  const auto st = s.wait_for([](const json& j) {
    return j["rounds_discarded"].get<int>() >= 1 && j["samples_pending"] == 0;
  });
  EXPECT_EQ(st["model_version"], 0);
  EXPECT_EQ(st["rounds_discarded"], st["rounds_run"]);
  EXPECT_EQ(st["policy"]["name"], "immediate");
  const auto after = c.Post("/v1/predict", png(1, 12, 12), "image/png");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, before->body);  // the same version, untouched, answers
}

TEST(ServeApi, RestartResumesTheCommittedVersionAndSamples) {
  const auto dir = fixtures::temp_dir("serve-api-restart");
  std::string before;
  int version = 0;
  {
    Running s(serve_test::tiny_config(dir));
    auto c = s.client();
    for (int i = 0; i < 16; ++i)
      c.Post("/v1/samples", tensor_sample(0.05f * i, i % 10), "application/json");
    version = s.wait_for([](const json& j) { return j["samples_pending"] == 0; })["model_version"];
    EXPECT_GE(version, 1);
    before = c.Post("/v1/predict", png(1, 12, 12), "image/png")->body;
    s.server.stop();
  }
  Running s(serve_test::tiny_config(dir));
  const auto st = s.get("/v1/status");
  EXPECT_EQ(st["model_version"], version);
  EXPECT_EQ(st["samples_stored"], 16);
  EXPECT_EQ(s.client().Post("/v1/predict", png(1, 12, 12), "image/png")->body, before);
}

// --device cuda trains and answers on the GPU; checkpoints hold CPU tensors, so the same data
// directory restarts on the CPU at the committed version. (CI has no GPU: skipped there.)
TEST(ServeApi, AVersionTrainedOnCudaRestartsOnTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device visible to LibTorch";
  const auto dir = fixtures::temp_dir("serve-api-cuda");
  int version = 0;
  int64_t label = -1;
  {
    auto cfg = serve_test::tiny_config(dir);
    cfg.device = "cuda";
    Running s(cfg);
    auto c = s.client();
    for (int i = 0; i < 16; ++i)
      c.Post("/v1/samples", tensor_sample(0.05f * i, i % 10), "application/json");
    version = s.wait_for([](const json& j) { return j["samples_pending"] == 0; })["model_version"];
    EXPECT_GE(version, 1);
    label = json::parse(c.Post("/v1/predict", png(1, 12, 12), "image/png")->body)["label"];
    s.server.stop();
  }
  Running s(serve_test::tiny_config(dir));
  EXPECT_EQ(s.get("/v1/status")["model_version"], version);
  EXPECT_EQ(json::parse(s.client().Post("/v1/predict", png(1, 12, 12), "image/png")->body)["label"],
            label);
}

// Serve takes the policy's adapter as bench does: answered requests adapt the runtime's
// answering copy, which is committed as a new version between rounds (--adapt-publish-s),
// with no labeled sample at all; a policy without an adapter commits nothing then.
TEST(ServeApi, TheAdaptedCopyIsCommittedBetweenRounds) {
  for (const std::string policy : {"tta", "etuner", "immediate"}) {
    auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-adapt-" + policy));
    cfg.policy = policy;
    cfg.adapt_publish_s = 0.2;
    Running s(cfg);
    EXPECT_EQ(s.get("/v1/status")["policy"]["adapter"], policy == "immediate" ? "none"
                                                        : policy == "tta"     ? "eata"
                                                                              : "bn");
    auto c = s.client();
    const auto first = json::parse(c.Post("/v1/predict", png(1, 12, 12), "image/png")->body);
    for (int i = 0; i < 30; ++i) c.Post("/v1/predict", png(1, 12, 12), "image/png");
    if (policy == "immediate") {
      std::this_thread::sleep_for(std::chrono::milliseconds(1000));
      EXPECT_EQ(s.get("/v1/status")["model_version"], 0);
      continue;
    }
    const auto st = s.wait_for([](const json& j) { return j["model_version"] >= 1; });
    EXPECT_EQ(st["samples_stored"], 0);
    EXPECT_TRUE(st["policy"].value("bn_adaptation", false));
    // The new version is the adapted copy, not version 0 again.
    const auto later = json::parse(c.Post("/v1/predict", png(1, 12, 12), "image/png")->body);
    EXPECT_GE(later["model_version"], 1);
    EXPECT_NE(later["confidence"], first["confidence"]);
  }
}

TEST(ServeApi, DataDirOfAnotherModelIsRefused) {
  const auto dir = fixtures::temp_dir("serve-api-identity");
  { Server first(serve_test::tiny_config(dir)); }
  auto other = serve_test::tiny_config(dir);
  other.classes = 5;
  EXPECT_THROW(Server{other}, ConfigError);
}

TEST(ServeApi, InvalidConfigIsAConfigError) {
  auto cfg = serve_test::tiny_config("");
  EXPECT_THROW(Server{cfg}, ConfigError);
  cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-cfg"));
  cfg.max_inflight = 0;
  EXPECT_THROW(Server{cfg}, ConfigError);
  cfg.max_inflight = 1;
  cfg.stream_spec = "x.json";  // and --classes: exactly one of them
  EXPECT_THROW(Server{cfg}, ConfigError);
}

// A full disk under the checkpoints: the service stays up, predictions keep coming from the
// last committed version, status and metrics say so, and the commit retries until it works.
TEST(ServeApi, FailingCheckpointWritesKeepServingAndRecover) {
  Running s(serve_test::tiny_config(fixtures::temp_dir("serve-api-fullckpt")));
  auto c = s.client();
  fail_checkpoint_writes_for_tests(true);
  struct Restore {  // whatever this test's outcome, later tests write checkpoints again
    ~Restore() { fail_checkpoint_writes_for_tests(false); }
  } restore;
  for (int i = 0; i < 8; ++i)
    ASSERT_EQ(c.Post("/v1/samples", tensor_sample(0.1f * i, i % 10), "application/json")->status,
              202);
  auto st = s.wait_for([](const json& j) { return j["storage"]["commit_failures"] >= 2; });
  EXPECT_FALSE(st["storage"]["checkpoints_writable"].get<bool>());
  EXPECT_NE(st["storage"]["last_error"].get<std::string>().find("No space left"),
            std::string::npos);
  EXPECT_EQ(st["model_version"], 0);
  EXPECT_EQ(st["samples_pending"], 8);  // trained, but no committed version consumed them
  const auto p = c.Post("/v1/predict", png(1, 12, 12), "image/png");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 200);
  EXPECT_EQ(json::parse(p->body)["model_version"], 0);
  EXPECT_NE(c.Get("/metrics")->body.find("etuner_checkpoints_writable 0"), std::string::npos);
  fail_checkpoint_writes_for_tests(false);  // space returns
  st = s.wait_for([](const json& j) {
    return j["model_version"] >= 1 && j["storage"]["checkpoints_writable"].get<bool>();
  });
  EXPECT_EQ(st["samples_pending"], 0);
  EXPECT_NE(c.Get("/metrics")->body.find("etuner_checkpoints_writable 1"), std::string::npos);
}

// Past --max-store-mb SQLite answers SQLITE_FULL, as on a full disk: 507, and exactly the
// acknowledged samples are stored.
TEST(ServeApi, FullStoreAnswers507AndStoresExactlyWhatWasAcknowledged) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-fullstore"));
  cfg.max_store_bytes = 64 << 10;
  cfg.policy = "never";
  Running s(cfg);
  auto c = s.client();
  int acked = 0;
  int status = 202;
  std::string body;
  for (int i = 0; i < 400 && status == 202; ++i) {
    const auto r = c.Post("/v1/samples", tensor_sample(0.001f * i, i % 10), "application/json");
    ASSERT_TRUE(r);
    status = r->status;
    body = r->body;
    acked += status == 202 ? 1 : 0;
  }
  EXPECT_EQ(status, 507) << body;
  EXPECT_EQ(json::parse(body).value("error", ""), "storage_full") << body;
  EXPECT_GT(acked, 10);
  const auto st = s.get("/v1/status");
  EXPECT_EQ(st["samples_stored"], acked);
  EXPECT_FALSE(st["storage"]["samples_writable"].get<bool>());
  EXPECT_EQ(st["storage"]["sample_write_failures"], 1);
  EXPECT_EQ(c.Post("/v1/predict", png(1, 12, 12), "image/png")->status, 200);
}

// --max-queue-samples bounds the trainer's queue while samples arrive faster than it takes
// them, and a restart streams the untrained backlog from SQLite instead of loading it whole.
TEST(ServeApi, QueueIsBoundedAndRestartStreamsTheBacklog) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-queue"));
  cfg.max_queue_samples = 8;
  cfg.batch_wait_s = 30;  // nothing leaves the queue until a full batch is there
  cfg.policy = "never";   // phase 1 trains nothing: all 40 stay untrained in the store
  {
    Running s(cfg);
    auto c = s.client();
    for (int i = 0; i < 40; ++i)
      ASSERT_EQ(c.Post("/v1/samples", tensor_sample(0.01f * i, i % 10), "application/json")->status,
                202);
    const auto st = s.get("/v1/status");
    EXPECT_EQ(st["samples_stored"], 40);
    EXPECT_LE(st["samples_queued_peak"].get<int>(), 8);
  }
  cfg.policy = "immediate";
  Running s(cfg);
  const auto st = s.wait_for([](const json& j) {
    return j["model_version"].get<int>() >= 1 && j["samples_pending"].get<int>() == 0;
  });
  EXPECT_EQ(st["samples_stored"], 40);
  EXPECT_GE(st["samples_queued_peak"].get<int>(), 1);
  EXPECT_LE(st["samples_queued_peak"].get<int>(), 8);  // never the whole backlog at once
}

TEST(ServeApi, SampleLimitAnswers507) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-limit"));
  cfg.max_stored_samples = 3;
  Running s(cfg);
  auto c = s.client();
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(c.Post("/v1/samples", tensor_sample(0.1f, 1), "application/json")->status, 202);
  expect_error(c.Post("/v1/samples", tensor_sample(0.1f, 1), "application/json"), 507,
               "sample_limit");
  EXPECT_EQ(s.get("/v1/status")["samples_stored"], 3);
}

TEST(ServeApi, SecondServerOnTheDataDirIsRefusedNamingTheHolder) {
  const auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-lock"));
  Server first(cfg);
  try {
    Server second(cfg);
    ADD_FAILURE() << "a second server opened the same data directory";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("pid " + std::to_string(::getpid())), std::string::npos)
        << e.what();
  }
}

// A raw connection, for requests httplib's client will not send.
struct RawConn {
  explicit RawConn(int port) : fd(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawConn() { ::close(fd); }
  void send(const std::string& s) const { (void)!::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }
  std::string read_all() const {  // until the server closes (or 10 s pass)
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }
  int fd;
  bool connected = false;
};

// Bodies are bounded however they arrive: chunked (no length declared) and compressed
// (counted decompressed), and the connection is closed rather than read to its end.
TEST(ServeApi, ChunkedAndCompressedBodiesAreBoundedDecompressed) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-bodies"));
  cfg.max_body_bytes = 16 << 10;
  Running s(cfg);
  RawConn chunked(s.port);
  chunked.send(
      "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  std::atomic<size_t> sent{0};
  std::thread sender([&] {  // 64 MiB in 1 MiB chunks, until the server hangs up
    const std::string chunk = "100000\r\n" + std::string(1 << 20, ' ') + "\r\n";
    for (int i = 0; i < 64; ++i) {
      if (::send(chunked.fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) return;
      sent += chunk.size();
    }
  });
  const auto reply = chunked.read_all();
  ::shutdown(chunked.fd, SHUT_RDWR);  // a sender still blocked in send() returns
  sender.join();
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply.substr(0, 200);
  EXPECT_NE(reply.find("body_too_large"), std::string::npos);
  EXPECT_LT(sent.load(), 32u << 20);  // the server hung up long before the client's 64 MiB
  auto gz = s.client();
  gz.set_compress(true);  // gzip: 1 MiB of spaces is about 1 KiB on the wire
  expect_error(gz.Post("/v1/predict", std::string(1 << 20, ' '), "application/json"), 413,
               "body_too_large");
  const auto small = gz.Post("/v1/predict", json{{"tensor", std::vector<float>(144, 0.5f)}}.dump(),
                             "application/json");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200) << small->body;  // compressed bodies within the limit work
}

TEST(ServeApi, UnknownRoutesAreRefusedBeforeTheirBodyIsRead) {
  Running s(serve_test::tiny_config(fixtures::temp_dir("serve-api-noroute")));
  RawConn conn(s.port);
  conn.send("POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n");
  const auto reply = conn.read_all();
  EXPECT_EQ(reply.rfind("HTTP/1.1 404", 0), 0u) << reply;
  EXPECT_NE(reply.find("\"not_found\""), std::string::npos) << reply;
  RawConn put(s.port);
  put.send("PUT /v1/samples HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n");
  EXPECT_EQ(put.read_all().rfind("HTTP/1.1 405", 0), 0u);
}

// 64 clients trickling a request each cannot hold /v1/status or a predict up, and each
// trickler is dropped at the whole-request deadline (a byte every 300 ms keeps every single
// read within the per-read timeout). A starved status call would wait for a trickler's
// 3 s deadline (2.7 s after t0), so the 2 s bound tells starvation from a loaded sanitizer run.
TEST(ServeApi, SlowClientsCannotStarveOthers) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-slow"));
  cfg.request_timeout_s = 3;
  Running s(cfg);
  std::vector<std::unique_ptr<RawConn>> slow;
  for (int i = 0; i < 64; ++i) {
    slow.push_back(std::make_unique<RawConn>(s.port));
    ASSERT_TRUE(slow.back()->connected);
    slow.back()->send("POST /v1/predict HTTP/1.1\r\nHost: x\r\n");
  }
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    while (!stop) {
      for (auto& c : slow) c->send("X");
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t0 = std::chrono::steady_clock::now();
  auto c = s.client();
  const auto st = c.Get("/v1/status");
  const auto p = c.Post("/v1/predict", png(1, 12, 12), "image/png");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(st && p);
  EXPECT_EQ(st->status, 200);
  EXPECT_EQ(p->status, 200);
  EXPECT_LT(took, 2.0);
  const auto dropped_at = std::chrono::steady_clock::now();
  const auto reply = slow.front()->read_all();  // ends when the server closes it
  stop = true;
  trickle.join();
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - dropped_at).count();
  // A trickler the pool takes only when another is dropped waits two deadlines; without a
  // deadline the trickle goes on for ever.
  EXPECT_LT(waited, 9.0) << reply;
}

TEST(ServeApi, InvalidUtf8InAContentTypeGetsA415NotA500) {
  Running s(serve_test::tiny_config(fixtures::temp_dir("serve-api-utf8")));
  const auto r = s.client().Post("/v1/predict", "x", std::string("image/\xff\xfe"));
  expect_error(r, 415, "unsupported_media_type");
}

TEST(ServeApi, TokenGuardsEveryRouteButHealthz) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-token"));
  cfg.auth_token = "s3cret";
  Running s(cfg);
  auto c = s.client();
  expect_error(c.Get("/v1/status"), 401, "unauthorized");
  expect_error(c.Post("/v1/predict", png(1, 12, 12), "image/png"), 401, "unauthorized");
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  c.set_bearer_token_auth("wrong");
  expect_error(c.Get("/metrics"), 401, "unauthorized");
  c.set_bearer_token_auth("s3cret");
  EXPECT_EQ(c.Get("/v1/status")->status, 200);
  EXPECT_EQ(c.Post("/v1/predict", png(1, 12, 12), "image/png")->status, 200);
}

TEST(ServeApi, PublicHostNeedsATokenOrInsecure) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-host"));
  cfg.host = "0.0.0.0";
  EXPECT_THROW(Server{cfg}, ConfigError);
  cfg.insecure = true;
  EXPECT_NO_THROW(Server{cfg});
  cfg.insecure = false;
  cfg.auth_token = "t";
  EXPECT_NO_THROW(Server{cfg});
}

TEST(ServeApi, PredictBatchAnswersEveryInstanceInOrder) {
  Running s(serve_test::tiny_config(fixtures::temp_dir("serve-api-batch")));
  auto c = s.client();
  const json one = {{"tensor", std::vector<float>(144, 0.3f)}};
  const json two = {{"image", serve_test::base64(png(1, 12, 12))}};
  auto r =
      c.Post("/v1/predict:batch", json{{"instances", {one, two, one}}}.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto preds = json::parse(r->body)["predictions"];
  ASSERT_EQ(preds.size(), 3u);
  // Each instance gets the answer a single predict gives it.
  for (size_t i = 0; i < 3; ++i) {
    const auto single =
        json::parse(c.Post("/v1/predict", (i == 1 ? two : one).dump(), "application/json")->body);
    EXPECT_EQ(preds[i]["label"], single["label"]) << i;
    EXPECT_DOUBLE_EQ(preds[i]["confidence"].get<double>(), single["confidence"].get<double>());
    EXPECT_EQ(preds[i]["model_version"], 0);
  }
  // A bad instance refuses the whole batch and names its index.
  r = c.Post("/v1/predict:batch",
             json{{"instances", {one, {{"tensor", std::vector<float>(3, 0.f)}}}}}.dump(),
             "application/json");
  expect_error(r, 422, "wrong_shape");
  EXPECT_NE(r->body.find("instances[1]"), std::string::npos) << r->body;
  expect_error(
      c.Post("/v1/predict:batch", json{{"instances", json::array()}}.dump(), "application/json"),
      400, "bad_request");
  expect_error(c.Post("/v1/predict:batch", png(1, 12, 12), "image/png"), 415,
               "unsupported_media_type");
  expect_error(
      c.Post("/v1/predict:batch", json{{"instances", std::vector<json>(kMaxBatch + 1, one)}}.dump(),
             "application/json"),
      413, "batch_too_large");
  expect_error(c.Get("/v1/predict:batch"), 405, "method_not_allowed");
}

TEST(ServeApi, PredictBatchIsBoundedByTheBodyLimit) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-batch-limit"));
  cfg.max_body_bytes = 4096;
  Running s(cfg);
  const json one = {{"tensor", std::vector<float>(144, 0.3f)}};
  expect_error(
      s.client().Post("/v1/predict:batch", json{{"instances", std::vector<json>(20, one)}}.dump(),
                      "application/json"),
      413, "body_too_large");
}

TEST(ServeApi, ReadyzOnceAVersionIsDeployedAndTheStoreWrites) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-ready"));
  cfg.max_store_bytes = int64_t(1) << 16;
  Running s(cfg);
  auto c = s.client();
  auto r = c.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["ready"], true);
  EXPECT_EQ(json::parse(r->body)["model_version"], 0);
  // Fill the store past its size limit: samples_writable goes false, so not ready.
  const std::string big = json{{"tensor", std::vector<float>(144, 0.5f)}, {"label", 1}}.dump();
  for (int i = 0; i < 400; ++i) {
    auto w = c.Post("/v1/samples", big, "application/json");
    if (w && w->status == 507 && json::parse(w->body)["error"] != "sample_limit") break;
  }
  ASSERT_FALSE(s.get("/v1/status")["storage"]["samples_writable"].get<bool>());
  r = c.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(json::parse(r->body)["ready"], false);
  EXPECT_EQ(c.Get("/healthz")->status, 200);  // alive all the same
}

TEST(ServeApi, ReadyzNeedsTheTokenHealthzDoesNot) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-ready-token"));
  cfg.auth_token = "t0k";
  Running s(cfg);
  auto c = s.client();
  expect_error(c.Get("/readyz"), 401, "unauthorized");
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  c.set_bearer_token_auth("t0k");
  EXPECT_EQ(c.Get("/readyz")->status, 200);
}

TEST(ServeApi, ParamsReachThePolicyAndTyposAreConfigErrors) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-params"));
  cfg.policy = "etuner";
  cfg.policy_params = R"({"lazytune": {"max_merge": 3}})";
  {
    Running s(cfg);
    EXPECT_EQ(s.get("/v1/status")["policy"]["params"],
              json::parse(R"({"lazytune": {"max_merge": 3}})"));
  }
  cfg.policy_params = R"({"lazytune": {"max_mergee": 3}})";  // a parameter no one reads
  EXPECT_THROW(Server{cfg}, ConfigError);
  cfg.policy_params = R"({"nosuchscheduler": {}})";
  EXPECT_THROW(Server{cfg}, ConfigError);
  cfg.policy_params = "{not json";
  EXPECT_THROW(Server{cfg}, ConfigError);
}

TEST(ServeApi, DeviceCudaIsADeviceErrorAndOthersAreConfigErrors) {
  auto cfg = serve_test::tiny_config(fixtures::temp_dir("serve-api-device"));
  cfg.device = "cuda";
  EXPECT_THROW(Server{cfg}, DeviceError);
  cfg.device = "tpu";
  EXPECT_THROW(Server{cfg}, ConfigError);
}

}  // namespace
}  // namespace etuner::serve
