#include "serve/http.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "etuner/error.h"
#include "serve/sample_store.h"

namespace etuner::serve {
namespace {

using nlohmann::json;

// Invalid UTF-8 a client sent (echoed in a message) is replaced, never thrown: an error
// body must not itself fail.
void write_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void write_error(httplib::Response& res, int status, const std::string& code,
                 const std::string& message) {
  write_json(res, status, {{"error", code}, {"message", message}});
  if (status == 503) res.set_header("Retry-After", "1");
}

// The one place errors become status codes (docs/serve.md lists them).
// One log line per refused request (4xx/5xx): method, path, status, code and message.
void log_refusal(const httplib::Request& req, const httplib::Response& res) {
  if (res.status < 400) return;
  const auto j = nlohmann::json::parse(res.body, nullptr, false);
  const std::string code = j.is_object() ? j.value("error", "") : "";
  const std::string message = j.is_object() ? j.value("message", "") : "";
  const auto level = res.status >= 500 ? spdlog::level::err : spdlog::level::warn;
  spdlog::log(level, "serve: refused {} {} -> {} {}: {}", req.method, req.path, res.status, code,
              message);
}

void reply_error(httplib::Response& res, std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const RequestError& e) {
    write_error(res, e.status(), e.code(), e.what());
  } catch (const StoreRefused& e) {
    write_error(res, 507, e.code(), e.what());
  } catch (const ConfigError& e) {
    write_error(res, 400, "bad_request", e.what());
  } catch (const IoError& e) {
    write_error(res, 500, "storage_error", e.what());
  } catch (const Error& e) {
    write_error(res, 500, e.kind(), e.what());
  } catch (const std::exception& e) {
    write_error(res, 500, "internal", e.what());
  }
}

// Errors httplib answers itself (no route, body over the limit, unparsable request).
std::string code_for(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "request_timeout";
    case 413:
      return "body_too_large";
    case 414:
      return "uri_too_long";
    default:
      return "http_" + std::to_string(status);
  }
}

// Holds one of max_inflight slots for a predict/sample request, or refuses with 503.
class Slot {
 public:
  Slot(std::atomic<int>& used, int limit) : used_(used) {
    if (used_.fetch_add(1) >= limit) {
      used_.fetch_sub(1);
      throw RequestError(503, "overloaded", "too many concurrent requests; retry shortly");
    }
  }
  ~Slot() { used_.fetch_sub(1); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  std::atomic<int>& used_;
};

constexpr int kBacklog = 1024;  // connections the kernel queues before the pool takes them

}  // namespace

Http::Http(Backend& engine, const ServeConfig& cfg)
    : engine_(engine),
      cfg_(cfg),
      svr_(std::chrono::milliseconds(static_cast<int64_t>(cfg.request_timeout_s * 1000))) {
  // One thread per open connection (slow ones included), and enough to answer 503 quickly
  // while max_inflight requests are busy.
  const size_t threads = std::max<size_t>(cfg_.max_connections, cfg_.max_inflight * 2 + 4);
  svr_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr_.set_payload_max_length(cfg_.max_body_bytes);  // declared lengths; read_body the rest
  svr_.set_read_timeout(5, 0);  // each read; the request as a whole has request_timeout_s
  svr_.set_write_timeout(5, 0);
  svr_.set_keep_alive_max_count(1000);
  svr_.set_keep_alive_timeout(5);
  routes();
}

Http::~Http() { stop(); }

