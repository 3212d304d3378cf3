// rsp::http::Server (Beast + OpenSSL) and rsp::http::Client (libcurl) on
// loopback. Every test makes its own throwaway PKI with mbedTLS, starts its
// own server on 127.0.0.1:0 and stops it; all waits are bounded. Clients:
// libcurl, mbedTLS (PSK, as a card would be) and OpenSSL (resumption, groups).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rsp/http_client.hpp"
#include "rsp/http_server.hpp"
#include "rsp/signer.hpp"
#include "rsp/tls.hpp"

using namespace rsp;
using namespace rsp::http;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------------------
// throwaway PKI

struct Drbg {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  Drbg() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0) != 0) std::abort();
  }
  ~Drbg() {
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
  static Drbg& get() {
    static Drbg d;
    return d;
  }
};

struct Identity {
  std::string subject;
  std::string key_pem;
  std::string cert_pem;
  Bytes cert_der;
};

// certificatePolicies { 2.23.146.1.2.1.3 } (the SGP.22 TLS policy), marked critical.
const Bytes kPolicies = {0x30, 0x0B, 0x30, 0x09, 0x06, 0x07, 0x67, 0x81, 0x12, 0x01, 0x02, 0x01, 0x03};
// subjectAltName { dNSName "localhost", iPAddress 127.0.0.1 }
const Bytes kSanLocalhost = {0x30, 0x11, 0x82, 0x09, 'l', 'o', 'c', 'a', 'l', 'h',
                             'o',  's',  't',  0x87, 0x04, 0x7F, 0x00, 0x00, 0x01};

struct Pk {
  mbedtls_pk_context pk;
  Pk() { mbedtls_pk_init(&pk); }
  ~Pk() { mbedtls_pk_free(&pk); }
};

// A P-256 key and a certificate for it, self-signed when issuer is null.
Identity make_identity(const std::string& cn, const Identity* issuer, bool is_ca, bool critical_policies,
                       bool san_localhost, const Bytes* critical_name_constraints = nullptr) {
  auto& rng = Drbg::get();
  Identity id;
  id.subject = "CN=" + cn + ",O=RSP Test";
  Pk key;
  EXPECT_EQ(mbedtls_pk_setup(&key.pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
  EXPECT_EQ(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key.pk), mbedtls_ctr_drbg_random, &rng.drbg),
            0);
  std::vector<unsigned char> buf(8192);
  EXPECT_EQ(mbedtls_pk_write_key_pem(&key.pk, buf.data(), buf.size()), 0);
  id.key_pem = reinterpret_cast<const char*>(buf.data());

  Pk issuer_key;
  if (issuer != nullptr) {
    EXPECT_EQ(mbedtls_pk_parse_key(&issuer_key.pk, reinterpret_cast<const unsigned char*>(issuer->key_pem.c_str()),
                                   issuer->key_pem.size() + 1, nullptr, 0),
              0);
  }
  mbedtls_pk_context* signer = issuer != nullptr ? &issuer_key.pk : &key.pk;

  mbedtls_x509write_cert crt;
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  static std::atomic<int> next_serial{1};
  mbedtls_mpi_lset(&serial, next_serial++);
  mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&crt, &key.pk);
  mbedtls_x509write_crt_set_issuer_key(&crt, signer);
  EXPECT_EQ(mbedtls_x509write_crt_set_subject_name(&crt, id.subject.c_str()), 0);
  EXPECT_EQ(mbedtls_x509write_crt_set_issuer_name(&crt, (issuer ? issuer->subject : id.subject).c_str()), 0);
  EXPECT_EQ(mbedtls_x509write_crt_set_serial(&crt, &serial), 0);
  EXPECT_EQ(mbedtls_x509write_crt_set_validity(&crt, "20200101000000", "20491231235959"), 0);
  EXPECT_EQ(mbedtls_x509write_crt_set_basic_constraints(&crt, is_ca ? 1 : 0, -1), 0);
  EXPECT_EQ(mbedtls_x509write_crt_set_subject_key_identifier(&crt), 0);
  EXPECT_EQ(mbedtls_x509write_crt_set_authority_key_identifier(&crt), 0);
  if (is_ca) {
    EXPECT_EQ(mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN), 0);
  }
  if (critical_policies) {
    EXPECT_EQ(mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_CERTIFICATE_POLICIES,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_CERTIFICATE_POLICIES), 1,
                                                  kPolicies.data(), kPolicies.size()),
              0);
  }
  if (critical_name_constraints != nullptr) {
    EXPECT_EQ(mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_NAME_CONSTRAINTS,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_NAME_CONSTRAINTS), 1,
                                                  critical_name_constraints->data(), critical_name_constraints->size()),
              0);
  }
  if (san_localhost) {
    EXPECT_EQ(mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                                  kSanLocalhost.data(), kSanLocalhost.size()),
              0);
  }
  int len = mbedtls_x509write_crt_der(&crt, buf.data(), buf.size(), mbedtls_ctr_drbg_random, &rng.drbg);
  EXPECT_GT(len, 0);
  id.cert_der.assign(buf.end() - len, buf.end());
  EXPECT_EQ(mbedtls_x509write_crt_pem(&crt, buf.data(), buf.size(), mbedtls_ctr_drbg_random, &rng.drbg), 0);
  id.cert_pem = reinterpret_cast<const char*>(buf.data());
  mbedtls_mpi_free(&serial);
  mbedtls_x509write_crt_free(&crt);
  return id;
}

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

// One server identity shared by the tests (key generation is cheap, but
// there is no need to redo it).
const Identity& server_id() {
  static Identity id = make_identity("localhost", nullptr, false, /*critical_policies=*/true, true);
  return id;
}

