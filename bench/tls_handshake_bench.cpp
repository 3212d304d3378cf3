// What one TLS connection costs rsp::http::Server (issue 12): the server in
// a child process, a client (OpenSSL, one core) that opens a new connection
// per request as phones do, the server's CPU time read from /proc. Printed
// beside the same requests over plain HTTP (the baseline: TCP, HTTP parsing,
// the handler), so the difference is the TLS handshake and records.
//
//   tls_handshake_bench [-n 2000] [--threads 1]
//
// Rows: a full handshake (ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE and
// certificate on P-256), an abbreviated one (the session resumed with a
// ticket), plain HTTP. The same source builds against the mbedTLS server of
// earlier commits (the rsp::http API did not change), for side-by-side runs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "rsp/http_server.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double process_cpu_ms(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), {});
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return 1000.0 * static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A self-signed P-256 certificate and its key, PEM.
void make_identity(std::string& cert_pem, std::string& key_pem) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  X509_sign(x, key, EVP_sha256());
  auto to_string = [](BIO* b) {
    char* p = nullptr;
    long n = BIO_get_mem_data(b, &p);
    std::string s(p, static_cast<std::size_t>(n));
    BIO_free(b);
    return s;
  };
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  cert_pem = to_string(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  key_pem = to_string(b);
  X509_free(x);
  EVP_PKEY_free(key);
}

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

const std::string kRequest = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";

bool plain_request(std::uint16_t port) {
  int fd = connect_loopback(port);
  if (fd < 0) return false;
  bool ok = ::send(fd, kRequest.data(), kRequest.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(kRequest.size());
  std::string got;
  char buf[1024];
  for (ssize_t n; ok && (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return got.rfind("HTTP/1.1 200", 0) == 0;
}

// One request over a new TLS connection; resumes `*session` when set and
// stores the new one there.
int g_reused = 0;  // connections whose session was resumed

bool tls_request(SSL_CTX* ctx, std::uint16_t port, SSL_SESSION** session, bool resume) {
  int fd = connect_loopback(port);
  if (fd < 0) return false;
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (resume && *session) SSL_set_session(ssl, *session);
  bool ok = SSL_connect(ssl) == 1 && SSL_write(ssl, kRequest.data(), static_cast<int>(kRequest.size())) > 0;
  if (ok && SSL_session_reused(ssl)) ++g_reused;
  std::string got;
  char buf[1024];
  for (int n; ok && (n = SSL_read(ssl, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  if (resume && ok && *session == nullptr) *session = SSL_get1_session(ssl);
  SSL_shutdown(ssl);
  SSL_free(ssl);
  ::close(fd);
  return got.rfind("HTTP/1.1 200", 0) == 0;
}

// Runs the server in a child; returns its pid and port.
pid_t start_server(bool tls, const std::string& cert, const std::string& key, std::size_t threads, std::uint16_t& port,
                   int& stop_fd) {
  int ports[2], stop[2];
  if (::pipe(ports) != 0 || ::pipe(stop) != 0) std::exit(2);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ports[0]);
    ::close(stop[1]);
    rsp::http::ServerConfig cfg;
    cfg.threads = threads;
    cfg.log = [](std::string_view) {};
    if (tls) {
      cfg.tls.emplace();
      cfg.tls->certificate_chain = rsp::Bytes(cert.begin(), cert.end());
      cfg.tls->private_key = rsp::SecretBytes(rsp::Bytes(key.begin(), key.end()));
    }
    rsp::http::Server server(cfg, [](const rsp::http::Request& r) { return rsp::http::Response::json(r.body); });
    server.start();
    std::uint16_t p = server.port();
    if (::write(ports[1], &p, sizeof p) != sizeof p) std::_Exit(3);
    char c;
    while (::read(stop[0], &c, 1) > 0) {
    }
    server.stop();
    std::_Exit(0);
  }
  ::close(ports[1]);
  ::close(stop[0]);
  if (::read(ports[0], &port, sizeof port) != sizeof port) std::exit(2);
  ::close(ports[0]);
  stop_fd = stop[1];
  return pid;
}

struct Row {
  const char* what;
  double server_ms = 0, wall_s = 0;
  int ok = 0, reused = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int n = 2000;
  std::size_t threads = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "-n") n = std::stoi(next());
      else if (a == "--threads") threads = static_cast<std::size_t>(std::stoi(next()));
      else {
        std::cerr << "usage: tls_handshake_bench [-n 2000] [--threads 1]\n";
        return a == "-h" || a == "--help" ? 0 : 2;
      }
    } catch (const std::exception&) {
      std::cerr << a << ": not a number\n";
      return 2;
    }
  }
  if (n < 1 || n > 1'000'000 || threads < 1 || threads > 64) {
    std::cerr << "-n 1..1000000, --threads 1..64\n";
    return 2;
  }
  std::string cert, key;
  make_identity(cert, key);

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256");
  SSL_CTX_set1_groups_list(ctx, "P-256");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // the cost measured is the server's

  Row rows[] = {{"TLS 1.2, full handshake"}, {"TLS 1.2, resumed (ticket)"}, {"plain HTTP (baseline)"}};
  for (int r = 0; r < 3; ++r) {
    std::uint16_t port = 0;
    int stop_fd = -1;
    pid_t pid = start_server(r < 2, cert, key, threads, port, stop_fd);
    SSL_SESSION* session = nullptr;
    // Warm-up (and, for resumption, the session to resume).
    for (int i = 0; i < 20; ++i) r < 2 ? tls_request(ctx, port, &session, r == 1) : plain_request(port);
    g_reused = 0;
    double cpu0 = process_cpu_ms(pid);
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) rows[r].ok += (r < 2 ? tls_request(ctx, port, &session, r == 1) : plain_request(port));
    rows[r].wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    rows[r].server_ms = process_cpu_ms(pid) - cpu0;
    rows[r].reused = g_reused;
    if (session) SSL_SESSION_free(session);
    ::close(stop_fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  SSL_CTX_free(ctx);

  std::printf("rsp::http::Server, %d connections of one request each, sequential, P-256, %zu server thread(s)\n", n,
              threads);
  std::printf("| connection | ok | resumed | server CPU / connection | connections/s (one client) |\n"
              "|---|---|---|---|---|\n");
  for (const auto& row : rows)
    std::printf("| %s | %d | %d | %.3f ms | %.0f |\n", row.what, row.ok, row.reused, row.server_ms / n,
                n / row.wall_s);
  std::printf("TLS cost per connection over plain HTTP: full %.3f ms, resumed %.3f ms\n",
              (rows[0].server_ms - rows[2].server_ms) / n, (rows[1].server_ms - rows[2].server_ms) / n);
  return rows[0].ok == n && rows[1].ok == n && rows[2].ok == n ? 0 : 1;
}