// Bodies are read by read_body through the library's ContentReader, never into memory by
// the library itself: it bounds only a declared Content-Length, not a chunked or compressed
// body. pre_route refuses every other method and path with a body before any of it is read.
void Http::routes() {
  svr_.Post("/v1/predict", [this](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& body) {
    guarded("predict", req, res, &body, [this](auto& q, auto& r, auto& b) { predict(q, r, b); });
  });
  svr_.Post("/v1/predict:batch", [this](const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& body) {
    guarded("predict_batch", req, res, &body,
            [this](auto& q, auto& r, auto& b) { predict_batch(q, r, b); });
  });
  svr_.Post("/v1/samples", [this](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& body) {
    guarded("samples", req, res, &body, [this](auto& q, auto& r, auto& b) { add_sample(q, r, b); });
  });
  svr_.Get("/v1/status", [this](const httplib::Request& req, httplib::Response& res) {
    guarded("status", req, res, nullptr,
            [this](auto&, auto& r, auto&) { write_json(r, 200, engine_.status()); });
  });
  svr_.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    guarded("metrics", req, res, nullptr, [this](auto&, auto& r, auto&) {
      r.status = 200;  // before guarded counts it: set_content leaves the status unset (-1)
      r.set_content(metrics_.render() + engine_.metrics_text(), "text/plain; version=0.0.4");
    });
  });
  svr_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    write_json(res, 200, {{"ok", true}});
  });
  svr_.Get("/readyz", [this](const httplib::Request& req, httplib::Response& res) {
    guarded("readyz", req, res, nullptr, [this](auto&, auto& r, auto&) { ready(r); });
  });
  svr_.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return pre_route(req, res); });
  svr_.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours already
        if (BoundedServer::deadline_passed()) res.status = 408;
        metrics_.observe("other", res.status, 0);
        write_error(res, res.status, code_for(res.status), "request refused by the HTTP layer");
        if (!cfg_.quiet) log_refusal(req, res);
        return httplib::Server::HandlerResponse::Handled;
      }));
  svr_.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                std::exception_ptr ep) { reply_error(res, ep); });
}

namespace {

struct Route {
  const char* method;
  const char* path;
};
constexpr Route kRoutes[] = {{"POST", "/v1/predict"}, {"POST", "/v1/predict:batch"},
                             {"POST", "/v1/samples"}, {"GET", "/v1/status"},
                             {"GET", "/metrics"},     {"GET", "/healthz"},
                             {"GET", "/readyz"}};

// 0 when method and path are a route (HEAD answers as GET), else 404 or 405.
int route_status(const std::string& method, const std::string& path) {
  bool path_known = false;
  for (const auto& r : kRoutes) {
    if (path != r.path) continue;
    path_known = true;
    if (method == r.method || (method == "HEAD" && std::string(r.method) == "GET")) return 0;
  }
  return path_known ? 405 : 404;
}

// Compares in time independent of where the strings differ.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i % (b.empty() ? 1 : b.size())];
  return diff == 0 && !b.empty();
}

}  // namespace