// ---------------------------------------------------------------------------
// helpers

struct LogCapture {
  std::mutex m;
  std::vector<std::string> lines;
  LogSink sink() {
    return [this](std::string_view l) {
      std::lock_guard lock(m);
      lines.emplace_back(l);
    };
  }
  bool contains(std::string_view needle) {
    std::lock_guard lock(m);
    for (const auto& l : lines)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
  // The server may log a failed handshake a moment after the client saw the
  // alert: poll, bounded.
  bool wait_for(std::string_view needle, std::chrono::milliseconds limit = 3000ms) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!contains(needle)) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }
};

Response echo(const Request& r) {
  Response res = Response::json(r.body);
  res.headers.set("X-Method", r.method);
  res.headers.set("X-Path", std::string(r.path()));
  res.headers.set("X-Remote", r.remote_address);
  res.headers.set("X-Test-Seen", r.headers.get_or("x-test", "-"));  // case-insensitive lookup
  res.headers.set("X-Peer-Cert", r.peer_certificate ? to_hex(*r.peer_certificate) : "none");
  return res;
}

ServerConfig tls_config(LogCapture* logs = nullptr) {
  ServerConfig cfg;
  cfg.tls.emplace();
  cfg.tls->certificate_chain = bytes_of(server_id().cert_pem);
  cfg.tls->private_key = SecretBytes(bytes_of(server_id().key_pem));
  cfg.threads = 4;
  if (logs) cfg.log = logs->sink();
  return cfg;
}

ClientConfig client_config() {
  ClientConfig c;
  c.ca_pem = bytes_of(server_id().cert_pem);
  c.connect_timeout = 5s;
  c.timeout = 20s;
  c.tls12_only = true;
  return c;
}

std::string https_url(const Server& s, const std::string& path, const std::string& host = "127.0.0.1") {
  return "https://" + host + ":" + std::to_string(s.port()) + path;
}

// Connects a raw TCP socket to 127.0.0.1:port with a receive timeout.
int raw_connect(std::uint16_t port, std::chrono::milliseconds rcv_timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(rcv_timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((rcv_timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

}  // namespace

// ---------------------------------------------------------------------------

TEST(HttpHeaders, CaseInsensitive) {
  Headers h;
  h.add("Content-Type", "application/json");
  h.add("X-A", "1");
  h.add("x-a", "2");
  EXPECT_EQ(h.get("content-type"), "application/json");
  EXPECT_EQ(h.get("X-a"), "1");
  h.set("X-A", "3");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get("x-A"), "3");
  h.remove("CONTENT-TYPE");
  EXPECT_FALSE(h.contains("content-type"));
  EXPECT_EQ(h.get_or("nope", "dflt"), "dflt");
}

TEST(HttpTls, ParsesCriticalPoliciesAndRejectsGarbage) {
  // Our throwaway server certificate has a critical certificatePolicies
  // extension; plain mbedtls_x509_crt_parse_der refuses it.
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  EXPECT_NE(mbedtls_x509_crt_parse_der(&crt, server_id().cert_der.data(), server_id().cert_der.size()), 0);
  mbedtls_x509_crt_free(&crt);

  auto from_pem = tls::parse_certificate_chain(bytes_of(server_id().cert_pem + server_id().cert_pem));
  ASSERT_EQ(from_pem.size(), 2u);
  EXPECT_EQ(from_pem[0], server_id().cert_der);
  auto from_der = tls::parse_certificate_chain(concat(server_id().cert_der, server_id().cert_der));
  ASSERT_EQ(from_der.size(), 2u);
  EXPECT_EQ(from_der[1], server_id().cert_der);

  EXPECT_THROW(tls::parse_certificate_chain(bytes_of("hello")), TlsConfigError);
  ServerTlsConfig bad;
  bad.certificate_chain = server_id().cert_der;
  bad.private_key = SecretBytes(bytes_of(make_identity("other", nullptr, false, false, false).key_pem));
  EXPECT_THROW(tls::ServerContext{bad}, TlsConfigError);  // key does not match certificate
  ServerTlsConfig bad_suite;
  bad_suite.certificate_chain = server_id().cert_der;
  bad_suite.private_key = SecretBytes(bytes_of(server_id().key_pem));
  bad_suite.cipher_suites = {"TLS_NOT_A_SUITE"};
  EXPECT_THROW(tls::ServerContext{bad_suite}, TlsConfigError);

  ServerTlsConfig good;
  good.certificate_chain = server_id().cert_der;  // DER works too
  good.private_key = SecretBytes(bytes_of(server_id().key_pem));
  tls::ServerContext ctx(good);
  EXPECT_EQ(ctx.cipher_suites(), (std::vector<std::string>{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                                           "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"}));
}

TEST(HttpTls, Sgp26TestCertificatesLoad) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(RSP_SHARED_TESTDATA) / "sgp26";
  if (!fs::exists(root / "DPtls" / "CERT_S_SM_DP_VARO_TLS_NIST.der")) GTEST_SKIP() << "no SGP.26 test data";
  auto slurp = [](const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
  };
  // EUM: critical certificatePolicies and critical nameConstraints.
  EXPECT_EQ(tls::parse_certificate_chain(slurp(root / "EUM" / "CERT_EUM_ECDSA_NIST.der")).size(), 1u);
  EXPECT_EQ(tls::parse_certificate_chain(slurp(root / "CertificateIssuer" / "CERT_CI_ECDSA_BRP.pem")).size(), 1u);

  ServerConfig cfg;
  cfg.tls.emplace();
  cfg.tls->certificate_chain = slurp(root / "DPtls" / "CERT_S_SM_DP_VARO_TLS_NIST.der");
  cfg.tls->private_key = SecretBytes(slurp(root / "DPtls" / "SK_S_SM_DP_TLS_NIST.pem"));
  cfg.tls->client_auth = ClientAuth::Optional;
  cfg.tls->client_ca_chain = slurp(root / "CertificateIssuer" / "CERT_CI_ECDSA_NIST.der");
  Server server(cfg, echo);
  server.start();
  ClientConfig cc = client_config();
  cc.ca_pem = slurp(root / "CertificateIssuer" / "CERT_CI_ECDSA_NIST.pem");
  cc.verify_host = false;  // the certificate names testsmdpplus1.example.com
  Client client(cc);
  auto res = client.post(https_url(server, "/gsma/rsp2/es9plus/initiateAuthentication"), "{}");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "{}");
  server.stop();
}

