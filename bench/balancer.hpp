// A round-robin TCP balancer for the benchmarks (issue 12): several smdpd
// instances on one store behind one address, as a load balancer in front of
// them would pass TLS through. Each accepted connection goes to the next
// backend in turn and is copied both ways until either side closes. It runs in
// the benchmark's process, so its CPU counts as the client's, not the SM-DP+'s.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

namespace rsp::bench {

class RoundRobinBalancer {
 public:
  RoundRobinBalancer(std::uint16_t port, std::vector<std::uint16_t> backends) : backends_(std::move(backends)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 512) != 0)
      throw std::runtime_error("balancer: cannot listen on 127.0.0.1:" + std::to_string(port));
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~RoundRobinBalancer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }

 private:
  void accept_loop() {
    std::size_t next = 0;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::uint16_t backend = backends_[next++ % backends_.size()];
      std::thread([client, backend] { pump(client, backend); }).detach();
    }
  }
  static void pump(int client, std::uint16_t backend) {
    int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(backend);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      char buf[16384];
      bool open = true;
      while (open && ::poll(p, 2, 60'000) > 0) {
        for (int i = 0; i < 2 && open; ++i) {
          if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          ssize_t n = ::read(p[i].fd, buf, sizeof buf);
          if (n <= 0) open = false;
          for (ssize_t off = 0; open && off < n;) {
            ssize_t w = ::write(p[1 - i].fd, buf + off, static_cast<std::size_t>(n - off));
            if (w <= 0) open = false;
            else off += w;
          }
        }
      }
    }
    ::close(server);
    ::close(client);
  }

  std::vector<std::uint16_t> backends_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace rsp::bench
