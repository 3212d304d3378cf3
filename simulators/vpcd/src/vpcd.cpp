#include "rsp/sim/vpcd.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "rsp/log.hpp"

namespace rsp::sim::vpcd {
namespace {

constexpr const char* kLog = "vpcd";

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

void send_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw LinkError(errno_text("send"));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void quickack(int fd) {
#ifdef TCP_QUICKACK
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
  (void)fd;
#endif
}

// Reads exactly n bytes; false on EOF before the first byte when allow_eof.
bool recv_all(int fd, std::uint8_t* p, std::size_t n, bool allow_eof) {
  std::size_t got = 0;
  while (got < n) {
    quickack(fd);
    ssize_t r = ::recv(fd, p + got, n - got, 0);
    if (r == 0) {
      if (allow_eof && got == 0) return false;
      throw LinkError("connection closed inside a frame");
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      throw LinkError(errno_text("recv"));
    }
    got += static_cast<std::size_t>(r);
  }
  return true;
}

// Waits until fd is readable; false if `stop` became set first.
bool wait_readable(int fd, const std::atomic<bool>* stop) {
  for (;;) {
    if (stop && stop->load()) return false;
    pollfd pfd{fd, POLLIN, 0};
    int rc = ::poll(&pfd, 1, stop ? 200 : -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      throw LinkError(errno_text("poll"));
    }
    if (rc > 0) return true;
  }
}

int connect_to(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0)
    throw LinkError(std::string("getaddrinfo: ") + ::gai_strerror(rc));
  int fd = -1;
  std::string last = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    last = errno_text("connect");
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) throw LinkError(last);
  tune_socket(fd);
  return fd;
}

// Serves frames on one connection until EOF or stop. Returns true on stop.
bool serve_connection(int fd, Slot& slot, const std::atomic<bool>& stop) {
  for (;;) {
    auto frame = read_frame(fd, &stop);
    if (!frame) return stop.load();
    if (auto reply = slot.handle_frame(*frame)) write_frame(fd, *reply);
  }
}

}  // namespace

void tune_socket(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  quickack(fd);
}

void write_frame(int fd, ByteView payload) {
  if (payload.size() > 0xFFFF) throw LinkError("frame too long");
  Bytes out;
  out.reserve(payload.size() + 2);
  out.push_back(static_cast<std::uint8_t>(payload.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(payload.size()));
  append(out, payload);
  send_all(fd, out.data(), out.size());
}

std::optional<Bytes> read_frame(int fd, const std::atomic<bool>* stop) {
  if (!wait_readable(fd, stop)) return std::nullopt;
  std::uint8_t hdr[2];
  if (!recv_all(fd, hdr, 2, true)) return std::nullopt;
  std::size_t len = static_cast<std::size_t>(hdr[0] << 8 | hdr[1]);
  Bytes payload(len);
  if (len > 0) recv_all(fd, payload.data(), len, false);
  return payload;
}

std::optional<Bytes> Slot::handle_frame(ByteView payload) {
  if (payload.size() == 1) {
    switch (payload[0]) {
      case kPowerOff:
      case kPowerOn:
      case kReset:
        log::debug(kLog, payload[0] == kPowerOff ? "power off" : payload[0] == kPowerOn ? "power on" : "reset");
        atr_ = card_.reset();  // volatile state is lost either way
        return std::nullopt;
      case kGetAtr:
        return atr_;
      default:
        log::warn(kLog, "unknown control byte " + to_hex(payload));
        return std::nullopt;
    }
  }
  if (payload.empty()) return std::nullopt;
  return card_.transmit(payload);
}

int run_vpcd_client(Slot& slot, const VpcdClientOptions& opt, const std::atomic<bool>& stop) {
  int failures = 0;
  while (!stop.load()) {
    int fd = -1;
    try {
      fd = connect_to(opt.host, opt.port);
    } catch (const LinkError& e) {
      ++failures;
      log::warn(kLog, "cannot reach vpcd at " + opt.host + ":" + std::to_string(opt.port) + " (" + e.what() + "), attempt " +
                          std::to_string(failures));
      if (opt.max_attempts > 0 && failures >= opt.max_attempts) return 1;
      for (int waited = 0; waited < opt.retry_ms && !stop.load(); waited += 100)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    failures = 0;
    log::info(kLog, "connected to vpcd at " + opt.host + ":" + std::to_string(opt.port));
    bool stopped = false;
    try {
      stopped = serve_connection(fd, slot, stop);
    } catch (const LinkError& e) {
      log::warn(kLog, std::string("vpcd link lost: ") + e.what());
    }
    ::close(fd);
    slot.handle_frame(Bytes{kPowerOff});  // the reader is gone: card loses power
    if (stopped) break;
    log::info(kLog, "vpcd disconnected; reconnecting");
  }
  return 0;
}

TcpServer::~TcpServer() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::uint16_t TcpServer::listen(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0)
    throw LinkError(std::string("getaddrinfo: ") + ::gai_strerror(rc));
  std::string last = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 4) == 0) {
      listen_fd_ = fd;
      break;
    }
    last = errno_text("bind/listen");
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (listen_fd_ < 0) throw LinkError(last);
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &sl);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

void TcpServer::serve(Slot& slot, const std::atomic<bool>& stop) {
  if (listen_fd_ < 0) throw LinkError("TcpServer::serve before listen");
  while (!stop.load()) {
    if (!wait_readable(listen_fd_, &stop)) break;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      throw LinkError(errno_text("accept"));
    }
    tune_socket(fd);
    log::debug(kLog, "tcp client connected");
    try {
      serve_connection(fd, slot, stop);
    } catch (const LinkError& e) {
      log::warn(kLog, std::string("tcp client link lost: ") + e.what());
    }
    ::close(fd);
  }
}

TcpTransport::TcpTransport(const std::string& host, std::uint16_t port) : fd_(connect_to(host, port)) {}

TcpTransport::~TcpTransport() {
  if (fd_ >= 0) ::close(fd_);
}

Bytes TcpTransport::transmit(ByteView command_apdu) {
  if (command_apdu.size() < 2) throw LinkError("C-APDU too short for the framing");
  write_frame(fd_, command_apdu);
  auto r = read_frame(fd_);
  if (!r) throw LinkError("card closed the connection");
  return *r;
}

Bytes TcpTransport::reset() {
  write_frame(fd_, Bytes{kReset});
  write_frame(fd_, Bytes{kGetAtr});
  auto r = read_frame(fd_);
  if (!r) throw LinkError("card closed the connection");
  return *r;
}

bool split_host_port(const std::string& s, std::string& host, std::uint16_t& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  host = s.substr(0, colon);
  try {
    unsigned long p = std::stoul(s.substr(colon + 1));
    if (p > 65535) return false;
    port = static_cast<std::uint16_t>(p);
  } catch (const std::exception&) {
    return false;
  }
  return !host.empty();
}

}  // namespace rsp::sim::vpcd
