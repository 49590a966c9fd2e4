// httplib::Server with the limits cpp-httplib 0.11 (Debian 12) lacks, for `etuner serve`:
//   - a deadline for each whole request (request line, headers and body), where the library
//     only times each read out: a client trickling a byte every few seconds held a thread
//     for ever;
//   - a listen backlog of our choosing (the library's is 5, compiled into it);
//   - closing a connection whose request body was refused unread, instead of parsing the
//     rest of that body as the next request.
// The connection loop (keep-alive) is ours for that; parsing and routing stay the library's.
#pragma once
#include <httplib.h>

#include <chrono>

namespace etuner::serve {

class BoundedServer : public httplib::Server {
 public:
  explicit BoundedServer(std::chrono::milliseconds request_deadline)
      : request_deadline_(request_deadline) {}
  // After bind_to_port: listen again with a longer queue of pending connections.
  bool set_backlog(int backlog);
  // Called by a handler on its own thread: the connection closes after this response (the
  // body was refused before it was read to its end).
  static void close_after_response();
  // Whether the request on this thread ran past its deadline (its reads then fail).
  static bool deadline_passed();

 private:
  bool process_and_close_socket(socket_t sock) override;
  bool wait_for_request(socket_t sock, bool buffered) const;

  std::chrono::milliseconds request_deadline_;
};

}  // namespace etuner::serve
