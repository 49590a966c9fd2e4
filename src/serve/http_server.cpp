#include "serve/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace etuner::serve {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

thread_local bool t_close_after = false;
thread_local bool t_deadline_passed = false;

milliseconds to_ms(time_t sec, time_t usec) { return milliseconds(sec * 1000 + usec / 1000); }

// poll() for one event; false on timeout or error.
bool wait_for(socket_t sock, short event, milliseconds timeout) {
  pollfd p{sock, event, 0};
  for (;;) {
    const int rc = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, timeout.count())));
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0;
  }
}

void address_of(const sockaddr_storage& a, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(a);
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    port = ntohs(v4.sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(a);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    port = ntohs(v6.sin6_port);
  }
  ip = text;
}

// One connection's socket, buffered (the library reads request lines a byte at a time), with
// every read bounded by both the per-read timeout and the current request's deadline.
class DeadlineStream : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, milliseconds read_timeout, milliseconds write_timeout)
      : sock_(sock), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  void start_request(Clock::time_point deadline) { deadline_ = deadline; }
  bool buffered() const { return pos_ < len_; }

  bool is_readable() const override {
    return buffered() || (read_wait().count() > 0 && wait_for(sock_, POLLIN, read_wait()));
  }
  bool is_writable() const override { return wait_for(sock_, POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (!buffered() && !fill()) return -1;
    const size_t n = std::min(size, len_ - pos_);
    std::copy(buf_ + pos_, buf_ + pos_ + n, ptr);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    for (;;) {
      const ssize_t n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) address_of(a, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) address_of(a, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  milliseconds read_wait() const {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
    return std::min(read_timeout_, left);
  }

  // Reads what the socket has; false at end of stream, on error, or past the deadline.
  bool fill() {
    const auto wait = read_wait();
    if (wait.count() <= 0 || !wait_for(sock_, POLLIN, wait)) {
      if (Clock::now() >= deadline_) t_deadline_passed = true;
      return false;
    }
    for (;;) {
      const ssize_t n = ::recv(sock_, buf_, sizeof buf_, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      pos_ = 0;
      len_ = static_cast<size_t>(n);
      return true;
    }
  }

  socket_t sock_;
  milliseconds read_timeout_, write_timeout_;
  Clock::time_point deadline_ = Clock::now();
  char buf_[4096];
  size_t pos_ = 0, len_ = 0;
};

// Closing a socket with unread input makes the kernel send a reset, which can destroy the
// response before the client reads it. So: send FIN after the response, discard what the
// client still sends for a moment (bounded in time and bytes), then close.
void close_lingering(socket_t sock) {
  ::shutdown(sock, SHUT_WR);
  const auto until = Clock::now() + milliseconds(250);
  char buf[16384];
  size_t drained = 0;
  while (drained < (8u << 20) && Clock::now() < until &&
         wait_for(sock, POLLIN, std::chrono::duration_cast<milliseconds>(until - Clock::now()))) {
    const ssize_t n = ::recv(sock, buf, sizeof buf, 0);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
  ::close(sock);
}

}  // namespace

bool BoundedServer::set_backlog(int backlog) {
  const socket_t sock = svr_sock_;
  return sock != INVALID_SOCKET && ::listen(sock, backlog) == 0;
}

void BoundedServer::close_after_response() { t_close_after = true; }

bool BoundedServer::deadline_passed() { return t_deadline_passed; }

// An idle keep-alive connection waits for its next request in short slices, so stop() never
// waits for the keep-alive timeout.
bool BoundedServer::wait_for_request(socket_t sock, bool buffered) const {
  if (buffered) return true;
  const auto until = Clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
  while (svr_sock_ != INVALID_SOCKET && Clock::now() < until)
    if (wait_for(sock, POLLIN, milliseconds(100))) return true;
  return false;
}

// What the library's own loop does, with one deadline per request (headers and body).
bool BoundedServer::process_and_close_socket(socket_t sock) {
  DeadlineStream strm(sock, to_ms(read_timeout_sec_, read_timeout_usec_),
                      to_ms(write_timeout_sec_, write_timeout_usec_));
  bool ok = false, unread = false;
  for (size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
    if (!wait_for_request(sock, strm.buffered())) break;
    strm.start_request(Clock::now() + request_deadline_);
    t_close_after = t_deadline_passed = false;
    bool closed = false;
    ok = process_request(strm, left == 1, closed, nullptr);
    unread = t_close_after || t_deadline_passed;
    if (!ok || closed || unread) break;
  }
  if (unread) {
    close_lingering(sock);
  } else {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
  return ok;
}

}  // namespace etuner::serve
