// scp81_rig: the OTA server's SCP81 admin server on 127.0.0.1 (ephemeral
// port) for scp81_openssl_interop.sh, which talks to it with `openssl
// s_client -psk`: an independent TLS client, so the PSK suites are shown to
// interoperate with more than our own mbedTLS agent.
//
//   scp81_rig PORT_FILE IDENTITY HEX_PSK [SECONDS]
//
// Serves one command script (SELECT MF) per session, writes the bound port
// to PORT_FILE, prints one line per finished session on stdout and exits
// after SECONDS (default 60) or when killed. A test double.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "rsp/ota/scp81_admin_server.hpp"

using namespace rsp;
using namespace rsp::ota::scp81;

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: scp81_rig PORT_FILE IDENTITY HEX_PSK [SECONDS]\n";
    return 2;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  auto keys = std::make_shared<StaticPskKeySource>();
  keys->add(argv[2], CardPsk{"89014103211118510720", SecretBytes(from_hex(argv[3]))});
  AdminServerConfig cfg;
  cfg.session_timeout = std::chrono::milliseconds(5000);
  cfg.threads = 1;
  AdminServer server(
      cfg, keys,
      [](const SessionView& v) -> std::optional<AdminScript> {
        if (v.round > 0) return std::nullopt;
        return AdminScript{ota::CommandScript::expanded({from_hex("00A4000C023F00")}), std::nullopt};
      },
      [](const SessionReport& r) {
        std::cout << "session " << r.session_id << " " << outcome_name(r.outcome) << " rounds " << r.rounds << "\n"
                  << std::flush;
      });
  server.start();
  {
    std::ofstream(argv[1]) << server.port() << "\n";
  }
  const int seconds = argc > 4 ? std::atoi(argv[4]) : 60;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!g_stop && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server.stop();
  return 0;
}
