#include "rsp/lpa/tcp_transport.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace rsp::lpa {
namespace {

void send_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw TransportError(std::string("tcp send: ") + std::strerror(errno));
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void recv_all(int fd, std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) throw TransportError("tcp recv: timed out");
    if (r < 0) throw TransportError(std::string("tcp recv: ") + std::strerror(errno));
    if (r == 0) throw TransportError("tcp recv: connection closed by the card side");
    p += r;
    n -= static_cast<std::size_t>(r);
  }
}

}  // namespace

TcpTransport::TcpTransport(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) throw TransportError("tcp: cannot resolve " + host + ": " + gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      fd_ = fd;
      break;
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) throw TransportError("tcp: cannot connect to " + host + ":" + std::to_string(port) + ": " + last_error);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

TcpTransport TcpTransport::connect(const std::string& host_port, std::chrono::milliseconds timeout) {
  std::string host;
  std::string port;
  if (!host_port.empty() && host_port.front() == '[') {
    auto close = host_port.find(']');
    if (close == std::string::npos || close + 1 >= host_port.size() || host_port[close + 1] != ':')
      throw TransportError("tcp: expected [HOST]:PORT, got '" + host_port + "'");
    host = host_port.substr(1, close - 1);
    port = host_port.substr(close + 2);
  } else {
    auto colon = host_port.rfind(':');
    if (colon == std::string::npos) throw TransportError("tcp: expected HOST:PORT, got '" + host_port + "'");
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
  }
  unsigned long p = 0;
  try {
    std::size_t used = 0;
    p = std::stoul(port, &used);
    if (used != port.size()) p = 0;
  } catch (const std::exception&) {
    p = 0;
  }
  if (p == 0 || p > 65535 || host.empty()) throw TransportError("tcp: bad HOST:PORT '" + host_port + "'");
  return TcpTransport(host, static_cast<std::uint16_t>(p), timeout);
}

TcpTransport::~TcpTransport() {
  if (fd_ >= 0) ::close(fd_);
}

TcpTransport::TcpTransport(TcpTransport&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

void TcpTransport::send_frame(ByteView payload) {
  if (fd_ < 0) throw TransportError("tcp: not connected");
  if (payload.size() > 0xFFFF) throw TransportError("tcp: APDU longer than 65535 bytes");
  Bytes frame = {static_cast<std::uint8_t>(payload.size() >> 8), static_cast<std::uint8_t>(payload.size())};
  append(frame, payload);
  send_all(fd_, frame.data(), frame.size());
}

Bytes TcpTransport::recv_frame() {
  std::uint8_t hdr[2];
  recv_all(fd_, hdr, 2);
  Bytes rsp((static_cast<std::size_t>(hdr[0]) << 8) | hdr[1]);
  if (!rsp.empty()) recv_all(fd_, rsp.data(), rsp.size());
  return rsp;
}

Bytes TcpTransport::transmit(ByteView command_apdu) {
  if (command_apdu.size() < 4) throw TransportError("tcp: a C-APDU has at least 4 bytes");
  send_frame(command_apdu);
  Bytes rsp = recv_frame();
  if (rsp.size() < 2) throw TransportError("tcp: R-APDU shorter than 2 bytes");
  return rsp;
}

Bytes TcpTransport::reset() {
  const std::uint8_t reset_ctl = 0x02;  // no answer expected
  send_frame(ByteView(&reset_ctl, 1));
  const std::uint8_t atr_ctl = 0x04;
  send_frame(ByteView(&atr_ctl, 1));
  return recv_frame();
}

}  // namespace rsp::lpa