// Before the library reads a body: unknown routes and missing credentials are refused and
// the connection closed, so nothing of such a body is read.
httplib::Server::HandlerResponse Http::pre_route(const httplib::Request& req,
                                                 httplib::Response& res) {
  try {
    if (const int status = route_status(req.method, req.path))
      throw RequestError(status, code_for(status), "no route " + req.method + " " + req.path);
    if (!cfg_.auth_token.empty() && req.path != "/healthz" &&
        !same_secret(req.get_header_value("Authorization"), "Bearer " + cfg_.auth_token)) {
      res.set_header("WWW-Authenticate", "Bearer");
      throw RequestError(401, "unauthorized", "this server needs Authorization: Bearer <token>");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  } catch (...) {
    reply_error(res, std::current_exception());
  }
  BoundedServer::close_after_response();
  metrics_.observe("other", res.status, 0);
  if (!cfg_.quiet) log_refusal(req, res);
  return httplib::Server::HandlerResponse::Handled;
}

// The body, decompressed (gzip, deflate, br) as the library delivers it, refused with 413 at
// the first byte past max_body_bytes however it arrives (declared, chunked, compressed).
std::string Http::read_body(const httplib::Request& req, const httplib::ContentReader& reader) {
  const auto declared = req.get_header_value<uint64_t>("Content-Length");
  std::string body;
  bool too_large = declared > cfg_.max_body_bytes;
  const bool ok = !too_large && reader([&](const char* data, size_t n) {
    too_large = body.size() + n > cfg_.max_body_bytes;
    if (!too_large) body.append(data, n);
    return !too_large;
  });
  if (ok) return body;
  BoundedServer::close_after_response();  // the rest of the body stays unread
  const std::string limit = std::to_string(cfg_.max_body_bytes / 1024) + " KiB";
  if (too_large)
    throw RequestError(413, "body_too_large", "the body (decompressed) exceeds " + limit);
  if (BoundedServer::deadline_passed())
    throw RequestError(408, "request_timeout", "the request was not received in time");
  if (!req.get_header_value("Content-Encoding").empty())
    throw RequestError(415, "unsupported_encoding",
                       "Content-Encoding must be gzip, deflate or br, and the data valid");
  throw RequestError(400, "bad_body", "the body could not be read (malformed chunked encoding?)");
}

// Requests with a body (predict, samples) are the heavy ones: their body is read first, so a
// slow upload holds a connection but not one of the max_inflight slots.
void Http::guarded(const std::string& route, const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader* reader, const Handler& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  try {
    const bool heavy = reader != nullptr;
    if (heavy && draining_) {
      BoundedServer::close_after_response();
      throw RequestError(503, "shutting_down", "the server is stopping");
    }
    const std::string body = heavy ? read_body(req, *reader) : std::string();
    std::optional<Slot> slot;
    if (heavy) slot.emplace(inflight_, cfg_.max_inflight);
    fn(req, res, body);
  } catch (...) {
    reply_error(res, std::current_exception());
  }
  if (!cfg_.quiet && route != "readyz") log_refusal(req, res);  // probes: status, not refusal
  metrics_.observe(route, res.status,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

void Http::predict(const httplib::Request& req, httplib::Response& res, const std::string& body) {
  const auto in = parse_predict(req.get_header_value("Content-Type"), body, engine_.input());
  if (cfg_.test_delay_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(cfg_.test_delay_ms));
  const auto p = engine_.predict(in.pixels);
  write_json(res, 200,
             {{"label", p.label}, {"confidence", p.confidence}, {"model_version", p.version}});
}

// Each instance is answered by the version current when its turn comes; model_version per
// prediction says which (a commit can land between two of them).
void Http::predict_batch(const httplib::Request& req, httplib::Response& res,
                         const std::string& body) {
  const auto in = parse_predict_batch(req.get_header_value("Content-Type"), body, engine_.input());
  json out = json::array();
  for (const auto& x : in) {
    const auto p = engine_.predict(x.pixels);
    out.push_back({{"label", p.label}, {"confidence", p.confidence}, {"model_version", p.version}});
  }
  write_json(res, 200, {{"predictions", out}});
}

// Ready: a model version is deployed (Server::start published it), the server is not
// stopping, and the last sample insert and the last commit succeeded.
void Http::ready(httplib::Response& res) {
  const auto s = engine_.status();
  const auto& st = s["storage"];
  std::string reason;
  if (draining_)
    reason = "the server is stopping";
  else if (!st.value("samples_writable", false))
    reason = "the sample store cannot write: " + st.value("last_error", std::string());
  else if (!st.value("checkpoints_writable", false))
    reason = "checkpoints cannot be committed: " + st.value("last_error", std::string());
  if (reason.empty())
    write_json(res, 200, {{"ready", true}, {"model_version", s["model_version"]}});
  else
    write_json(res, 503,
               {{"ready", false}, {"reason", reason}, {"model_version", s["model_version"]}});
}

void Http::add_sample(const httplib::Request& req, httplib::Response& res,
                      const std::string& body) {
  auto in = parse_sample(req.get_header_value("Content-Type"), body, req.get_param_value("label"),
                         engine_.input());
  const int64_t id = engine_.add_sample(std::move(in.pixels), *in.label);
  write_json(res, 202, {{"sample_id", id}});  // only now: the sample is durable
}

int Http::start() {
  const int port = cfg_.port == 0 ? svr_.bind_to_any_port(cfg_.host)
                                  : (svr_.bind_to_port(cfg_.host, cfg_.port) ? cfg_.port : -1);
  if (port < 0)
    throw IoError("cannot listen on " + cfg_.host + ":" + std::to_string(cfg_.port) +
                  " (in use, or not a local address)");
  if (!svr_.set_backlog(kBacklog)) throw IoError("cannot set the listen backlog");
  listener_ = std::thread([this] { svr_.listen_after_bind(); });
  return port;
}

void Http::stop() {
  draining_ = true;
  if (listener_.joinable()) {
    svr_.stop();
    listener_.join();
  }
}

}  // namespace etuner::serve
