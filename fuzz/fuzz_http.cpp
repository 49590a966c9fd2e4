// libFuzzer target: raw bytes as one whole HTTP connection (request lines, headers, bodies
// declared, chunked or compressed, keep-alive requests one after another) through the
// server's own front: Http's routes, pre_route guards (routes, bearer token), body limits
// and error replies, on BoundedServer's connection loop, listening on a loopback port. A
// fake Backend stands in for the Engine (LibTorch) so the target builds with clang alone.
//
// A finding: a sanitizer report, a hang (-timeout), or a reply the server must never send:
// a 500 "internal" (an exception that was not the client's fault escaped a route), or
// /metrics counting a request without its status; or the backend handed an input the
// parsers should have refused (wrong size, a non-finite value, a label out of range).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "serve/backend.h"
#include "serve/http.h"
#include "serve/sample_store.h"

namespace {

using etuner::serve::InputSpec;

// The token pre_route demands (http.dict and the seeds carry "Authorization: Bearer fuzz").
constexpr const char* kToken = "fuzz";

// Answers like the Engine, checks what the routes hand it, and fails like the store can
// (labels 3 and 4), so the 507 and 500 storage_error replies are fuzzed too.
class FakeBackend final : public etuner::serve::Backend {
 public:
  etuner::serve::PredictResult predict(const std::vector<float>& pixels) override {
    check(pixels);
    double sum = 0;
    for (float v : pixels) sum += v;
    return {static_cast<int64_t>(std::fabs(sum)) % spec_.num_classes, 0.5, 1};
  }
  int64_t add_sample(std::vector<float> pixels, int64_t label) override {
    check(pixels);
    if (label < 0 || label >= spec_.num_classes) __builtin_trap();
    if (label == 3) throw etuner::serve::StoreRefused("store_full", "fake: the store is full");
    if (label == 4) throw etuner::IoError("fake: the disk went away");
    return ++samples_;
  }
  nlohmann::json status() const override {
    return {{"model_version", 1},
            {"storage",
             {{"samples_writable", true}, {"checkpoints_writable", true}, {"last_error", ""}}}};
  }
  std::string metrics_text() const override { return "etuner_model_version 1\n"; }
  const InputSpec& input() const override { return spec_; }

 private:
  void check(const std::vector<float>& pixels) const {
    if (pixels.size() != spec_.pixel_count()) __builtin_trap();
    for (float v : pixels)
      if (!std::isfinite(v)) __builtin_trap();
  }
  InputSpec spec_{1, 4, 4, 5};
  int64_t samples_ = 0;
};

// One server for the whole run (a server per input would cost a thread pool each). Small
// limits so the fuzzer reaches them: a 2 KiB body, one predict/sample at a time.
int server_port() {
  static const int port = [] {
    spdlog::set_level(spdlog::level::off);  // log_refusal still runs, its lines go nowhere
    etuner::serve::ServeConfig cfg;
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.auth_token = kToken;
    cfg.max_body_bytes = 2048;
    cfg.max_inflight = 1;
    cfg.max_connections = 4;
    cfg.request_timeout_s = 2;
    static FakeBackend backend;
    static auto* http = new etuner::serve::Http(backend, cfg);  // lives until exit
    return http->start();
  }();
  return port;
}

// poll() for one event, again when a signal interrupts it; false after 10 s (no answer).
short wait_ready(int fd, short events) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int rc = ::poll(&p, 1, 10000);
    if (rc > 0) return p.revents;
    if (rc == 0 || errno != EINTR) return 0;
  }
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) __builtin_trap();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // libFuzzer's timeout timer (SIGALRM) can interrupt any wait: EINTR is no finding.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (errno != EINTR) __builtin_trap();
    int err = 0;
    socklen_t len = sizeof err;
    if (!wait_ready(fd, POLLOUT) || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
        err != 0)
      __builtin_trap();
  }
  // Closed with a reset: no TIME_WAIT, so a million connections never run out of ports.
  const linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Sends the input (then end of stream) while reading the replies, until the server closes:
// both at once, or many pipelined requests would fill both directions' buffers and stall.
std::string exchange(int fd, const uint8_t* data, size_t size) {
  std::string replies;
  size_t sent = 0;
  bool half_closed = false;
  for (;;) {
    if (sent == size && !half_closed) {
      ::shutdown(fd, SHUT_WR);
      half_closed = true;
    }
    const short ready = wait_ready(fd, static_cast<short>(POLLIN | (half_closed ? 0 : POLLOUT)));
    if (ready == 0) __builtin_trap();  // the server must answer or close
    if (!half_closed && (ready & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) sent = size;  // refused the rest
    }
    if (ready & (POLLIN | POLLERR | POLLHUP)) {
      char buf[16384];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return replies;
      if (n > 0 && replies.size() < (1u << 20)) replies.append(buf, static_cast<size_t>(n));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = connect_to(server_port());
  const std::string replies = exchange(fd, data, size);
  ::close(fd);
  static const bool echo = std::getenv("FUZZ_HTTP_ECHO") != nullptr;  // to look at a finding
  if (echo) std::fprintf(stderr, "%s\n----\n", replies.c_str());
  // Every client error is a 4xx (or the fake's 507/500 storage_error): "internal" is a bug.
  if (replies.find("\"error\":\"internal\"") != std::string::npos) __builtin_trap();
  if (replies.find("\"error\":\"http_5") != std::string::npos) __builtin_trap();
  // /metrics counts every earlier request by its status: none may lack one.
  if (replies.find("code=\"-1\"") != std::string::npos) __builtin_trap();
  return 0;
}