TEST(HttpServer, TlsPostJsonEcho) {
  LogCapture logs;
  ServerConfig cfg = tls_config(&logs);
  cfg.log_requests = true;
  Server server(cfg, echo);
  server.start();
  ASSERT_NE(server.port(), 0);

  Client client(client_config());
  const std::string body = R"({"transactionId":"0123456789ABCDEF0123456789ABCDEF"})";
  Headers h;
  h.set("Content-Type", "application/json");
  h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
  h.set("X-TEST", "yes");
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto res = client.post(https_url(server, "/gsma/rsp2/es9plus/initiateAuthentication?x=1", host), body, h);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, body);
    EXPECT_EQ(res.headers.get("content-type"), "application/json");
    EXPECT_EQ(res.headers.get("x-path"), "/gsma/rsp2/es9plus/initiateAuthentication");
    EXPECT_EQ(res.headers.get("X-Method"), "POST");
    EXPECT_EQ(res.headers.get("X-Test-Seen"), "yes");
    EXPECT_EQ(res.headers.get("X-Peer-Cert"), "none");
  }
  auto got = client.get(https_url(server, "/status"));
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.headers.get("X-Method"), "GET");
  EXPECT_TRUE(got.body.empty());
  EXPECT_TRUE(logs.wait_for("GET /status"));
  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_TRUE(logs.contains("POST /gsma/rsp2/es9plus/initiateAuthentication"));
  for (const auto& l : logs.lines) EXPECT_EQ(l.find("transactionId"), std::string::npos) << "body logged: " << l;
}

TEST(HttpServer, KeepAliveReusesConnection) {
  Server server(tls_config(), echo);
  server.start();
  Client client(client_config());
  auto a = client.post(https_url(server, "/a"), "1");
  auto b = client.post(https_url(server, "/b"), "2");
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(a.headers.get("X-Remote"), b.headers.get("X-Remote"));  // same client port: same connection
  server.stop();
}

TEST(HttpServer, WrongCaMakesClientThrow) {
  LogCapture logs;
  Server server(tls_config(&logs), echo);
  server.start();
  ClientConfig cc = client_config();
  cc.ca_pem = bytes_of(make_identity("someone else", nullptr, true, false, false).cert_pem);
  Client client(cc);
  try {
    client.post(https_url(server, "/x"), "{}");
    ADD_FAILURE() << "expected HttpError";
  } catch (const HttpError& e) {
    EXPECT_NE(e.curl_code, 0);
    EXPECT_FALSE(std::string(e.what()).empty());
  }
  server.stop();
}

TEST(HttpServer, PlainHttpAndHandlerException) {
  ServerConfig cfg;
  cfg.threads = 2;
  LogCapture logs;
  cfg.log = logs.sink();
  Server server(cfg, [](const Request& r) -> Response {
    if (r.path() == "/boom") throw std::runtime_error("kaboom");
    return echo(r);
  });
  server.start();
  Client client;
  std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  auto ok = client.post(base + "/ok", "plain");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "plain");
  auto boom = client.post(base + "/boom", "secret-body");
  EXPECT_EQ(boom.status, 500);
  EXPECT_LT(boom.body.size(), 64u);
  auto again = client.post(base + "/ok", "still alive");  // the server survived
  EXPECT_EQ(again.body, "still alive");
  EXPECT_TRUE(logs.wait_for("kaboom"));
  EXPECT_FALSE(logs.contains("secret-body"));
  server.stop();
}

TEST(HttpServer, BodyOverLimitGets413) {
  ServerConfig cfg = tls_config();
  cfg.max_body_bytes = 64 * 1024;
  Server server(cfg, echo);
  server.start();
  Client client(client_config());
  auto small = client.post(https_url(server, "/x"), std::string(60 * 1024, 'a'));
  EXPECT_EQ(small.status, 200);
  EXPECT_EQ(small.body.size(), 60u * 1024);
  auto big = client.post(https_url(server, "/x"), std::string(100 * 1024, 'a'));
  EXPECT_EQ(big.status, 413);
  server.stop();
}

TEST(HttpServer, DefaultLimitIs4MiB) {
  Server server(tls_config(), echo);
  server.start();
  Client client(client_config());
  auto big = client.post(https_url(server, "/x"), std::string(5 * 1024 * 1024, 'b'));
  EXPECT_EQ(big.status, 413);
  auto ok = client.post(https_url(server, "/x"), std::string(3 * 1024 * 1024, 'c'));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body.size(), 3u * 1024 * 1024);
  server.stop();
}

