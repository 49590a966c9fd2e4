#include "serve/http.h"

#include <chrono>
#include <optional>

#include "etuner/error.h"

namespace etuner::serve {
namespace {

using nlohmann::json;

void write_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void write_error(httplib::Response& res, int status, const std::string& code,
                 const std::string& message) {
  write_json(res, status, {{"error", code}, {"message", message}});
  if (status == 503) res.set_header("Retry-After", "1");
}

// The one place errors become status codes (docs/serve.md lists them).
void reply_error(httplib::Response& res, std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const RequestError& e) {
    write_error(res, e.status(), e.code(), e.what());
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

}  // namespace

Http::Http(Engine& engine, const ServeConfig& cfg) : engine_(engine), cfg_(cfg) {
  // Enough threads to answer 503 quickly while max_inflight requests are busy.
  const size_t threads = static_cast<size_t>(cfg_.max_inflight) * 2 + 4;
  svr_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr_.set_payload_max_length(cfg_.max_body_bytes);
  svr_.set_read_timeout(5, 0);  // a client that stalls mid-request frees its thread
  svr_.set_write_timeout(5, 0);
  svr_.set_keep_alive_max_count(1000);
  svr_.set_keep_alive_timeout(5);
  routes();
}

Http::~Http() { stop(); }

void Http::routes() {
  svr_.Post("/v1/predict", [this](const httplib::Request& req, httplib::Response& res) {
    guarded("predict", true, req, res, [this](auto& q, auto& r) { predict(q, r); });
  });
  svr_.Post("/v1/samples", [this](const httplib::Request& req, httplib::Response& res) {
    guarded("samples", true, req, res, [this](auto& q, auto& r) { add_sample(q, r); });
  });
  svr_.Get("/v1/status", [this](const httplib::Request& req, httplib::Response& res) {
    guarded("status", false, req, res,
            [this](auto&, auto& r) { write_json(r, 200, engine_.status()); });
  });
  svr_.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    guarded("metrics", false, req, res, [this](auto&, auto& r) {
      r.set_content(metrics_.render() + engine_.metrics_text(), "text/plain; version=0.0.4");
    });
  });
  svr_.set_error_handler(
      httplib::Server::HandlerWithResponse([this](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours already
        metrics_.observe("other", res.status, 0);
        write_error(res, res.status, code_for(res.status), "request refused by the HTTP layer");
        return httplib::Server::HandlerResponse::Handled;
      }));
  svr_.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                std::exception_ptr ep) { reply_error(res, ep); });
}

void Http::guarded(const std::string& route, bool heavy, const httplib::Request& req,
                   httplib::Response& res, const Handler& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  try {
    if (heavy && draining_) throw RequestError(503, "shutting_down", "the server is stopping");
    std::optional<Slot> slot;
    if (heavy) slot.emplace(inflight_, cfg_.max_inflight);
    fn(req, res);
  } catch (...) {
    reply_error(res, std::current_exception());
  }
  metrics_.observe(route, res.status,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

void Http::predict(const httplib::Request& req, httplib::Response& res) {
  const auto in = parse_predict(req.get_header_value("Content-Type"), req.body, engine_.input());
  if (cfg_.test_delay_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(cfg_.test_delay_ms));
  const auto p = engine_.predict(in.pixels);
  write_json(res, 200,
             {{"label", p.label}, {"confidence", p.confidence}, {"model_version", p.version}});
}

void Http::add_sample(const httplib::Request& req, httplib::Response& res) {
  auto in = parse_sample(req.get_header_value("Content-Type"), req.body,
                         req.get_param_value("label"), engine_.input());
  const int64_t id = engine_.add_sample(std::move(in.pixels), *in.label);
  write_json(res, 202, {{"sample_id", id}});  // only now: the sample is durable
}

int Http::start() {
  const int port = cfg_.port == 0 ? svr_.bind_to_any_port(cfg_.host)
                                  : (svr_.bind_to_port(cfg_.host, cfg_.port) ? cfg_.port : -1);
  if (port < 0)
    throw IoError("cannot listen on " + cfg_.host + ":" + std::to_string(cfg_.port) +
                  " (in use, or not a local address)");
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
