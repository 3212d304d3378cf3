// Issue 10, SCP81 (must-show 1, the SCP81 leg): a whole administration
// session on loopback between the OTA server's admin session handler
// (OpenSSL, PSK-TLS 1.2) and the card's admin agent (mbedTLS), with the
// UICC card core as the executor: RFM SELECT + READ BINARY of EF.ICCID comes
// back in the response script. Negatives: wrong PSK and unknown identity
// fail the handshake with nothing executed; a response script that does not
// parse, an error script status, a card that goes away mid-session (the
// server times the session out and drops it).
#include <gtest/gtest.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "rsp/admin_agent/admin_agent.hpp"
#include "rsp/admin_agent/trigger_application.hpp"
#include "rsp/apdu.hpp"
#include "rsp/ota/command_packet.hpp"
#include "rsp/ota/receiving_entity.hpp"
#include "rsp/ota/scp81_admin_server.hpp"
#include "rsp/ota/scp81_protocol.hpp"
#include "rsp/uicc/card.hpp"
#include "rsp/uicc/profile_package.hpp"

using namespace rsp;
using namespace rsp::ota::scp81;
using rsp::admin_agent::AdminAgent;
using rsp::admin_agent::AdminAgentConfig;
using rsp::admin_agent::AgentError;
using rsp::admin_agent::HttpHeader;
using rsp::admin_agent::PskTlsConnection;
using rsp::admin_agent::PskTlsOptions;

namespace {

const char* kIccid = "89014103211118510720";
const char* kIdentity = "scp81-psk-id-01";
const Bytes kPsk = from_hex("11223344556677889900AABBCCDDEEFF");

// A card image without testdata: the MF and EF.ICCID (2FE2, TS 102 221 13.2)
// holding the ICCID in swapped-nibble BCD.
std::unique_ptr<uicc::CardImage> small_card() {
  auto img = std::make_unique<uicc::CardImage>();
  img->fs.mf = std::make_unique<uicc::File>();
  img->fs.mf->type = uicc::FileType::Mf;
  img->fs.mf->fid = 0x3F00;
  img->fs.mf->descriptor_byte = 0x78;
  auto ef = std::make_unique<uicc::File>();
  ef->type = uicc::FileType::Transparent;
  ef->fid = 0x2FE2;
  ef->descriptor_byte = 0x41;
  ef->content = std::make_shared<Bytes>(iccid_to_bcd(kIccid));
  ef->parent = img->fs.mf.get();
  img->fs.mf->children.push_back(std::move(ef));
  img->header_iccid = iccid_to_bcd(kIccid);
  return img;
}

// The card core behind the agent's executor, counting the C-APDUs it ran.
struct CardUnderTest {
  std::unique_ptr<uicc::CardImage> img = small_card();
  uicc::SecurityStatus sec;
  uicc::Card card{*img, sec};
  uicc::Selection sel;
  std::atomic<int> executed{0};
  ota::ApduExecutor executor() {
    return [this](ByteView capdu) {
      ++executed;
      return card.process(apdu::Command::parse(capdu), sel).encode();
    };
  }
};

struct Reports {
  std::mutex m;
  std::vector<SessionReport> all;
  void add(const SessionReport& r) {
    std::lock_guard lk(m);
    all.push_back(r);
  }
  std::size_t size() {
    std::lock_guard lk(m);
    return all.size();
  }
  SessionReport at(std::size_t i) {
    std::lock_guard lk(m);
    return all.at(i);
  }
  // Waits (bounded) for n reports.
  bool wait_for(std::size_t n, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return size() >= n;
  }
};

struct Scp81Session : ::testing::Test {
  std::shared_ptr<StaticPskKeySource> keys = std::make_shared<StaticPskKeySource>();
  Reports reports;
  std::unique_ptr<AdminServer> server;
  // Scripts per round: round 0 reads EF.ICCID, round 1 asks STATUS.
  std::vector<AdminScript> scripts;