TEST(HttpServer, SlowClientsAreCutOff) {
  // Plain HTTP: a request that never completes is dropped after read_timeout.
  ServerConfig cfg;
  cfg.read_timeout = 300ms;
  Server plain(cfg, echo);
  plain.start();
  int fd = raw_connect(plain.port(), 5s);
  ASSERT_GE(fd, 0);
  std::string partial = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  auto t0 = std::chrono::steady_clock::now();
  char c;
  EXPECT_LE(::recv(fd, &c, 1, 0), 0);  // closed (0) or reset (-1), not the 5 s timeout
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  ::close(fd);
  plain.stop();

  // TLS: a client that never sends a ClientHello is dropped after handshake_timeout.
  LogCapture logs;
  ServerConfig tcfg = tls_config(&logs);
  tcfg.handshake_timeout = 300ms;
  Server tls(tcfg, echo);
  tls.start();
  fd = raw_connect(tls.port(), 5s);
  ASSERT_GE(fd, 0);
  t0 = std::chrono::steady_clock::now();
  EXPECT_LE(::recv(fd, &c, 1, 0), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  ::close(fd);
  // And the server still serves others.
  Client client(client_config());
  EXPECT_EQ(client.post(https_url(tls, "/x"), "ok").body, "ok");
  EXPECT_TRUE(logs.wait_for("handshake"));
  tls.stop();
}

namespace {
// Sends raw bytes over plain TCP and returns whatever comes back until close.
std::string raw_exchange(std::uint16_t port, const std::string& data) {
  int fd = raw_connect(port, 5s);
  if (fd < 0) return "connect failed";
  ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}
}  // namespace

TEST(HttpServer, MalformedAndOversizedHeaders) {
  Server server(ServerConfig{}, echo);
  server.start();
  EXPECT_EQ(raw_exchange(server.port(), "GARBAGE\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  std::string huge = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n";
  EXPECT_EQ(raw_exchange(server.port(), huge).rfind("HTTP/1.1 431", 0), 0u);
  auto ok = raw_exchange(server.port(), "GET /fine HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
  server.stop();
}

TEST(HttpServer, MutualTls) {
  Identity client_ca = make_identity("Operator CA", nullptr, true, false, false);
  Identity operator_cert = make_identity("operator-1", &client_ca, false, false, false);
  Identity stranger_ca = make_identity("Stranger CA", nullptr, true, false, false);
  Identity stranger = make_identity("stranger", &stranger_ca, false, false, false);

  LogCapture logs;
  ServerConfig cfg = tls_config(&logs);
  cfg.tls->client_auth = ClientAuth::Required;
  cfg.tls->client_ca_chain = bytes_of(client_ca.cert_pem);
  Server server(cfg, echo);
  server.start();

  {  // no client certificate: handshake fails
    Client client(client_config());
    EXPECT_THROW(client.post(https_url(server, "/es2plus"), "{}"), HttpError);
  }
  {  // certificate from another CA: handshake fails
    ClientConfig cc = client_config();
    cc.client_cert_pem = bytes_of(stranger.cert_pem);
    cc.client_key_pem = SecretBytes(bytes_of(stranger.key_pem));
    Client client(cc);
    EXPECT_THROW(client.post(https_url(server, "/es2plus"), "{}"), HttpError);
  }
  {  // the operator's certificate: the handler sees its DER
    ClientConfig cc = client_config();
    cc.client_cert_pem = bytes_of(operator_cert.cert_pem);
    cc.client_key_pem = SecretBytes(bytes_of(operator_cert.key_pem));
    Client client(cc);
    auto res = client.post(https_url(server, "/es2plus"), "{}");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.headers.get("X-Peer-Cert"), to_hex(operator_cert.cert_der));
  }
  EXPECT_TRUE(logs.wait_for("TLS handshake with 127.0.0.1:"));
  server.stop();
}

TEST(HttpServer, OptionalClientAuth) {
  Identity client_ca = make_identity("Operator CA", nullptr, true, false, false);
  Identity operator_cert = make_identity("operator-2", &client_ca, false, false, false);
  ServerConfig cfg = tls_config();
  cfg.tls->client_auth = ClientAuth::Optional;
  cfg.tls->client_ca_chain = bytes_of(client_ca.cert_pem);
  Server server(cfg, echo);
  server.start();
  Client anonymous(client_config());
  EXPECT_EQ(anonymous.post(https_url(server, "/x"), "{}").headers.get("X-Peer-Cert"), "none");
  ClientConfig cc = client_config();
  cc.client_cert_pem = bytes_of(operator_cert.cert_pem);
  cc.client_key_pem = SecretBytes(bytes_of(operator_cert.key_pem));
  Client known(cc);
  EXPECT_EQ(known.post(https_url(server, "/x"), "{}").headers.get("X-Peer-Cert"), to_hex(operator_cert.cert_der));
  server.stop();
}

TEST(HttpServer, FiftyConcurrentRequests) {
  Server server(tls_config(), echo);
  server.start();
  constexpr int kN = 50;
  std::atomic<int> ok{0};
  std::vector<std::string> errors(kN);
  std::vector<std::thread> threads;
  for (int i = 0; i < kN; ++i) {
    threads.emplace_back([&, i] {
      try {
        Client client(client_config());
        std::string body = R"({"n":)" + std::to_string(i) + "}";
        auto res = client.post(https_url(server, "/n/" + std::to_string(i)), body);
        if (res.status == 200 && res.body == body && res.headers.get("X-Path") == "/n/" + std::to_string(i))
          ++ok;
        else
          errors[i] = "status " + std::to_string(res.status);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kN);
  for (int i = 0; i < kN; ++i) EXPECT_TRUE(errors[i].empty()) << i << ": " << errors[i];
  server.stop();
}

// ---------------------------------------------------------------------------
// PSK TLS (SCP81 style), against a blocking mbedTLS PSK client.

namespace {

struct PskResult {
  int handshake = -1;
  std::string response;
  std::string suite;
};

PskResult psk_exchange(std::uint16_t port, int suite, const std::string& identity, const Bytes& key,
                       const std::string& body) {
  PskResult out;
  auto& rng = Drbg::get();
  mbedtls_net_context net;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_config conf;
  mbedtls_net_init(&net);
  mbedtls_ssl_init(&ssl);
  mbedtls_ssl_config_init(&conf);
  const int suites[] = {suite, 0};
  std::string port_s = std::to_string(port);
  if (mbedtls_net_connect(&net, "127.0.0.1", port_s.c_str(), MBEDTLS_NET_PROTO_TCP) == 0 &&
      mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT) == 0) {
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &rng.drbg);
    mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&conf, suites);
    mbedtls_ssl_conf_read_timeout(&conf, 5000);  // bounded waits
    mbedtls_ssl_conf_psk(&conf, key.data(), key.size(), reinterpret_cast<const unsigned char*>(identity.data()),
                         identity.size());
    mbedtls_ssl_setup(&ssl, &conf);
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, nullptr, mbedtls_net_recv_timeout);
    do {
      out.handshake = mbedtls_ssl_handshake(&ssl);
    } while (out.handshake == MBEDTLS_ERR_SSL_WANT_READ || out.handshake == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (out.handshake == 0) {
      out.suite = mbedtls_ssl_get_ciphersuite(&ssl);
      std::string req = "POST /scp81 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/vnd.globalplatform.card-"
                        "content-mgt-response;version=1.0\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      std::size_t sent = 0;
      while (sent < req.size()) {
        int n = mbedtls_ssl_write(&ssl, reinterpret_cast<const unsigned char*>(req.data()) + sent, req.size() - sent);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      unsigned char buf[4096];
      for (;;) {
        int n = mbedtls_ssl_read(&ssl, buf, sizeof buf);
        if (n <= 0) break;  // close_notify, EOF or timeout
        out.response.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
      }
      mbedtls_ssl_close_notify(&ssl);
    }
  }
  mbedtls_ssl_free(&ssl);
  mbedtls_ssl_config_free(&conf);
  mbedtls_net_free(&net);
  return out;
}

}  // namespace

TEST(HttpServer, PskTls) {
  const Bytes key = from_hex("000102030405060708090A0B0C0D0E0F");
  ServerConfig cfg;
  cfg.tls.emplace();
  cfg.tls->psk_lookup = [&](std::string_view identity) -> std::optional<SecretBytes> {
    if (identity == "8901234567890123456F") return SecretBytes(key);
    return std::nullopt;
  };
  LogCapture logs;
  cfg.log = logs.sink();
  std::mutex seen_m;
  std::vector<std::string> seen;
  Server server(cfg, [&](const Request& r) {
    std::lock_guard lock(seen_m);
    seen.push_back(r.psk_identity.value_or("?"));
    Response res = Response::text(200, "psk:" + r.body);
    return res;
  });
  server.start();

  const std::pair<int, const char*> suites[] = {
      {MBEDTLS_TLS_PSK_WITH_AES_128_CBC_SHA256, "TLS-PSK-WITH-AES-128-CBC-SHA256"},
      {MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256, "TLS-PSK-WITH-AES-128-GCM-SHA256"},
      {MBEDTLS_TLS_PSK_WITH_AES_128_CCM, "TLS-PSK-WITH-AES-128-CCM"},
  };
  for (const auto& [suite, name] : suites) {
    auto r = psk_exchange(server.port(), suite, "8901234567890123456F", key, "hello");
    EXPECT_EQ(r.handshake, 0) << name;
    EXPECT_EQ(r.suite, name);
    EXPECT_NE(r.response.find("HTTP/1.1 200"), std::string::npos) << r.response;
    EXPECT_NE(r.response.find("psk:hello"), std::string::npos) << r.response;
  }
  // Unknown identity and wrong key both fail the handshake.
  EXPECT_NE(psk_exchange(server.port(), MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256, "nobody", key, "x").handshake, 0);
  Bytes wrong = key;
  wrong[0] ^= 1;
  EXPECT_NE(psk_exchange(server.port(), MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256, "8901234567890123456F", wrong, "x")
                .handshake,
            0);
  EXPECT_TRUE(logs.wait_for("handshake"));
  server.stop();
  std::lock_guard lock(seen_m);
  EXPECT_EQ(seen, std::vector<std::string>(3, "8901234567890123456F"));
}

TEST(HttpServer, StartStopIsClean) {
  for (int i = 0; i < 3; ++i) {
    Server server(tls_config(), echo);
    server.start();
    Client client(client_config());
    EXPECT_EQ(client.post(https_url(server, "/x"), "y").status, 200);
    // Leave the keep-alive connection open: stop() must still return.
    auto t0 = std::chrono::steady_clock::now();
    server.stop();
    server.stop();  // idempotent
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  }
  Server never_started(ServerConfig{}, echo);  // destructor without start()
}

// Operators' ES2+ clients (SGP.22 2.6.6, 4.5.2.2): their certificates carry
// a critical certificatePolicies extension, and an operator CA may carry
// critical nameConstraints. mbedTLS 2.28 refused such a client certificate
// inside the handshake (it parses the peer's certificates without an
// extension callback): this test pinned that failure until the server moved
// to OpenSSL (issue 12). Now it verifies, and the constraints are enforced.
TEST(HttpServer, ClientCertWithCriticalPoliciesAndNameConstraintsVerifies) {
  // The CA may only vouch for the directory name of operator-p (RFC 5280
  // 4.2.1.10: permittedSubtrees { directoryName }), taken from a trial
  // certificate with the same subject.
  Identity trial = make_identity("operator-p", nullptr, false, false, false);
  const unsigned char* p = trial.cert_der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(trial.cert_der.size()));
  ASSERT_NE(x, nullptr);
  unsigned char* name_der = nullptr;
  int name_len = i2d_X509_NAME(X509_get_subject_name(x), &name_der);
  ASSERT_GT(name_len, 0);
  Bytes name(name_der, name_der + name_len);
  OPENSSL_free(name_der);
  X509_free(x);
  ASSERT_LT(name.size(), 120u);  // short-form lengths below
  auto wrap = [](std::uint8_t tag, const Bytes& inner) {
    Bytes out{tag, static_cast<std::uint8_t>(inner.size())};
    out.insert(out.end(), inner.begin(), inner.end());
    return out;
  };
  // NameConstraints ::= SEQUENCE { permittedSubtrees [0] { GeneralSubtree { [4] Name } } }
  const Bytes constraints = wrap(0x30, wrap(0xA0, wrap(0x30, wrap(0xA4, name))));
  Identity client_ca = make_identity("Operator CA", nullptr, true, /*critical_policies=*/true, false, &constraints);
  Identity op = make_identity("operator-p", &client_ca, false, /*critical_policies=*/true, false);
  Identity outsider = make_identity("outsider", &client_ca, false, /*critical_policies=*/true, false);

  for (ClientAuth mode : {ClientAuth::Optional, ClientAuth::Required}) {
    LogCapture logs;
    ServerConfig cfg = tls_config(&logs);
    cfg.tls->client_auth = mode;
    cfg.tls->client_ca_chain = bytes_of(client_ca.cert_pem);
    Server server(cfg, echo);
    server.start();
    ClientConfig cc = client_config();
    cc.client_cert_pem = bytes_of(op.cert_pem);
    cc.client_key_pem = SecretBytes(bytes_of(op.key_pem));
    Client client(cc);
    auto res = client.post(https_url(server, "/x"), "{}");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.headers.get("X-Peer-Cert"), to_hex(op.cert_der));

    // Outside the CA's permitted names: never a verified peer.
    ClientConfig oc = client_config();
    oc.client_cert_pem = bytes_of(outsider.cert_pem);
    oc.client_key_pem = SecretBytes(bytes_of(outsider.key_pem));
    Client other(oc);
    if (mode == ClientAuth::Required) {
      EXPECT_THROW(other.post(https_url(server, "/x"), "{}"), HttpError);
      EXPECT_TRUE(logs.wait_for("TLS handshake with 127.0.0.1:"));
    } else {
      EXPECT_EQ(other.post(https_url(server, "/x"), "{}").headers.get("X-Peer-Cert"), "none");
    }
    server.stop();
  }
}

namespace {

// A blocking OpenSSL TLS 1.2 client: one GET over a new connection, resuming
// `session` when given. What it saw comes back.
struct OsslResult {
  bool handshake = false;
  bool reused = false;
  std::string group;  // negotiated ECDHE group
  std::string response;
  std::shared_ptr<SSL_SESSION> session;
};

OsslResult openssl_get(std::uint16_t port, SSL_SESSION* session, bool tickets, const char* groups = nullptr,
                       bool client_closes = false) {
  OsslResult out;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // this test is about sessions, not trust
  if (!tickets) SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  if (groups) SSL_CTX_set1_groups_list(ctx, groups);
  SSL* ssl = SSL_new(ctx);
  int fd = raw_connect(port, 5s);
  if (fd >= 0) {
    SSL_set_fd(ssl, fd);
    if (session) SSL_set_session(ssl, session);
    out.handshake = SSL_connect(ssl) == 1;
    if (out.handshake) {
      out.reused = SSL_session_reused(ssl) == 1;
      int nid = SSL_get_negotiated_group(ssl);
      if (const char* n = SSL_group_to_name(ssl, nid)) out.group = n;
      // client_closes: a keep-alive request, and the client closes once the
      // response is in (as libcurl does with CURLOPT_FORBID_REUSE).
      std::string req = std::string("GET /s HTTP/1.1\r\nHost: a\r\n") + (client_closes ? "" : "Connection: close\r\n") + "\r\n";
      SSL_write(ssl, req.data(), static_cast<int>(req.size()));
      char buf[4096];
      for (int n; (n = SSL_read(ssl, buf, sizeof buf)) > 0;) {
        out.response.append(buf, static_cast<std::size_t>(n));
        if (client_closes && out.response.find("\r\n\r\n") != std::string::npos) break;  // the echo's body is empty
      }
      out.session.reset(SSL_get1_session(ssl), SSL_SESSION_free);
      SSL_shutdown(ssl);
    }
    ::close(fd);
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

}  // namespace

// Phones open a new connection per ES9+ request: a resumed session saves the
// ECDHE and the server's signature (RFC 5077 tickets, or the server-side
// session cache for clients that send no ticket).
TEST(HttpServer, SessionsResume) {
  Server server(tls_config(), echo);
  server.start();
  for (bool tickets : {true, false}) {
    auto first = openssl_get(server.port(), nullptr, tickets);
    ASSERT_TRUE(first.handshake);
    EXPECT_FALSE(first.reused);
    EXPECT_EQ(first.response.rfind("HTTP/1.1 200", 0), 0u) << first.response;
    ASSERT_NE(first.session, nullptr);
    EXPECT_EQ(SSL_SESSION_has_ticket(first.session.get()), tickets ? 1 : 0);
    auto second = openssl_get(server.port(), first.session.get(), tickets);
    EXPECT_TRUE(second.handshake);
    EXPECT_TRUE(second.reused) << (tickets ? "ticket" : "session id");
    EXPECT_EQ(second.response.rfind("HTTP/1.1 200", 0), 0u) << second.response;
  }
  server.stop();
}

// The same when the client closes first (keep-alive request, then close):
// the server's side of the connection ends without its close_notify, which
// must not drop the session from the server's cache (RFC 5246 7.2.1), or a
// session-ID client (libcurl sends no ticket) never resumes.
TEST(HttpServer, SessionsResumeAfterTheClientCloses) {
  Server server(tls_config(), echo);
  server.start();
  for (bool tickets : {false, true}) {
    auto first = openssl_get(server.port(), nullptr, tickets, nullptr, true);
    ASSERT_TRUE(first.handshake);
    EXPECT_EQ(first.response.rfind("HTTP/1.1 200", 0), 0u) << first.response;
    ASSERT_NE(first.session, nullptr);
    // Let the server see the close and free its SSL first (a shorter wait
    // could only hide the bug, never fail a correct server).
    std::this_thread::sleep_for(300ms);
    auto second = openssl_get(server.port(), first.session.get(), tickets, nullptr, true);
    EXPECT_TRUE(second.handshake);
    EXPECT_TRUE(second.reused) << (tickets ? "ticket" : "session id");
  }
  server.stop();
}

// SGP.22 2.6.6: brainpoolP256r1 beside P-256 (Debian's OpenSSL leaves it out
// unless named). A client's supported groups also bound the curve of an
// ECDSA certificate it accepts (RFC 8422 5.1), so the P-256 server is asked
// with P-256 in the list; the server's order decides (SSL_OP_CIPHER_SERVER_PREFERENCE).
TEST(HttpServer, EcdheOnBrainpoolAndP256) {
  ServerConfig brainpool_first = tls_config();
  brainpool_first.tls->curves = {"brainpoolP256r1", "secp256r1"};
  Server server(brainpool_first, echo);
  server.start();
  EXPECT_EQ(openssl_get(server.port(), nullptr, true, "P-256:brainpoolP256r1").group, "brainpoolP256r1");
  EXPECT_EQ(openssl_get(server.port(), nullptr, true, "P-256").group, "secp256r1");
  server.stop();
  // Only the groups configured.
  ServerConfig only_p256 = tls_config();
  only_p256.tls->curves = {"secp256r1"};
  Server narrow(only_p256, echo);
  narrow.start();
  EXPECT_EQ(openssl_get(narrow.port(), nullptr, true, "brainpoolP256r1:P-256").group, "secp256r1");
  EXPECT_FALSE(openssl_get(narrow.port(), nullptr, true, "brainpoolP256r1").handshake);
  narrow.stop();
  ServerTlsConfig bad = *tls_config().tls;
  bad.curves = {"notACurve"};
  EXPECT_THROW(tls::ServerContext{bad}, TlsConfigError);

  // A brainpoolP256r1 server certificate (SGP.26's, with its critical
  // certificatePolicies), for a client that offers brainpool.
  namespace fs = std::filesystem;
  fs::path dir = fs::path(RSP_SHARED_TESTDATA) / "sgp26" / "DPtls";
  if (!fs::exists(dir / "CERT_S_SM_DP_VARO_TLS_BRP.der")) GTEST_SKIP() << "no SGP.26 test data";
  auto slurp = [](const fs::path& f) {
    std::ifstream in(f, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  };
  ServerConfig brp;
  brp.tls.emplace();
  brp.tls->certificate_chain = slurp(dir / "CERT_S_SM_DP_VARO_TLS_BRP.der");
  brp.tls->private_key = SecretBytes(slurp(dir / "SK_S_SM_DP_TLS_BRP.pem"));
  Server brp_server(brp, echo);
  brp_server.start();
  auto r = openssl_get(brp_server.port(), nullptr, true, "brainpoolP256r1");
  EXPECT_TRUE(r.handshake);
  EXPECT_EQ(r.group, "brainpoolP256r1");
  EXPECT_EQ(r.response.rfind("HTTP/1.1 200", 0), 0u) << r.response;
  brp_server.stop();
}

namespace {
// A signer that counts what it signs (and signs with a key in memory), as
// the PKCS#11 token signer does with its key in the token.
class CountingSigner final : public crypto::Signer {
 public:
  explicit CountingSigner(crypto::EcKey key) : inner_(crypto::key_signer(std::move(key))) {}
  crypto::Curve curve() const override { return inner_->curve(); }
  Bytes sign(ByteView m) const override { return inner_->sign(m); }
  Bytes sign_digest(ByteView d) const override {
    ++count;
    return inner_->sign_digest(d);
  }
  mutable std::atomic<int> count{0};

 private:
  std::shared_ptr<const crypto::Signer> inner_;
};
}  // namespace

// ServerTlsConfig::key_signer: OpenSSL never sees the key; every full
// handshake's ServerKeyExchange signature is the signer's.
TEST(HttpServer, TlsKeyFromASigner) {
  auto signer = std::make_shared<CountingSigner>(crypto::EcKey::from_pem_or_der(bytes_of(server_id().key_pem)));
  ServerConfig cfg = tls_config();
  cfg.tls->private_key = SecretBytes();
  cfg.tls->key_signer = signer;
  Server server(cfg, echo);
  server.start();
  for (int i = 0; i < 3; ++i) {
    Client client(client_config());  // a new connection each time
    auto res = client.post(https_url(server, "/k"), "signed");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "signed");
  }
  EXPECT_EQ(signer->count.load(), 4);  // the check at start, then one per handshake
  server.stop();
  // A signer whose key is not the certificate's is refused at start.
  ServerTlsConfig wrong = *tls_config().tls;
  wrong.private_key = SecretBytes();
  wrong.key_signer = std::make_shared<CountingSigner>(crypto::EcKey::generate(crypto::Curve::P256));
  EXPECT_THROW(tls::ServerContext{wrong}, TlsConfigError);
}

// ---------------------------------------------------------------------------
// Resource limits (issue 9)

namespace {
std::string plain_post(std::uint16_t port, const std::string& path, std::size_t body_bytes) {
  return raw_exchange(port, "POST " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: " +
                                std::to_string(body_bytes) + "\r\n\r\n" + std::string(body_bytes, 'x'));
}
}  // namespace

TEST(HttpServer, BodyLimitPerPath) {
  ServerConfig cfg;
  cfg.body_limit = [](std::string_view path) -> std::size_t { return path == "/small" ? 1024 : 1 << 20; };
  Server server(cfg, echo);
  server.start();
  EXPECT_EQ(plain_post(server.port(), "/small", 1000).rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(plain_post(server.port(), "/small?x=1", 2000).rfind("HTTP/1.1 413", 0), 0u);
  EXPECT_EQ(plain_post(server.port(), "/other", 2000).rfind("HTTP/1.1 200", 0), 0u);
  // Chunked: counted as it arrives.
  std::string chunked = "POST /small HTTP/1.1\r\nHost: a\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "200\r\n" + std::string(0x200, 'y') + "\r\n";
  chunked += "0\r\n\r\n";
  EXPECT_EQ(raw_exchange(server.port(), chunked).rfind("HTTP/1.1 413", 0), 0u);
  server.stop();
}

TEST(HttpServer, HeadersHaveTheirOwnDeadline) {
  // A client that trickles its headers is cut off at header_timeout, well
  // before read_timeout.
  ServerConfig cfg;
  cfg.header_timeout = 300ms;
  cfg.read_timeout = 20s;
  Server server(cfg, echo);
  server.start();
  int fd = raw_connect(server.port(), 5s);
  ASSERT_GE(fd, 0);
  auto t0 = std::chrono::steady_clock::now();
  std::string head = "POST /x HTTP/1.1\r\nHost: a\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  char c;
  EXPECT_LE(::recv(fd, &c, 1, 0), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  ::close(fd);
  server.stop();
}

TEST(HttpServer, ConnectionCapPausesAcceptingUntilOneCloses) {
  ServerConfig cfg;
  cfg.max_connections = 3;
  Server server(cfg, echo);
  server.start();
  std::vector<int> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(raw_connect(server.port(), 5s));
    ASSERT_GE(idle.back(), 0);
  }
  // The kernel completes the fourth connection (backlog); the server does
  // not take it while three are open.
  int fourth = raw_connect(server.port(), 600ms);
  ASSERT_GE(fourth, 0);
  std::string req = "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fourth, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  char buf[256];
  EXPECT_LT(::recv(fourth, buf, sizeof buf, 0), 0);  // timed out: not served
  ::close(idle[0]);  // a slot frees: the fourth is accepted and served
  timeval tv{5, 0};
  ::setsockopt(fourth, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ssize_t n = ::recv(fourth, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)).rfind("HTTP/1.1 200", 0), 0u);
  ::close(fourth);
  for (std::size_t i = 1; i < idle.size(); ++i) ::close(idle[i]);
  server.stop();
}

// Out of file descriptors, accept() fails at once for as long as it lasts.
// The server used to retry in a tight loop, one log line per failure (4
// million lines in 15 s, a whole core); it must back off, log the episode
// once, and accept again when descriptors are back.
TEST(HttpServer, AcceptBacksOffWhenOutOfFileDescriptors) {
  LogCapture logs;
  ServerConfig cfg;
  cfg.log = logs.sink();
  Server server(cfg, echo);
  server.start();
  // Client sockets made first; connecting them needs no new descriptor.
  std::vector<int> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Use up every descriptor under a lowered soft limit.
  std::vector<int> hog;
  rlimit low = saved;
  low.rlim_cur = 64;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  for (int fd; (fd = ::socket(AF_INET, SOCK_DGRAM, 0)) >= 0;) hog.push_back(fd);
  ASSERT_EQ(errno, EMFILE);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(server.port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int fd : clients) ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);

  rusage r0{}, r1{};
  ::getrusage(RUSAGE_SELF, &r0);
  std::this_thread::sleep_for(1500ms);
  ::getrusage(RUSAGE_SELF, &r1);
  auto cpu_ms = [](const rusage& r) {
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000.0 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000.0;
  };
  double spent = cpu_ms(r1) - cpu_ms(r0);
  std::size_t lines;
  {
    std::lock_guard lock(logs.m);
    lines = logs.lines.size();
  }
  for (int fd : hog) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);

  EXPECT_LT(spent, 300.0) << "the accept loop spins";
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, 3u) << "the accept loop floods the log";
  EXPECT_TRUE(logs.contains("back-off"));
  // Descriptors are back: the waiting clients are served.
  std::string req = "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  timeval tv{5, 0};
  for (int fd : clients) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
    char buf[64];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)).rfind("HTTP/1.1 200", 0), 0u);
    ::close(fd);
  }
  EXPECT_TRUE(logs.wait_for("accepting again"));
  server.stop();
}

// free_loopback_port draws below the kernel's ephemeral range, where no
// outgoing connect() can take the port between our check and the server's
// bind (scripts/lib.sh free_port does the same; tests/common/free_port_test.sh).
TEST(FreeLoopbackPort, BelowTheEphemeralRangeAndBindable) {
  unsigned low = 32768;
  if (std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range"); f) f >> low;
  if (low <= 10001) GTEST_SKIP() << "ephemeral range starts at " << low;
  for (int i = 0; i < 20; ++i) {
    std::uint16_t port = rsp::http::free_loopback_port();
    EXPECT_GE(port, 10000u);
    EXPECT_LT(port, low);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << port;
    ::close(fd);
  }
}
