// ota_scp81_bench: SCP81 administration sessions per second on loopback
// (issue 10, must-show 5), each beside its floor measured in the same run
// (docs/benchmarks.md, "OTA over HTTPS (SCP81)"):
// - the bare PSK-TLS 1.2 handshake (mbedTLS client, OpenSSL server): connect,
//   handshake, close_notify, no HTTP;
// - a whole SCP81 session: handshake, the first POST, one command script
//   (SELECT MF, SELECT EF.ICCID, READ BINARY) run on the UICC card core, the
//   response script posted, 204;
// - the admin session handler alone (the same two requests handed to it
//   in-process, no TCP or TLS): the server's HTTP-level cost per session.
// Client and server share the machine's cores; one client, sessions one
// after the other, as one card at a time.
//
//   ota_scp81_bench [sessions (default 500)] [suite: gcm|cbc|ccm (default gcm)]
#include <mbedtls/ssl_ciphersuites.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "rsp/admin_agent/admin_agent.hpp"
#include "rsp/apdu.hpp"
#include "rsp/ota/scp81_admin_server.hpp"
#include "rsp/ota/scp81_protocol.hpp"
#include "rsp/uicc/card.hpp"
#include "rsp/uicc/profile_package.hpp"

using namespace rsp;
using namespace rsp::ota::scp81;
using Clock = std::chrono::steady_clock;

namespace {

const char* kIccid = "89014103211118510720";
const char* kIdentity = "bench-psk-identity";

std::unique_ptr<uicc::CardImage> small_card() {
  auto img = std::make_unique<uicc::CardImage>();
  img->fs.mf = std::make_unique<uicc::File>();
  img->fs.mf->type = uicc::FileType::Mf;
  img->fs.mf->fid = 0x3F00;
  auto ef = std::make_unique<uicc::File>();
  ef->type = uicc::FileType::Transparent;
  ef->fid = 0x2FE2;
  ef->content = std::make_shared<Bytes>(iccid_to_bcd(kIccid));
  ef->parent = img->fs.mf.get();
  img->fs.mf->children.push_back(std::move(ef));
  return img;
}

// CPU time of the whole process (client and server threads), so that the
// figures hold on a loaded machine where wall time does not.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double per_second(std::size_t n, Clock::duration d) {
  return static_cast<double>(n) / std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? static_cast<std::size_t>(std::atoi(argv[1])) : 500;
  const std::string suite_name = argc > 2 ? argv[2] : "gcm";
  int suite = MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256;
  if (suite_name == "cbc") suite = MBEDTLS_TLS_PSK_WITH_AES_128_CBC_SHA256;
  if (suite_name == "ccm") suite = MBEDTLS_TLS_PSK_WITH_AES_128_CCM;
  const Bytes psk = from_hex("00112233445566778899AABBCCDDEEFF");

  auto keys = std::make_shared<StaticPskKeySource>();
  keys->add(kIdentity, CardPsk{kIccid, SecretBytes(psk)});
  AdminServerConfig cfg;
  cfg.threads = 1;
  cfg.log = [](std::string_view) {};
  const AdminScript script{ota::CommandScript::expanded({from_hex("00A4000C023F00"), from_hex("00A4000C022FE2"),
                                                         from_hex("00B000000A")}),
                           std::nullopt};
  std::atomic<std::size_t> completed{0};
  AdminServer server(
      cfg, keys,
      [&](const SessionView& v) -> std::optional<AdminScript> {
        if (v.round == 0) return script;
        return std::nullopt;
      },
      [&](const SessionReport& r) {
        if (r.outcome == SessionOutcome::Completed) ++completed;
      });
  server.start();

