// The HTTP front of `etuner serve` (cpp-httplib): routes, limits, and the one place where
// errors become status codes and JSON error bodies.
#pragma once
#include <httplib.h>

#include <atomic>
#include <memory>
#include <thread>

#include "etuner/serve.h"
#include "serve/backend.h"
#include "serve/http_server.h"
#include "serve/metrics.h"

namespace etuner::serve {

class Http {
 public:
  Http(Backend& engine, const ServeConfig& cfg);
  ~Http();
  int start();  // binds and serves on a thread of its own; returns the port
  void stop();  // stops accepting and waits for requests in flight

 private:
  using Handler =
      std::function<void(const httplib::Request&, httplib::Response&, const std::string& body)>;
  void routes();
  void guarded(const std::string& route, const httplib::Request& req, httplib::Response& res,
               const httplib::ContentReader* reader, const Handler& fn);
  httplib::Server::HandlerResponse pre_route(const httplib::Request& req, httplib::Response& res);
  std::string read_body(const httplib::Request& req, const httplib::ContentReader& reader);
  void predict(const httplib::Request& req, httplib::Response& res, const std::string& body);
  void predict_batch(const httplib::Request& req, httplib::Response& res, const std::string& body);
  void ready(httplib::Response& res);
  void add_sample(const httplib::Request& req, httplib::Response& res, const std::string& body);

  Backend& engine_;
  ServeConfig cfg_;
  Metrics metrics_;
  BoundedServer svr_;
  std::thread listener_;
  std::atomic<int> inflight_{0};
  std::atomic<bool> draining_{false};
};

}  // namespace etuner::serve