  void start(std::chrono::milliseconds session_timeout = std::chrono::milliseconds(30'000)) {
    keys->add(kIdentity, CardPsk{kIccid, SecretBytes(kPsk)});
    AdminServerConfig cfg;
    cfg.session_timeout = session_timeout;
    cfg.log = [](std::string_view) {};
    server = std::make_unique<AdminServer>(
        cfg, keys,
        [this](const SessionView& v) -> std::optional<AdminScript> {
          if (v.round < scripts.size()) return scripts[v.round];
          return std::nullopt;
        },
        [this](const SessionReport& r) { reports.add(r); });
    server->start();
  }

  AdminAgentConfig agent_config() {
    AdminAgentConfig c;
    c.server_port = server->port();
    c.psk_identity = kIdentity;
    c.psk = SecretBytes(kPsk);
    c.admin_from = format_admin_from({"iccid", kIccid});
    c.timeout = std::chrono::milliseconds(5000);
    return c;
  }

  static AdminScript read_iccid() {
    // SELECT MF, SELECT EF.ICCID (no FCP), READ BINARY 10 bytes.
    return AdminScript{ota::CommandScript::expanded({from_hex("00A4000C023F00"), from_hex("00A4000C022FE2"),
                                                     from_hex("00B000000A")}),
                       std::nullopt};
  }

  PskTlsOptions raw_options() {
    PskTlsOptions o;
    o.port = server->port();
    o.psk_identity = kIdentity;
    o.psk = SecretBytes(kPsk);
    o.timeout = std::chrono::milliseconds(5000);
    return o;
  }
  static std::vector<HttpHeader> admin_headers() {
    return {{"X-Admin-Protocol", std::string(kProtocol)}, {"X-Admin-From", "//se-id/iccid/89014103211118510720"}};
  }
};

}  // namespace

TEST_F(Scp81Session, FullSessionReadsIccidThroughTheCardCore) {
  scripts = {read_iccid(), AdminScript{ota::CommandScript::expanded({from_hex("80F2000000")}), std::nullopt}};
  start();
  CardUnderTest card;
  AdminAgent agent(agent_config());
  auto result = agent.run(card.executor());
  EXPECT_TRUE(result.completed);
  EXPECT_EQ(result.rounds, 2u);
  EXPECT_EQ(card.executed.load(), 4);
  EXPECT_FALSE(result.suite.empty());

  ASSERT_TRUE(reports.wait_for(1));
  auto r = reports.at(0);
  EXPECT_EQ(r.outcome, SessionOutcome::Completed) << r.detail;
  EXPECT_EQ(r.card_id, kIccid);
  EXPECT_EQ(r.rounds, 2u);
  EXPECT_EQ(r.script_status, "ok");
  ASSERT_EQ(r.responses.size(), 2u);
  // Round 0: three C-APDUs executed, the third's R-APDU is EF.ICCID || 9000.
  EXPECT_EQ(r.responses[0].executed, 3);
  auto rapdus = r.responses[0].r_apdus();
  ASSERT_EQ(rapdus.size(), 3u);
  EXPECT_EQ(rapdus[2], concat(iccid_to_bcd(kIccid), from_hex("9000")));
  EXPECT_EQ(iccid_from_bcd(ByteView(rapdus[2]).first(10)), kIccid);
  EXPECT_EQ(server->open_sessions(), 0u);
}

TEST_F(Scp81Session, EveryPskSuiteCarriesASession) {
  scripts = {read_iccid()};
  start();
  for (int suite : rsp::admin_agent::default_psk_suites()) {
    CardUnderTest card;
    auto cfg = agent_config();
    cfg.suites = {suite};
    auto result = AdminAgent(cfg).run(card.executor());
    EXPECT_TRUE(result.completed) << result.suite;
    EXPECT_EQ(card.executed.load(), 3) << result.suite;
  }
  EXPECT_TRUE(reports.wait_for(3));
}

TEST_F(Scp81Session, WrongPskFailsTheHandshakeAndNothingRuns) {
  scripts = {read_iccid()};
  start();
  CardUnderTest card;
  auto cfg = agent_config();
  cfg.psk = SecretBytes(from_hex("11223344556677889900AABBCCDDEE00"));
  EXPECT_THROW(AdminAgent(cfg).run(card.executor()), AgentError);
  EXPECT_EQ(card.executed.load(), 0);
  EXPECT_EQ(reports.size(), 0u);
  EXPECT_EQ(server->open_sessions(), 0u);
}

TEST_F(Scp81Session, UnknownIdentityFailsTheHandshake) {
  scripts = {read_iccid()};
  start();
  CardUnderTest card;
  auto cfg = agent_config();
  cfg.psk_identity = "nobody";
  try {
    AdminAgent(cfg).run(card.executor());
    FAIL() << "handshake succeeded";
  } catch (const AgentError& e) {
    EXPECT_NE(std::string(e.what()).find("handshake"), std::string::npos) << e.what();
  }
  EXPECT_EQ(card.executed.load(), 0);
  EXPECT_EQ(server->open_sessions(), 0u);
}

TEST_F(Scp81Session, MalformedResponseScriptEndsTheSession) {
  scripts = {read_iccid(), read_iccid()};
  start();
  PskTlsConnection conn(raw_options());
  auto first = conn.post("/gp/admin", admin_headers(), {});
  ASSERT_EQ(first.status, 200);
  EXPECT_TRUE(same_media_type(first.header("Content-Type"), kMediaCommand));
  EXPECT_EQ(first.body, ota::encode_command_script(read_iccid().script));
  const std::string next = first.header("X-Admin-Next-URI");
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(server->open_sessions(), 1u);

  auto h = admin_headers();
  h.push_back({"Content-Type", std::string(kMediaResponse)});
  h.push_back({"X-Admin-Script-Status", "ok"});
  auto second = conn.post(next, h, from_hex("AB0580019023"));  // R-APDU TLV runs past the template
  EXPECT_EQ(second.status, 400);
  ASSERT_TRUE(reports.wait_for(1));
  EXPECT_EQ(reports.at(0).outcome, SessionOutcome::MalformedResponse);
  EXPECT_EQ(server->open_sessions(), 0u);
  // The session is gone: posting again to its URI finds nothing.
  EXPECT_EQ(conn.post(next, h, from_hex("AB03800100")).status, 404);
}

TEST_F(Scp81Session, ErrorScriptStatusEndsTheSessionWith204) {
  scripts = {read_iccid(), read_iccid()};
  start();
  PskTlsConnection conn(raw_options());
  auto first = conn.post("/gp/admin", admin_headers(), {});
  ASSERT_EQ(first.status, 200);
  auto h = admin_headers();
  h.push_back({"X-Admin-Script-Status", "security-error"});
  auto second = conn.post(first.header("X-Admin-Next-URI"), h, {});
  EXPECT_EQ(second.status, 204);
  ASSERT_TRUE(reports.wait_for(1));
  EXPECT_EQ(reports.at(0).outcome, SessionOutcome::ScriptStatusError);
  EXPECT_EQ(reports.at(0).script_status, "security-error");
}

TEST_F(Scp81Session, WrongProtocolHeaderAndWrongNextUriRefused) {
  scripts = {read_iccid()};
  start();
  PskTlsConnection conn(raw_options());
  EXPECT_EQ(conn.post("/gp/admin", {{"X-Admin-Protocol", "gsma/rsp/v2.2.2"}}, {}).status, 400);
  EXPECT_EQ(server->open_sessions(), 0u);
  auto first = conn.post("/gp/admin", admin_headers(), {});
  ASSERT_EQ(first.status, 200);
  auto h = admin_headers();
  h.push_back({"Content-Type", std::string(kMediaResponse)});
  h.push_back({"X-Admin-Script-Status", "ok"});
  // Round 7 of this session was never handed out.
  std::string next = first.header("X-Admin-Next-URI");
  EXPECT_EQ(conn.post(next.substr(0, next.rfind('/')) + "/7", h, from_hex("AB03800100")).status, 409);
  EXPECT_EQ(server->open_sessions(), 1u);
}

TEST_F(Scp81Session, CardThatStopsMidSessionIsTimedOut) {
  scripts = {read_iccid(), read_iccid()};
  start(std::chrono::milliseconds(300));
  {
    PskTlsConnection conn(raw_options());
    auto first = conn.post("/gp/admin", admin_headers(), {});
    ASSERT_EQ(first.status, 200);
    EXPECT_EQ(server->open_sessions(), 1u);
  }  // the card goes away without posting its response
  ASSERT_TRUE(reports.wait_for(1, std::chrono::milliseconds(5000)));
  auto r = reports.at(0);
  EXPECT_EQ(r.outcome, SessionOutcome::TimedOut);
  EXPECT_EQ(r.rounds, 1u);
  EXPECT_TRUE(r.responses.empty());
  EXPECT_EQ(server->open_sessions(), 0u);
}

TEST_F(Scp81Session, AgentConfigFromTrigger) {
  TriggeringParameters t;
  ConnectionParameters c;
  c.port = 4433;
  c.address = {127, 0, 0, 1};
  t.connection = c;
  t.security = SecurityParameters{to_bytes("id-from-sms"), 1, 0x40};
  t.http_post = HttpPostParameters{"ota.example", "//se-id/iccid/8901", "/gp/admin"};
  AdminAgentConfig stored;
  stored.psk = SecretBytes(kPsk);
  stored.server_host = "10.0.0.1";
  auto cfg = rsp::admin_agent::agent_config_from_trigger(decode_triggering_parameters(encode_triggering_parameters(t)),
                                                         stored);
  EXPECT_EQ(cfg.server_host, "127.0.0.1");
  EXPECT_EQ(cfg.server_port, 4433);
  EXPECT_EQ(cfg.psk_identity, "id-from-sms");
  EXPECT_EQ(cfg.host_header, "ota.example");
  EXPECT_EQ(cfg.admin_from, "//se-id/iccid/8901");
  EXPECT_EQ(cfg.admin_uri, "/gp/admin");
  EXPECT_EQ(cfg.psk, SecretBytes(kPsk));
}

// The trigger's parameters open a real session: push-SMS data in, session out.
TEST_F(Scp81Session, TriggeredSession) {
  scripts = {read_iccid()};
  start();
  TriggeringParameters t;
  ConnectionParameters c;
  c.port = server->port();
  c.address = {127, 0, 0, 1};
  t.connection = c;
  t.security = SecurityParameters{to_bytes(kIdentity), 1, 0x40};
  t.http_post = HttpPostParameters{"127.0.0.1", format_admin_from({"iccid", kIccid}), "/gp/admin"};
  AdminAgentConfig stored;
  stored.psk = SecretBytes(kPsk);
  stored.timeout = std::chrono::milliseconds(5000);
  CardUnderTest card;
  auto result = AdminAgent(rsp::admin_agent::agent_config_from_trigger(
                               decode_triggering_parameters(encode_triggering_parameters(t)), stored))
                    .run(card.executor());
  EXPECT_TRUE(result.completed);
  EXPECT_EQ(card.executed.load(), 3);
}

TEST_F(Scp81Session, XAdminFromMustNameTheKeysCard) {
  scripts = {read_iccid()};
  start();
  PskTlsConnection conn(raw_options());
  std::vector<HttpHeader> other = {{"X-Admin-Protocol", std::string(kProtocol)},
                                   {"X-Admin-From", "//se-id/iccid/89014103211118519999"}};
  EXPECT_EQ(conn.post("/gp/admin", other, {}).status, 403);
  EXPECT_EQ(conn.post("/gp/admin", {{"X-Admin-Protocol", std::string(kProtocol)}}, {}).status, 400);
  EXPECT_EQ(server->open_sessions(), 0u);
  EXPECT_EQ(conn.post("/gp/admin", admin_headers(), {}).status, 200);
}

TEST_F(Scp81Session, ConcurrentCards) {
  scripts = {read_iccid()};
  start();
  constexpr int kCards = 8;
  std::vector<std::thread> threads;
  std::atomic<int> completed{0};
  for (int i = 0; i < kCards; ++i)
    threads.emplace_back([&] {
      CardUnderTest card;
      try {
        if (AdminAgent(agent_config()).run(card.executor()).completed && card.executed == 3) ++completed;
      } catch (const std::exception&) {
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(completed.load(), kCards);
  ASSERT_TRUE(reports.wait_for(kCards));
  std::set<std::string> ids;
  for (int i = 0; i < kCards; ++i) {
    EXPECT_EQ(reports.at(static_cast<std::size_t>(i)).outcome, SessionOutcome::Completed);
    ids.insert(reports.at(static_cast<std::size_t>(i)).session_id);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kCards));
  EXPECT_EQ(server->open_sessions(), 0u);
}

// Must-show 1's trigger: the server puts the triggering parameters in a
// secured command packet (AES-CBC + AES-CMAC, counter "higher") to the
// security domain's TAR; the card's receiving entity checks it, the trigger
// application decodes it and the agent runs the session it names. A packet
// with one bit flipped is refused (PoR 01) and starts nothing.
TEST_F(Scp81Session, PushSmsTriggersTheSession) {
  scripts = {read_iccid()};
  start();
  const ota::Tar kIsdTar{0x00, 0x00, 0x00};
  ota::KeySet sd_keys;
  sd_keys.version = 1;
  sd_keys.cipher = ota::Algorithm::Aes;
  sd_keys.kic = SecretBytes(from_hex("000102030405060708090A0B0C0D0E0F"));
  sd_keys.checksum = ota::Algorithm::Aes;
  sd_keys.kid = SecretBytes(from_hex("101112131415161718191A1B1C1D1E1F"));

  TriggeringParameters t;
  ConnectionParameters c;
  c.port = server->port();
  c.address = {127, 0, 0, 1};
  t.connection = c;
  t.security = SecurityParameters{to_bytes(kIdentity), 1, 0x40};
  t.http_post = HttpPostParameters{std::nullopt, format_admin_from({"iccid", kIccid}), "/gp/admin"};
  ota::CommandPacket p;
  p.header.spi.rc_cc_ds = ota::RcCcDs::Cc;
  p.header.spi.ciphering = true;
  p.header.spi.counter = ota::CounterMode::ProcessIfHigher;
  p.header.spi.por = ota::PorRequest::Always;
  p.header.kic = 0x12;  // key version 1, AES
  p.header.kid = 0x12;
  p.header.tar = kIsdTar;
  p.cntr = 1;
  p.secured_data = encode_triggering_parameters(t);
  const Bytes packet = ota::build_command_packet(p, sd_keys);

  // The card: receiving entity, the trigger application at the ISD's TAR.
  ota::ReceivingEntity re;
  re.add_key_set(sd_keys);
  re.add_application(kIsdTar, 0x16);  // MSL: CC, ciphering, counter "higher"
  CardUnderTest card;
  rsp::admin_agent::AgentResult result;
  AdminAgentConfig stored;
  stored.psk = SecretBytes(kPsk);
  stored.timeout = std::chrono::milliseconds(5000);
  rsp::admin_agent::AdminTriggerApplication trigger_app(
      stored, [&](const AdminAgentConfig& cfg) { result = AdminAgent(cfg).run(card.executor()); });

  Bytes tampered = packet;
  tampered.back() ^= 0x01;
  auto refused = re.receive(tampered);
  EXPECT_EQ(refused.status, ota::ResponseStatus::RcCcDsFailed);
  EXPECT_FALSE(refused.accepted());
  EXPECT_EQ(reports.size(), 0u);

  auto verdict = re.receive(packet);
  ASSERT_TRUE(verdict.accepted()) << verdict.reason;
  trigger_app.execute(verdict.secured_data);
  EXPECT_FALSE(trigger_app.last_error());
  EXPECT_TRUE(result.completed);
  EXPECT_EQ(card.executed.load(), 3);
  ASSERT_TRUE(reports.wait_for(1));
  EXPECT_EQ(reports.at(0).outcome, SessionOutcome::Completed);
  EXPECT_EQ(reports.at(0).card_id, kIccid);

  // A trigger that does not decode starts nothing.
  trigger_app.execute(from_hex("8203830100"));
  EXPECT_TRUE(trigger_app.last_error());
  EXPECT_EQ(card.executed.load(), 3);
}

// Amendment B 3.5.2: a script for an application the card does not have is
// answered "unknown-application" with no response script; nothing runs and
// the server ends the session with 204, reporting the status.
TEST_F(Scp81Session, UnknownTargetedApplicationRunsNothing) {
  scripts = {AdminScript{read_iccid().script, "//aid/A000000087/1002FF"}};
  start();
  CardUnderTest card;
  auto cfg = agent_config();
  cfg.check_target = [](const std::string& targeted) -> std::optional<ScriptStatus> {
    if (targeted == "//aid/A000000087/1002FF") return ScriptStatus::UnknownApplication;
    return std::nullopt;
  };
  auto result = AdminAgent(cfg).run(card.executor());
  EXPECT_TRUE(result.completed);
  EXPECT_EQ(result.refused, ScriptStatus::UnknownApplication);
  EXPECT_EQ(card.executed.load(), 0);
  ASSERT_TRUE(reports.wait_for(1));
  EXPECT_EQ(reports.at(0).outcome, SessionOutcome::ScriptStatusError);
  EXPECT_EQ(reports.at(0).script_status, "unknown-application");
}

namespace {

// An admin server that answers with chunked bodies (Amendment B lets the
// server use chunked transfer encoding; rsp::http sends Content-Length), to
// exercise the agent's other way of reading an answer. mbedTLS, one
// connection, two fixed answers: a script in three chunks, then 204.
class ChunkedFakeServer {
 public:
  ChunkedFakeServer() {
    mbedtls_net_init(&listen_);
    if (mbedtls_net_bind(&listen_, "127.0.0.1", "0", MBEDTLS_NET_PROTO_TCP) != 0) return;
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(listen_.fd, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ChunkedFakeServer() {
    join();
    mbedtls_net_free(&listen_);
  }
  std::uint16_t port() const { return port_; }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> requests;  // read after join()

 private:
  mbedtls_net_context listen_;
  std::uint16_t port_ = 0;
  std::thread thread_;

  void serve() {
    mbedtls_net_context client;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_net_init(&client);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    bool ok = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0) == 0 &&
              mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT) == 0;
    if (ok) {
      mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
      mbedtls_ssl_conf_read_timeout(&conf, 5000);
      mbedtls_ssl_conf_psk(&conf, kPsk.data(), kPsk.size(), reinterpret_cast<const unsigned char*>(kIdentity),
                           std::strlen(kIdentity));
      ok = mbedtls_ssl_setup(&ssl, &conf) == 0 && mbedtls_net_accept(&listen_, &client, nullptr, 0, nullptr) == 0;
    }
    if (ok) {
      mbedtls_ssl_set_bio(&ssl, &client, mbedtls_net_send, nullptr, mbedtls_net_recv_timeout);
      int rc;
      do rc = mbedtls_ssl_handshake(&ssl);
      while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
      ok = rc == 0;
    }
    const std::string script = to_string(ota::encode_command_script(read_iccid_script()));
    const std::string answers[] = {
        "HTTP/1.1 200 OK\r\nX-Admin-Protocol: globalplatform-remote-admin/1.0\r\n"
        "Content-Type: application/vnd.globalplatform.card-content-mgt;version=1.0\r\n"
        "X-Admin-Next-URI: /fake/1\r\nTransfer-Encoding: chunked\r\n\r\n" +
            chunk(script.substr(0, 1)) + chunk(script.substr(1, 5)) + chunk(script.substr(6)) + "0\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nX-Admin-Protocol: globalplatform-remote-admin/1.0\r\n\r\n"};
    for (const auto& answer : answers) {
      if (!ok) break;
      std::string req;
      unsigned char buf[2048];
      while (ok && !(req.size() >= 5 && req.compare(req.size() - 5, 5, "0\r\n\r\n") == 0)) {
        int n = mbedtls_ssl_read(&ssl, buf, sizeof buf);
        if (n <= 0) ok = false;
        else req.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
      }
      requests.push_back(req);
      if (ok) ok = mbedtls_ssl_write(&ssl, reinterpret_cast<const unsigned char*>(answer.data()), answer.size()) ==
                   static_cast<int>(answer.size());
    }
    mbedtls_ssl_close_notify(&ssl);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    mbedtls_net_free(&client);
  }
  static std::string chunk(const std::string& data) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
  }
  static ota::CommandScript read_iccid_script() {
    return ota::CommandScript::expanded(
        {from_hex("00A4000C023F00"), from_hex("00A4000C022FE2"), from_hex("00B000000A")});
  }
};

}  // namespace

TEST(Scp81Agent, ReadsChunkedAnswersAndPostsChunked) {
  ChunkedFakeServer fake;
  ASSERT_NE(fake.port(), 0);
  CardUnderTest card;
  AdminAgentConfig cfg;
  cfg.server_port = fake.port();
  cfg.psk_identity = kIdentity;
  cfg.psk = SecretBytes(kPsk);
  cfg.admin_uri = "/fake";
  cfg.admin_from = format_admin_from({"iccid", kIccid});
  cfg.timeout = std::chrono::milliseconds(5000);
  auto result = AdminAgent(cfg).run(card.executor());
  EXPECT_TRUE(result.completed);
  EXPECT_EQ(card.executed.load(), 3);
  ASSERT_EQ(result.responses.size(), 1u);
  EXPECT_EQ(result.responses[0].r_apdus().back(), concat(iccid_to_bcd(kIccid), from_hex("9000")));
  fake.join();
  ASSERT_EQ(fake.requests.size(), 2u);
  EXPECT_EQ(fake.requests[0].rfind("POST /fake HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(fake.requests[0].find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(fake.requests[0].find("X-Admin-Protocol: globalplatform-remote-admin/1.0\r\n"), std::string::npos);
  EXPECT_EQ(fake.requests[1].rfind("POST /fake/1 HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(fake.requests[1].find("X-Admin-Script-Status: ok\r\n"), std::string::npos);
  EXPECT_NE(
      fake.requests[1].find("Content-Type: application/vnd.globalplatform.card-content-mgt-response;version=1.0\r\n"),
      std::string::npos);
}