  // 1. Bare PSK-TLS handshakes.
  admin_agent::PskTlsOptions o;
  o.port = server.port();
  o.psk_identity = kIdentity;
  o.psk = SecretBytes(psk);
  o.suites = {suite};
  std::string negotiated;
  double c0 = cpu_seconds();
  auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    admin_agent::PskTlsConnection c(o);
    if (i == 0) negotiated = c.suite();
  }
  const double handshakes = per_second(n, Clock::now() - t0);
  const double handshake_cpu_ms = (cpu_seconds() - c0) * 1000 / static_cast<double>(n);

  // 2. Whole sessions with the card core as executor.
  auto img = small_card();
  uicc::SecurityStatus sec;
  uicc::Card card(*img, sec);
  uicc::Selection sel;
  ota::ApduExecutor exec = [&](ByteView capdu) { return card.process(apdu::Command::parse(capdu), sel).encode(); };
  admin_agent::AdminAgentConfig ac;
  ac.server_port = server.port();
  ac.psk_identity = kIdentity;
  ac.psk = SecretBytes(psk);
  ac.suites = {suite};
  ac.admin_from = format_admin_from({"iccid", kIccid});
  admin_agent::AdminAgent agent(ac);
  std::size_t ok = 0;
  c0 = cpu_seconds();
  t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    auto r = agent.run(exec);
    if (r.completed && r.rounds == 1 && r.responses[0].executed == 3) ++ok;
  }
  const double sessions = per_second(n, Clock::now() - t0);
  const double session_cpu_ms = (cpu_seconds() - c0) * 1000 / static_cast<double>(n);

  // 3. The handler alone: the same two requests, in-process.
  http::Request first;
  first.method = "POST";
  first.target = "/gp/admin";
  first.headers.set(kHeaderProtocol, kProtocol);
  first.headers.set(kHeaderFrom, ac.admin_from);
  first.psk_identity = kIdentity;
  first.tls = true;
  http::Request second = first;
  second.headers.set("Content-Type", kMediaResponse);
  second.headers.set(kHeaderScriptStatus, "ok");
  ota::ResponseScript rs;
  rs.executed = 3;
  rs.responses = {{ota::kTagRApdu, from_hex("9000")}, {ota::kTagRApdu, from_hex("9000")},
                  {ota::kTagRApdu, concat(iccid_to_bcd(kIccid), from_hex("9000"))}};
  second.body = to_string(ota::encode_response_script(rs));
  const std::size_t handler_n = n * 20;
  std::size_t handler_ok = 0;
  c0 = cpu_seconds();
  t0 = Clock::now();
  for (std::size_t i = 0; i < handler_n; ++i) {
    auto a = server.handle(first);
    second.target = a.headers.get_or(kHeaderNextUri, "");
    if (server.handle(second).status == 204) ++handler_ok;
  }
  const double handler = per_second(handler_n, Clock::now() - t0);
  const double handler_cpu_ms = (cpu_seconds() - c0) * 1000 / static_cast<double>(handler_n);
  server.stop();

  std::printf("ota_scp81_bench: %zu sessions, suite %s, server 1 I/O thread, client 1 thread, loopback\n", n,
              negotiated.c_str());
  std::printf("  %-56s %9s %12s\n", "", "wall /s", "CPU ms each");
  std::printf("  %-56s %9.0f %12.3f\n", "bare PSK-TLS 1.2 handshake (connect, handshake, close)", handshakes,
              handshake_cpu_ms);
  std::printf("  %-56s %9.0f %12.3f  (%zu of %zu completed, %zu reported)\n",
              "SCP81 session (handshake + 1 script of 3 C-APDUs + 204)", sessions, session_cpu_ms, ok, n,
              completed.load() - handler_ok);
  std::printf("  %-56s %9.0f %12.4f  (%zu of %zu)\n", "admin session handler alone (2 requests, no TCP/TLS)",
              handler, handler_cpu_ms, handler_ok, handler_n);
  std::printf("  session / bare handshake, CPU: %.2f   (client and server CPU together; 1000 / CPU ms = sessions\n"
              "  per CPU-second)\n",
              session_cpu_ms / handshake_cpu_ms);
  return ok == n && handler_ok == handler_n ? 0 : 1;
}
