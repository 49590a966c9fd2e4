// Server: the Engine (model, store, trainer) behind the HTTP front.
#include <mutex>

#include "etuner/serve.h"
#include "serve/engine.h"
#include "serve/http.h"

namespace etuner::serve {

struct Server::Impl {
  explicit Impl(const ServeConfig& cfg) : engine(cfg), http(engine, cfg) {}
  Engine engine;
  Http http;
  std::mutex mu;
  bool stopped = false;
};

Server::Server(ServeConfig cfg) : impl_(std::make_unique<Impl>(cfg)) {}

Server::~Server() { stop(); }

int Server::start() {
  impl_->engine.start();
  return impl_->http.start();
}

// Order matters: no new requests first, then the trainer finishes its round and commits.
void Server::stop() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->http.stop();
  impl_->engine.stop();
}

int Server::model_version() const { return impl_->engine.version(); }

}  // namespace etuner::serve
