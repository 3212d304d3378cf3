// The card-side links: vpcd framing, the vpcd client against a fake vpcd
// driver, and the TCP server with its client Transport.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "rsp/log.hpp"
#include "rsp/sim/vpcd.hpp"
#include "sim_test_util.hpp"

using namespace rsp;
using namespace rsp::sim;
using namespace rsp::sim::test;

namespace {

int listen_loopback(std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1) != 0) return -1;
  socklen_t l = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
  port = ntohs(a.sin_port);
  return fd;
}

TEST(Vpcd, ClientServesAFakeVpcdDriver) {
  log::set_level(log::Level::Error);
  Euicc card(config_for(pki()));
  std::uint16_t port = 0;
  int lfd = listen_loopback(port);
  ASSERT_GE(lfd, 0);
  std::atomic<bool> stop{false};
  vpcd::Slot slot(card);
  vpcd::VpcdClientOptions opt;
  opt.port = port;
  opt.max_attempts = 5;
  opt.retry_ms = 100;
  int rc = -1;
  std::thread t([&] { rc = vpcd::run_vpcd_client(slot, opt, stop); });

  int fd = ::accept(lfd, nullptr, nullptr);
  ASSERT_GE(fd, 0);
  // The driver: power on, ask for the ATR, send APDUs (length and payload
  // written separately, as Debian's vpcd does).
  vpcd::write_frame(fd, Bytes{vpcd::kPowerOn});
  vpcd::write_frame(fd, Bytes{vpcd::kGetAtr});
  auto atr = vpcd::read_frame(fd);
  ASSERT_TRUE(atr);
  EXPECT_EQ((*atr)[0], 0x3B);
  Bytes sel = from_hex("00A4040010A0000005591010FFFFFFFF890000010000");
  Bytes hdr{0x00, static_cast<std::uint8_t>(sel.size())};
  ASSERT_EQ(::send(fd, hdr.data(), 2, 0), 2);
  ASSERT_EQ(::send(fd, sel.data(), sel.size(), 0), static_cast<ssize_t>(sel.size()));
  auto r = vpcd::read_frame(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(apdu::Response::parse(*r).sw, 0x9000);
  vpcd::write_frame(fd, from_hex("80E2910006BF3E035C015A00"));
  r = vpcd::read_frame(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, concat(from_hex("BF3E125A10"), card.eid(), from_hex("9000")));
  // Polling the ATR does not reset the card: the ISD-R stays selected.
  vpcd::write_frame(fd, Bytes{vpcd::kGetAtr});
  ASSERT_TRUE(vpcd::read_frame(fd));
  vpcd::write_frame(fd, from_hex("80E2910006BF3E035C015A00"));
  EXPECT_EQ(apdu::Response::parse(*vpcd::read_frame(fd)).sw, 0x9000);
  // A reset does.
  vpcd::write_frame(fd, Bytes{vpcd::kReset});
  vpcd::write_frame(fd, from_hex("80E2910006BF3E035C015A00"));
  EXPECT_EQ(apdu::Response::parse(*vpcd::read_frame(fd)).sw, 0x6985);

  // The driver goes away: the card reconnects.
  ::close(fd);
  fd = ::accept(lfd, nullptr, nullptr);
  ASSERT_GE(fd, 0);
  vpcd::write_frame(fd, Bytes{vpcd::kGetAtr});
  EXPECT_TRUE(vpcd::read_frame(fd));
  stop = true;
  t.join();
  EXPECT_EQ(rc, 0);
  ::close(fd);
  ::close(lfd);
}

TEST(Vpcd, ClientGivesUpWhenNobodyListens) {
  log::set_level(log::Level::Off);
  Euicc card(config_for(pki()));
  std::uint16_t port = 0;
  int lfd = listen_loopback(port);
  ::close(lfd);  // nothing listens on that port now
  std::atomic<bool> stop{false};
  vpcd::Slot slot(card);
  vpcd::VpcdClientOptions opt;
  opt.port = port;
  opt.max_attempts = 2;
  opt.retry_ms = 50;
  EXPECT_EQ(vpcd::run_vpcd_client(slot, opt, stop), 1);
}

TEST(Vpcd, TcpServerAndTransport) {
  log::set_level(log::Level::Error);
  Euicc card(config_for(pki()));
  vpcd::TcpServer server;
  std::uint16_t port = server.listen("127.0.0.1", 0);
  ASSERT_NE(port, 0);
  std::atomic<bool> stop{false};
  vpcd::Slot slot(card);
  std::thread t([&] { server.serve(slot, stop); });
  {
    vpcd::TcpTransport link("127.0.0.1", port);
    Bytes atr = link.reset();
    EXPECT_EQ(atr, card.reset());
    select_isdr(link);
    std::uint16_t sw = 0;
    Bytes info2 = es10(link, from_hex("BF2200"), &sw);
    EXPECT_EQ(sw, 0x9000);
    EXPECT_EQ(info2[0], 0xBF);
    // An extended-length APDU passes through the framing untouched.
    apdu::Command big{0x80, 0xE2, 0x91, 0x00, concat(from_hex("BF3E035C015A")), 65536};
    Bytes enc = big.encode();
    EXPECT_EQ(apdu::Response::parse(link.transmit(enc)).sw, 0x9000);
  }
  // A second client after the first one left.
  {
    vpcd::TcpTransport link("127.0.0.1", port);
    EXPECT_EQ(link.reset()[0], 0x3B);
  }
  stop = true;
  t.join();
}

}  // namespace

// The HOST:PORT of the tools' --vpcd / --tcp options (one parser for masim,
// euicc-sim and gp-card-sim).
TEST(Vpcd, SplitHostPort) {
  std::string host;
  std::uint16_t port = 0;
  EXPECT_TRUE(vpcd::split_host_port("127.0.0.1:35963", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 35963);
  EXPECT_TRUE(vpcd::split_host_port("::1:0", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(vpcd::split_host_port("127.0.0.1", host, port));
  EXPECT_FALSE(vpcd::split_host_port(":35963", host, port));
  EXPECT_FALSE(vpcd::split_host_port("127.0.0.1:65536", host, port));
  EXPECT_FALSE(vpcd::split_host_port("127.0.0.1:x", host, port));
}
