// ES9+ download benchmark: N complete SGP.22 downloads against the SM-DP+
// over real HTTPS (TLS 1.2, a new connection per download, as a phone would;
// with --lean a new connection per request, resuming the TLS session as
// phones' TLS stacks do unless --no-resume, and counting the resumptions)
// with C concurrent simulated eUICCs, and, measured in the same run, the
// mbedTLS time of the cryptography the server needs for one download (the
// "crypto floor"). Prints downloads/s, p50/p99 latency and the ratio of
// measured throughput to what the floor allows on this machine's cores.
//
// With --idle/--slow/--flood it is also the load test of issue 9: the
// downloads run while idle TCP connections, clients that trickle their
// request body and an initiateAuthentication flood from one address
// (127.0.0.2) press on the SM-DP+; it prints the latency of the well-behaved
// downloads and smdpd's memory (VmRSS/VmHWM) and open descriptors.
//
// A download interrupted by the SM-DP+ going away (no HTTP answer, or the
// install notification not delivered) is retried, as a phone's LPA would:
// downloaded again, or, when the eUICC already installed the profile, its
// pending notifications delivered; the retries are counted and printed, not
// counted as failures. With --kill-every K, smdpd is killed with SIGKILL after
// every K finished downloads and started again on the same store (the kill -9
// check of issue 9, by hand; tests/e2e/crash_test.cpp is the automated one).
#include <EuiccSigned1.h>
#include <ProfileInstallationResultData.h>
#include <ServerSigned1.h>
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <poll.h>
#include <sys/socket.h>
#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

#include "rsp/asn1.hpp"
#include "rsp/file.hpp"
#include "rsp/tlv.hpp"
#include <nlohmann/json.hpp>
#include "rsp/log.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/scp03t.hpp"
#include "rsp/http_client.hpp"
#include "rsp/http_server.hpp"
#include "rsp/smdp/config.hpp"
#include "rsp/pki.hpp"
#include "rsp/sim/euicc.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/smdp/profile_store.hpp"
#include "balancer.hpp"

extern char** environ;

using namespace rsp;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// CPU time (user + system) a process has used so far, from /proc/PID/stat.
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

// The server-side cryptography of one download, op for op (see docs/benchmarks.md):
// TLS handshake (ECDHE keygen + ECDH + ECDSA sign), initiateAuthentication
// (sign serverSigned1), authenticateClient (verify CERT.EUM, CERT.EUICC,
// euiccSignature1; sign smdpSigned2), getBoundProfilePackage (verify
// euiccSignature2, one-time keygen, ECDH, sign InitialiseSecureChannel, KDF,
// SCP03t over the profile), handleNotification (verify euiccSignPIR).
// `handshakes`: TLS connections per download (1 with a connection kept for
// the download, 4 with a new one per request).
double crypto_floor_ms(crypto::Curve curve, std::size_t profile_bytes, int rounds, int handshakes) {
  auto server = crypto::EcKey::generate(curve);
  auto tls_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto peer = crypto::EcKey::generate(curve);
  Bytes msg(300, 0x42), sig = peer.sign(msg);
  auto peer_pub = crypto::EcKey::from_public_point(curve, peer.public_point());
  Bytes profile(profile_bytes, 0x5A);
  auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (int h = 0; h < handshakes; ++h) {
      auto eph = crypto::EcKey::generate(crypto::Curve::P256);  // TLS ECDHE
      (void)eph.ecdh(tls_key.public_point());
      (void)tls_key.sign(msg);
    }
    for (int i = 0; i < 3; ++i) (void)server.sign(msg);  // serverSigned1, smdpSigned2, ISC
    for (int i = 0; i < 5; ++i) (void)peer_pub.verify(msg, sig);  // EUM, eUICC, sig1, sig2, PIR
    auto ot = crypto::EcKey::generate(curve);
    auto shs = ot.ecdh(peer.public_point());
    auto keys = scp03t::derive_session_keys(shs, Bytes(16, 1), Bytes(16, 2));
    scp03t::Channel ch(keys.s_enc, keys.s_mac, keys.initial_mcv);
    (void)ch.wrap_segments(scp03t::kTagEncryptedMac, profile);
  }
  return ms_since(t0) / rounds;
}

// ---------------------------------------------------------------------------
// Attackers (loopback only, each loop bounded by `stop`)

// A value from /proc/PID/status in kB ("VmRSS", "VmHWM").
long proc_status_kb(pid_t pid, const std::string& field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

// Whether a failed download is one the SM-DP+'s disappearance explains (no
// HTTP answer at some ES9+ call), so that a retry is what an LPA does.
bool interrupted(const lpa::DownloadError& e) {
  try {
    if (e.cause) std::rethrow_exception(e.cause);
  } catch (const lpa::Es9Error& es9) {
    return es9.transport;
  } catch (...) {
  }
  return false;
}

bool holds(const sim::Euicc& euicc, const std::string& iccid) {
  for (const auto& p : euicc.profiles())
    if (p.iccid == iccid) return true;
  return false;
}

std::size_t open_fds(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++n;
  return n;
}

int tcp_connect(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct AttackStats {
  std::atomic<long> idle_open{0}, idle_dropped{0};
  std::atomic<long> slow_started{0}, slow_cut_off{0};
  std::atomic<long> flood_ok{0}, flood_429{0}, flood_other{0};
};

// `n` connections that never send a byte; each one the server drops is
// opened again.
void idle_connections(std::uint16_t port, int n, const std::atomic<bool>& stop, AttackStats& st) {
  std::vector<pollfd> fds;
  for (int i = 0; i < n; ++i) fds.push_back({tcp_connect(port), POLLIN, 0});
  for (auto& p : fds) st.idle_open += p.fd >= 0;
  while (!stop) {
    ::poll(fds.data(), fds.size(), 200);
    for (auto& p : fds) {
      if (p.fd >= 0 && !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (p.fd >= 0) {
        char b[256];
        if (::recv(p.fd, b, sizeof b, MSG_DONTWAIT) > 0) continue;
        ::close(p.fd);
        --st.idle_open;
        ++st.idle_dropped;
      }
      p.fd = tcp_connect(port);
      st.idle_open += p.fd >= 0;
    }
  }
  for (auto& p : fds)
    if (p.fd >= 0) ::close(p.fd);
}

struct SlowBody {
  const std::atomic<bool>* stop;
  std::size_t sent = 0;
};
// libcurl asks for the body: one byte per second.
std::size_t slow_read(char* buf, std::size_t, std::size_t, void* user) {
  auto* s = static_cast<SlowBody*>(user);
  for (int i = 0; i < 10 && !*s->stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (*s->stop) return CURL_READFUNC_ABORT;
  buf[0] = ' ';
  ++s->sent;
  return 1;
}

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

// One client that completes TLS and the headers of an initiateAuthentication
// announcing 4,000 bytes, then sends them at one byte per second.
void slow_body(const std::string& url, const std::string& ca, const std::atomic<bool>& stop, AttackStats& st) {
  CURL* h = curl_easy_init();
  curl_slist* hdr = curl_slist_append(nullptr, "X-Admin-Protocol: gsma/rsp/v2.2.2");
  hdr = curl_slist_append(hdr, "Content-Type: application/json");
  hdr = curl_slist_append(hdr, "Expect:");
  while (!stop) {
    SlowBody body{&stop};
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CAINFO, ca.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 4000L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &slow_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    ++st.slow_started;
    curl_easy_perform(h);
    if (!stop) ++st.slow_cut_off;
  }
  curl_slist_free_all(hdr);
  curl_easy_cleanup(h);
}

// initiateAuthentication as fast as one keep-alive connection from
// 127.0.0.2 allows (the body is a real one, captured from a download).
void flood(const std::string& url, const std::string& ca, const std::string& body, const std::atomic<bool>& stop,
           AttackStats& st) {
  http::ClientConfig cc;
  cc.ca_file = ca;
  cc.local_address = "127.0.0.2";
  cc.timeout = std::chrono::seconds(10);
  http::Client client(cc);
  http::Headers h;
  h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
  h.set("Content-Type", "application/json");
  while (!stop) {
    try {
      int code = client.post(url, body, h).status;
      ++(code == 200 ? st.flood_ok : code == 429 ? st.flood_429 : st.flood_other);
    } catch (const http::HttpError&) {
      ++st.flood_other;
    }
  }
}


// ---------------------------------------------------------------------------
// The lean client (--lean): a phone fleet as the SM-DP+ sees it, at a small
// fraction of the full simulation's CPU. One real download at start (the
// simulated eUICC + LPA) captures the eUICC's messages: EUICCInfo1, the
// AuthenticateServerResponse (EUICCInfo2, DeviceInfo, CERT.EUICC, CERT.EUM)
// and a ProfileInstallationResult. Per session only what must change is
// built and signed with the eUICC's key: euiccSigned1 (transactionId,
// serverChallenge, matchingId) -> euiccSignature1, euiccSigned2 (with a
// one-time key pair fixed for the run) -> euiccSignature2, and the PIR's
// transactionId -> euiccSignPIR. No BPP is decrypted or installed.

struct LeanTemplates {
  std::string euicc_info1_b64;
  Bytes euicc_signed1;            // as the eUICC signed it once
  std::uint32_t asr_tag = 0, asr_ok_tag = 0;  // BF38 and its authenticateResponseOk
  Bytes euicc_cert, eum_cert;     // as received, tag and length included
  Bytes pir_data;                 // ProfileInstallationResultData (BF27)
  std::uint32_t pir_tag = 0;      // ProfileInstallationResult (BF37)
  Bytes otpk;                     // otPK.EUICC.ECKA, one for the run
};

struct LeanResult {
  bool ok = false;
  std::string error;
};

Bytes b64_member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) throw std::runtime_error(std::string("response without ") + name);
  return from_base64(it->get<std::string>());
}

// TLS session resumption across the lean client's threads, as a phone's TLS
// stack resumes (Android's Conscrypt keeps a client session cache): one curl
// share handle holding the SSL session cache, with a mutex per locked data kind
// since the worker threads use it at once (curl_share_setopt(3)).
class SessionShare {
 public:
  SessionShare() : share_(curl_share_init()) {
    if (share_ == nullptr) throw std::runtime_error("curl_share_init failed");
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &SessionShare::lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &SessionShare::unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    if (curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
      throw std::runtime_error("curl share: CURL_LOCK_DATA_SSL_SESSION refused");
  }
  ~SessionShare() { curl_share_cleanup(share_); }
  SessionShare(const SessionShare&) = delete;
  SessionShare& operator=(const SessionShare&) = delete;
  CURLSH* get() const { return share_; }

 private:
  static void lock(CURL*, curl_lock_data d, curl_lock_access, void* user) {
    static_cast<SessionShare*>(user)->mu_[static_cast<std::size_t>(d) % kKinds].lock();
  }
  static void unlock(CURL*, curl_lock_data d, void* user) {
    static_cast<SessionShare*>(user)->mu_[static_cast<std::size_t>(d) % kKinds].unlock();
  }
  static constexpr std::size_t kKinds = CURL_LOCK_DATA_LAST;
  CURLSH* share_;
  std::mutex mu_[kKinds];
};

// What the lean client's connections did, over all threads.
struct LeanTlsStats {
  std::atomic<long> connections{0}, resumed{0};
};

// One worker thread's HTTPS client: one curl easy handle for all its requests,
// so the trust anchors are parsed once per thread (curl caches the X509_STORE
// per handle), not once per request. A new TCP + TLS connection is still made
// per request (CURLOPT_FRESH_CONNECT + CURLOPT_FORBID_REUSE), or per download
// with --keep-alive. With a SessionShare the new connections resume the TLS
// session (an abbreviated handshake, RFC 5246 7.3, by session ID or ticket as
// the server offers); without one (--no-resume) each is a full handshake.
class LeanClient {
 public:
  LeanClient(std::string ca_file, const SessionShare* share, LeanTlsStats& stats)
      : ca_(std::move(ca_file)), share_(share), stats_(stats), h_(curl_easy_init()) {
    if (h_ == nullptr) throw std::runtime_error("curl_easy_init failed");
    hdr_ = curl_slist_append(nullptr, "X-Admin-Protocol: gsma/rsp/v2.2.2");
    hdr_ = curl_slist_append(hdr_, "Content-Type: application/json");
    hdr_ = curl_slist_append(hdr_, "Expect:");
  }
  ~LeanClient() {
    curl_easy_cleanup(h_);
    curl_slist_free_all(hdr_);
  }
  LeanClient(const LeanClient&) = delete;
  LeanClient& operator=(const LeanClient&) = delete;

  // One POST; `fresh`: open a new connection for it, `last`: close it after.
  std::pair<long, std::string> post(const std::string& url, const std::string& body, bool fresh, bool last) {
    Transfer tr{this, {}, false};
    curl_easy_reset(h_);  // keeps the handle's connection and CA caches
    curl_easy_setopt(h_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h_, CURLOPT_CAINFO, ca_.c_str());
    curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, 30'000L);
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, hdr_);
    curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h_, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, &LeanClient::on_body);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, &tr);
    curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, &LeanClient::on_header);
    curl_easy_setopt(h_, CURLOPT_HEADERDATA, &tr);
    curl_easy_setopt(h_, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
    curl_easy_setopt(h_, CURLOPT_FORBID_REUSE, last ? 1L : 0L);
    if (share_ != nullptr) curl_easy_setopt(h_, CURLOPT_SHARE, share_->get());
    else curl_easy_setopt(h_, CURLOPT_SSL_SESSIONID_CACHE, 0L);  // a full handshake every time
    CURLcode rc = curl_easy_perform(h_);
    if (rc != CURLE_OK) throw std::runtime_error(std::string("curl: ") + curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &status);
    return {status, std::move(tr.body)};
  }

 private:
  struct Transfer {
    LeanClient* self;
    std::string body;
    bool counted;
  };
  // The first header line of a response on a new connection: the handshake
  // is over, so ask OpenSSL whether it resumed (CURLINFO_TLS_SSL_PTR is valid
  // during the transfer only).
  static std::size_t on_header(char*, std::size_t size, std::size_t n, void* user) {
    auto* tr = static_cast<Transfer*>(user);
    if (!tr->counted) {
      tr->counted = true;
      long new_conns = 0;
      curl_easy_getinfo(tr->self->h_, CURLINFO_NUM_CONNECTS, &new_conns);
      curl_tlssessioninfo* info = nullptr;
      if (new_conns > 0 && curl_easy_getinfo(tr->self->h_, CURLINFO_TLS_SSL_PTR, &info) == CURLE_OK &&
          info != nullptr && info->backend == CURLSSLBACKEND_OPENSSL && info->internals != nullptr) {
        ++tr->self->stats_.connections;
        if (SSL_session_reused(static_cast<SSL*>(info->internals)) == 1) ++tr->self->stats_.resumed;
      }
    }
    return size * n;
  }
  static std::size_t on_body(char* p, std::size_t size, std::size_t n, void* user) {
    static_cast<Transfer*>(user)->body.append(p, size * n);
    return size * n;
  }

  std::string ca_;
  const SessionShare* share_;
  LeanTlsStats& stats_;
  CURL* h_;
  curl_slist* hdr_ = nullptr;
};

// One ES9+ call on the thread's client: a new connection per request, or with
// --keep-alive one per download (opened by the first call, closed by the last).
nlohmann::json lean_call(LeanClient& client, const std::string& address, const std::string& fn,
                         const nlohmann::json& body, bool keep_alive) {
  bool first = fn == "initiateAuthentication", last = fn == "handleNotification";
  auto [status, text] = client.post("https://" + address + "/gsma/rsp2/es9plus/" + fn, body.dump(),
                                    !keep_alive || first, !keep_alive || last);
  if (status == 204) return nlohmann::json::object();
  if (status != 200) throw std::runtime_error(fn + ": HTTP " + std::to_string(status));
  auto j = nlohmann::json::parse(text);
  auto st = j["header"]["functionExecutionStatus"];
  if (st.value("status", "") != "Executed-Success")
    throw std::runtime_error(fn + ": " + st.dump());
  return j;
}

LeanResult lean_download(const LeanTemplates& t, const crypto::EcKey& euicc_key, const std::string& address,
                         const std::string& matching_id, LeanClient& client, bool keep_alive) {
  namespace a1 = rsp::asn1;
  LeanResult out;
  try {
    auto ia = lean_call(client, address, "initiateAuthentication",
                        {{"euiccChallenge", to_base64(crypto::random_bytes(16))},
                         {"euiccInfo1", t.euicc_info1_b64},
                         {"smdpAddress", address}},
                        keep_alive);
    std::string txn_hex = ia.at("transactionId").get<std::string>();
    Bytes txn = from_hex(txn_hex);
    auto ss1 = a1::decode<ServerSigned1_t>(asn_DEF_ServerSigned1, b64_member(ia, "serverSigned1"));

    auto signed1 = a1::decode<EuiccSigned1_t>(asn_DEF_EuiccSigned1, t.euicc_signed1);
    a1::set(signed1->transactionId, txn);
    a1::set(signed1->serverChallenge, a1::view(ss1->serverChallenge));
    auto& common = signed1->ctxParams1.choice.ctxParamsForCommonAuthentication;
    if (!common.matchingId) common.matchingId = a1::new_octet_string(std::string_view(matching_id));
    else a1::set(*common.matchingId, std::string_view(matching_id));
    Bytes signed1_der = signed1.encode_der();
    Bytes asr = tlv::make(t.asr_tag, tlv::make(t.asr_ok_tag, concat(signed1_der, tlv::make(0x5F37, euicc_key.sign(signed1_der)),
                                                                  t.euicc_cert, t.eum_cert)));
    auto ac = lean_call(client, address, "authenticateClient",
                        {{"transactionId", txn_hex}, {"authenticateServerResponse", to_base64(asr)}}, keep_alive);
    Bytes smdp_signature2 = b64_member(ac, "smdpSignature2");  // with its 5F37 tag

    // SGP.22 5.7.13: euiccSignature2 covers euiccSigned2 || smdpSignature2.
    Bytes signed2 = tlv::make(0x30, concat(tlv::make(0x80, txn), tlv::make(0x5F49, t.otpk)));
    // PrepareDownloadResponse [33] CHOICE, downloadResponseOk automatically tagged [0].
    Bytes pdr = tlv::make(0xBF21, tlv::make(0xA0, concat(signed2, tlv::make(0x5F37, euicc_key.sign(concat(signed2, smdp_signature2))))));
    auto bpp = lean_call(client, address, "getBoundProfilePackage",
                         {{"transactionId", txn_hex}, {"prepareDownloadResponse", to_base64(pdr)}}, keep_alive);
    if (b64_member(bpp, "boundProfilePackage").size() < 1000) throw std::runtime_error("BPP too short");

    auto pir = a1::decode<ProfileInstallationResultData_t>(asn_DEF_ProfileInstallationResultData, t.pir_data);
    a1::set(pir->transactionId, txn);
    Bytes pir_der = pir.encode_der();
    Bytes pn = tlv::make(t.pir_tag, concat(pir_der, tlv::make(0x5F37, euicc_key.sign(pir_der))));
    lean_call(client, address, "handleNotification", {{"pendingNotification", to_base64(pn)}}, keep_alive);
    out.ok = true;
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

// What one durable commit of the store costs on this disk: a small
// transaction (one row) with synchronous=FULL, as smdpd's store runs, and
// with NORMAL beside it. A download makes four such commits (the session at
// initiateAuthentication, the binding at authenticateClient, the BPP at
// getBoundProfilePackage, the result at handleNotification).
std::pair<double, double> commit_ms(const fs::path& dir, int rounds) {
  auto run = [&](bool full) {
    fs::path f = dir / (full ? "commit-full.db" : "commit-normal.db");
    double ms;
    {
      store::Db db(f.string(), full);
      db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
      Bytes v(200, 1);
      auto t0 = Clock::now();
      for (int i = 0; i < rounds; ++i) {
        store::Transaction tx(db);
        db.run("INSERT INTO t (k, v) VALUES (?, ?)", {std::int64_t{i}, v});
        tx.commit();
      }
      ms = ms_since(t0) / rounds;
    }
    for (const char* sfx : {"", "-wal", "-shm"}) fs::remove(f.string() + sfx);
    return ms;
  };
  return {run(true), run(false)};
}

double own_cpu_ms() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ES9+ download benchmark (SM-DP+ over HTTPS, simulated eUICCs)"};
  int n = 200, c = 4;
  std::string curve_name = "nist";
  std::string profile = (fs::path(RSP_SHARED_TESTDATA) / "ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der").string();
  app.add_option("-n,--downloads", n, "number of downloads")->check(CLI::Range(1, 1'000'000));
  app.add_option("-c,--concurrency", c, "concurrent simulated eUICCs")->check(CLI::Range(1, 1024));
  app.add_option("--curve", curve_name, "nist or brp")->check(CLI::IsMember({"nist", "brp"}));
  app.add_option("--profile", profile, "unprotected profile package (DER)");
  std::string smdpd = (fs::path(argv[0]).parent_path() / "../smdp/smdpd").string();
  app.add_option("--smdpd", smdpd, "path to smdpd");
  std::size_t server_threads = 2;
  app.add_option("--server-threads", server_threads, "SM-DP+ worker threads")->check(CLI::Range(1, 256));
  int idle = 0, slow = 0, warmup_s = 3;
  bool flooding = false;
  app.add_option("--idle", idle, "load test: idle TCP connections held open")->check(CLI::Range(0, 10'000));
  app.add_option("--slow", slow, "load test: clients sending their body at 1 byte/s")->check(CLI::Range(0, 1'000));
  app.add_flag("--flood", flooding, "load test: initiateAuthentication flood from 127.0.0.2");
  app.add_option("--warmup", warmup_s, "load test: seconds between starting the attack and the downloads")
      ->check(CLI::Range(0, 60));
  int kill_every = 0, max_retries = 20;
  app.add_option("--kill-every", kill_every,
                 "SIGKILL smdpd after every K finished downloads and start it again on the same store (0: never)")
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--max-retries", max_retries, "retries of one interrupted download before it counts as failed")
      ->check(CLI::Range(0, 1000));
  // Issue 12: several instances on one store (PostgreSQL) behind a balancer.
  std::string store_url;
  int instances = 1;
  app.add_option("--store", store_url, "store: a postgresql:// URI of an empty database (default: SQLite in a temp folder)");
  app.add_option("--instances", instances, "smdpd processes on the one store, behind a round-robin TCP balancer")
      ->check(CLI::Range(1, 16));
  bool lean = false, keep_alive = false;
  app.add_flag("--lean", lean,
               "lean client: eUICC messages from templates, only what changes per session signed, no BPP install");
  app.add_flag("--keep-alive", keep_alive, "lean client: one TLS connection per download (default: one per request)");
  bool no_resume = false;
  app.add_flag("--no-resume", no_resume,
               "lean client: a full TLS handshake on every connection (default: resume the TLS session, as phones do)");
  if (auto rc = rsp::cli::parse(app, argc, argv, "es9_download_bench")) return *rc;
  rsp::log::set_level(rsp::log::Level::Warn);
  const bool attack = idle > 0 || slow > 0 || flooding;
  if (lean && (attack || kill_every > 0)) {
    std::fprintf(stderr, "--lean measures downloads alone: not with --idle/--slow/--flood/--kill-every\n");
    return 2;
  }

  std::ifstream f(profile, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "cannot read profile %s\n", profile.c_str());
    return 2;
  }
  Bytes upp(std::istreambuf_iterator<char>(f), {});
  auto curve = crypto::curve_from_name(curve_name);
  std::uint16_t port = http::free_loopback_port();
  fs::path dir = fs::temp_directory_path() / ("rsp-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  certs::PkiOptions po;
  po.curve = curve;
  po.dp_host = "localhost";
  auto pki = certs::generate_pki(po);
  certs::write_pki(pki, dir);
  std::string sfx = certs::file_suffix(curve);
  write_private_file((dir / "storage.key").string(), to_bytes(to_hex(crypto::random_bytes(32))));
  std::ofstream(dir / "tls-ca.pem") << certs::to_pem(pki.tls_ci ? pki.tls_ci->der : pki.ci.der);
  // Every simulated phone carries the same test eUICC credentials.
  sim::EuiccConfig euicc_config;
  euicc_config.euicc_cert_der = pki.euicc.der;
  euicc_config.euicc_key = to_bytes(pki.euicc.key.private_pem());
  euicc_config.eum_cert_der = pki.eum.der;
  euicc_config.ci_certs_der = {pki.ci.der};
  // One address (the balancer's when there are several instances); each
  // instance its own listen port, all on the one store.
  std::vector<std::uint16_t> listen_ports = {port};
  for (int k = 1; k < instances; ++k) {
    if (k == 1) listen_ports[0] = http::free_loopback_port();
    listen_ports.push_back(http::free_loopback_port());
  }
  for (int k = 0; k < instances; ++k)
  std::ofstream(dir / (k ? "smdp-" + std::to_string(k) + ".json" : std::string("smdp.json"))) << "{\"address\": \"localhost:" << port << "\", \"listen\": \"127.0.0.1\", \"port\": " << listen_ports[static_cast<std::size_t>(k)]
      << ", \"threads\": " << server_threads << ", \"db\": \"" << (store_url.empty() ? std::string("smdp.db") : store_url) << "\", \"storage_key_file\": \"storage.key\","
      << " \"max_download_attempts\": " << max_retries + 1 << ","
      << " \"tls\": {\"certificate\": \"CERT_S_SM_DP_TLS_NIST.der\", \"key\": \"SK_S_SM_DP_TLS_NIST.pem\","
      << " \"ci_certificate\": \"CERT_CI_ECDSA_NIST.der\"},"
      << " \"credentials\": [{\"ci_certificate\": \"CERT_CI_ECDSA_" << sfx << ".der\","
      << " \"dpauth_certificate\": \"CERT_S_SM_DPauth_ECDSA_" << sfx << ".der\", \"dpauth_key\": \"SK_S_SM_DPauth_ECDSA_" << sfx << ".pem\","
      << " \"dppb_certificate\": \"CERT_S_SM_DPpb_ECDSA_" << sfx << ".der\", \"dppb_key\": \"SK_S_SM_DPpb_ECDSA_" << sfx << ".pem\"}],"
      // Every simulated phone comes from 127.0.0.1: without an attack, no
      // per-address limit; under attack the default one (the flood comes
      // from 127.0.0.2).
      << " \"limits\": {\"initiate_authentication_per_second\": " << (attack ? 10 : 0) << "}}\n";
  std::string iccid_base = smdp::inspect_upp(upp).iccid.substr(0, 13);  // + 6 digits: 19, like TS.48
  auto iccid_of = [&](int i) {
    char tail[16];
    std::snprintf(tail, sizeof tail, "%06d", i);
    return iccid_base + tail;
  };
  {
    auto config = smdp::load_config((dir / "smdp.json").string());
    store::Db db(config.db_path);
    smdp::ProfileStore profiles(db, config.storage_key);
    store::Transaction tx(db);
    for (int i = 0; i < n; ++i) {
      smdp::Profile p;
      p.iccid = iccid_of(i);
      p.matching_id = "BENCH-" + std::to_string(i);
      p.state = smdp::ProfileState::Released;
      profiles.stage(p, smdp::with_header_iccid(upp, p.iccid));
    }
    if (lean) {  // the one real download that captures the eUICC's messages
      smdp::Profile p;
      p.iccid = iccid_of(n);
      p.matching_id = "BENCH-TEMPLATE";
      p.state = smdp::ProfileState::Released;
      profiles.stage(p, smdp::with_header_iccid(upp, p.iccid));
    }
    tx.commit();
  }
  // The SM-DP+ runs as its own process, so its CPU time can be read apart
  // from the simulated phones'.
  std::string config_arg = (dir / "smdp.json").string(), port_file = (dir / "port").string();
  std::vector<std::string> args = {smdpd, "--config", config_arg, "serve", "--port-file", port_file};
  std::vector<char*> argv_c;
  for (auto& a : args) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  setenv("RSP_LOG", "warn", 1);
  pid_t server = 0;
  auto start_server = [&]() -> bool {
    fs::remove(port_file);
    if (posix_spawn(&server, smdpd.c_str(), nullptr, nullptr, argv_c.data(), environ) != 0) {
      std::fprintf(stderr, "cannot start %s\n", smdpd.c_str());
      server = 0;
      return false;
    }
    for (int i = 0; i < 100 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!fs::exists(port_file)) {
      std::fprintf(stderr, "smdpd did not start\n");
      kill(server, SIGTERM);
      waitpid(server, nullptr, 0);
      return false;
    }
    return true;
  };
  if (!start_server()) return 2;
  std::vector<pid_t> more_servers;  // instances 2..N (the killer kills the first)
  for (int k = 1; k < instances; ++k) {
    std::string cfg = (dir / ("smdp-" + std::to_string(k) + ".json")).string(), pf = (dir / ("port-" + std::to_string(k))).string();
    std::vector<std::string> a = {smdpd, "--config", cfg, "serve", "--port-file", pf};
    std::vector<char*> av;
    for (auto& x : a) av.push_back(x.data());
    av.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, smdpd.c_str(), nullptr, nullptr, av.data(), environ) != 0) return 2;
    more_servers.push_back(pid);
    for (int i = 0; i < 100 && !fs::exists(pf); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!fs::exists(pf)) {
      std::fprintf(stderr, "smdpd instance %d did not start\n", k + 1);
      return 2;
    }
  }
  auto more_cpu_ms = [&] {
    double ms = 0;
    for (pid_t p : more_servers) ms += process_cpu_ms(p);
    return ms;
  };
  std::unique_ptr<bench::RoundRobinBalancer> balancer;
  if (instances > 1) balancer = std::make_unique<bench::RoundRobinBalancer>(port, listen_ports);
  std::string address = "localhost:" + std::to_string(port);
  std::string tls_ca = (dir / "tls-ca.pem").string();

  // The load test: attackers first, the downloads once they are in place.
  std::atomic<bool> stop_attack{false};
  AttackStats st;
  std::vector<std::thread> attackers;
  long rss_before = proc_status_kb(server, "VmRSS"), rss_attack = 0;
  std::size_t fds_attack = 0;
  if (attack) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::string es9 = "https://" + address + "/gsma/rsp2/es9plus/initiateAuthentication";
    std::string ca = (dir / "tls-ca.pem").string();
    if (idle > 0) attackers.emplace_back([&] { idle_connections(port, idle, stop_attack, st); });
    for (int i = 0; i < slow; ++i) attackers.emplace_back([&, es9, ca] { slow_body(es9, ca, stop_attack, st); });
    if (flooding) {
      // A real initiateAuthentication body: the first request of a download
      // whose matching id is unknown (refused at authenticateClient).
      std::string captured;
      {
        sim::Euicc euicc(euicc_config);
        lpa::DownloadOptions opt;
        opt.es9.http.ca_file = tls_ca;
        auto client = std::make_shared<http::Client>(opt.es9.http);
        opt.es9.post = [&captured, client](const std::string& url, const http::Headers& h, const std::string& b) {
          if (captured.empty()) captured = b;
          return client->post(url, b, h);
        };
        try {
          lpa::download(euicc, lpa::ActivationCode::parse("LPA:1$" + address + "$NOT-STAGED"), opt);
        } catch (const std::exception&) {
        }
      }
      attackers.emplace_back([&, es9, ca, captured] { flood(es9, ca, captured, stop_attack, st); });
    }
    std::this_thread::sleep_for(std::chrono::seconds(warmup_s));
    rss_attack = proc_status_kb(server, "VmRSS");
    fds_attack = open_fds(server);
  }
  LeanTemplates lean_t;
  crypto::EcKey ot_euicc;
  LeanTlsStats lean_tls;
  std::unique_ptr<SessionShare> lean_share;
  if (lean) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!no_resume) lean_share = std::make_unique<SessionShare>();
    sim::Euicc euicc(euicc_config);
    lpa::DownloadOptions opt;
    opt.es9.http.ca_file = tls_ca;
    auto client = std::make_shared<http::Client>(opt.es9.http);
    opt.es9.post = [&lean_t, client](const std::string& url, const http::Headers& h, const std::string& b) {
      auto body = nlohmann::json::parse(b);
      if (url.find("/initiateAuthentication") != std::string::npos) {
        lean_t.euicc_info1_b64 = body["euiccInfo1"].get<std::string>();
      } else if (url.find("/authenticateClient") != std::string::npos) {
        Bytes asr = from_base64(body["authenticateServerResponse"].get<std::string>());
        auto outer = tlv::parse_one(asr);
        auto ok = tlv::parse_one(outer.value);
        auto parts = tlv::parse_all(ok.value);  // euiccSigned1, euiccSignature1, CERT.EUICC, CERT.EUM
        lean_t.asr_tag = outer.tag;
        lean_t.asr_ok_tag = ok.tag;
        lean_t.euicc_signed1.assign(parts.at(0).raw.begin(), parts.at(0).raw.end());
        lean_t.euicc_cert.assign(parts.at(2).raw.begin(), parts.at(2).raw.end());
        lean_t.eum_cert.assign(parts.at(3).raw.begin(), parts.at(3).raw.end());
      } else if (url.find("/handleNotification") != std::string::npos && lean_t.pir_data.empty()) {
        Bytes pn = from_base64(body["pendingNotification"].get<std::string>());
        auto outer = tlv::parse_one(pn);
        auto parts = tlv::parse_all(outer.value);  // ProfileInstallationResultData, euiccSignPIR
        lean_t.pir_tag = outer.tag;
        lean_t.pir_data.assign(parts.at(0).raw.begin(), parts.at(0).raw.end());
      }
      return client->post(url, b, h);
    };
    auto r = lpa::download(euicc, lpa::ActivationCode::parse("LPA:1$" + address + "$BENCH-TEMPLATE"), opt);
    if (!r.installation.success || lean_t.pir_data.empty() || lean_t.euicc_signed1.empty()) {
      std::fprintf(stderr, "the template download did not complete\n");
      return 2;
    }
    ot_euicc = crypto::EcKey::generate(curve);
    lean_t.otpk = ot_euicc.public_point();
  }
  double server_cpu0 = process_cpu_ms(server) + more_cpu_ms();
  double client_cpu0 = own_cpu_ms();

  std::atomic<int> next{0}, failures{0}, retries{0}, finished{0}, kills{0};
  std::vector<double> latencies;
  std::mutex mu;
  std::mutex server_mu;       // the killer restarts smdpd while the phones run
  double dead_servers_cpu_ms = 0;  // CPU of the smdpd processes killed so far
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < c; ++t)
    threads.emplace_back([&] {
      if (lean) {
        LeanClient client(tls_ca, lean_share.get(), lean_tls);
        for (int i; (i = next++) < n;) {
          auto d0 = Clock::now();
          auto r = lean_download(lean_t, pki.euicc.key, address, "BENCH-" + std::to_string(i), client, keep_alive);
          double ms = ms_since(d0);
          if (!r.ok) {
            ++failures;
            std::fprintf(stderr, "download %d: %s\n", i, r.error.c_str());
          }
          ++finished;
          std::lock_guard l(mu);
          latencies.push_back(ms);
        }
        return;
      }
      for (int i; (i = next++) < n;) {
        sim::Euicc euicc(euicc_config);
        lpa::DownloadOptions opt;
        opt.es9.http.ca_file = tls_ca;
        std::string iccid = iccid_of(i);
        auto d0 = Clock::now();
        bool done = false;
        for (int attempt = 0; attempt <= max_retries && !done; ++attempt) {
          if (attempt > 0) {
            ++retries;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
          try {
            if (holds(euicc, iccid)) {
              // Installed; the SM-DP+ went away before it heard so: the
              // pending install notification goes again (SGP.22 3.5).
              lpa::Es10Client es10(euicc);
              lpa::NotificationOptions no;
              no.es9 = opt.es9;
              bool all = true;
              for (const auto& r : lpa::process_notifications(es10, no)) all = all && r.delivered;
              done = all;
              continue;
            }
            auto r = lpa::download(euicc, lpa::ActivationCode::parse("LPA:1$" + address + "$BENCH-" + std::to_string(i)), opt);
            if (!r.installation.success) {
              std::fprintf(stderr, "download %d: installation failed: %s\n", i, r.installation.describe().c_str());
              break;
            }
            done = r.notification_sent;  // else: installed, notification retried
          } catch (const lpa::DownloadError& e) {
            if (!interrupted(e)) {
              std::fprintf(stderr, "download %d: %s\n", i, e.what());
              break;
            }
          } catch (const std::exception& e) {
            std::fprintf(stderr, "download %d: %s\n", i, e.what());
            break;
          }
        }
        if (!done) ++failures;
        double ms = ms_since(d0);
        ++finished;
        std::lock_guard l(mu);
        latencies.push_back(ms);
      }
    });
  std::thread killer;
  if (kill_every > 0)
    killer = std::thread([&] {
      for (int mark = kill_every; mark < n; mark += kill_every) {
        while (finished < mark) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::lock_guard l(server_mu);
        dead_servers_cpu_ms += process_cpu_ms(server);
        kill(server, SIGKILL);
        waitpid(server, nullptr, 0);
        ++kills;
        if (!start_server()) {
          std::fprintf(stderr, "smdpd did not start again after kill %d\n", kills.load());
          std::exit(2);
        }
      }
    });
  for (auto& th : threads) th.join();
  if (killer.joinable()) killer.join();
  double wall_s = ms_since(t0) / 1000.0;
  double server_cpu_ms = dead_servers_cpu_ms + process_cpu_ms(server) + more_cpu_ms() - server_cpu0;
  double client_cpu_ms = own_cpu_ms() - client_cpu0;
  long rss_end = proc_status_kb(server, "VmRSS"), hwm = proc_status_kb(server, "VmHWM");
  std::size_t fds_end = attack ? open_fds(server) : 0;
  stop_attack = true;
  for (auto& th : attackers) th.join();
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  for (pid_t p : more_servers) {
    kill(p, SIGTERM);
    waitpid(p, nullptr, 0);
  }
  balancer.reset();
  auto [commit_full_ms, commit_normal_ms] = commit_ms(dir, 200);
  fs::remove_all(dir);
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) { return latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()))]; };

  // Full handshakes per download as counted on the lean client's connections
  // (a resumed one has no public-key operation).
  int handshakes = lean ? static_cast<int>(std::lround(
                              static_cast<double>(lean_tls.connections.load() - lean_tls.resumed.load()) / n))
                        : 1;
  double floor_ms = crypto_floor_ms(curve, upp.size(), 50, handshakes);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  double measured = n / wall_s;
  double ceiling = cores * 1000.0 / floor_ms;
  std::printf("ES9+ download benchmark: curve %s, profile %zu bytes, %d downloads, %d concurrent eUICCs, %u cores\n",
              std::string(crypto::curve_name(curve)).c_str(), upp.size(), n, c, cores);
  std::printf("  store %s, %d smdpd instance(s)%s\n", store_url.empty() ? "SQLite" : "PostgreSQL", instances,
              instances > 1 ? " behind a round-robin TCP balancer" : "");
  std::printf("  client: %s, %s\n",
              lean ? "lean (eUICC messages from templates, signed per session; no BPP install)"
                   : "full (simulated eUICC + LPA per download, BPP installed)",
              lean ? (keep_alive ? "one TLS connection per download" : "a new TLS connection per request")
                   : "one TLS connection per download");
  if (lean)
    std::printf("  TLS: %s; %ld new connections, %ld resumed (%.0f%%)\n",
                no_resume ? "full handshake on every connection (--no-resume)"
                          : "session resumption (abbreviated handshakes, one session cache shared across the client's threads)",
                lean_tls.connections.load(), lean_tls.resumed.load(),
                lean_tls.connections > 0 ? 100.0 * lean_tls.resumed.load() / lean_tls.connections.load() : 0.0);
  std::printf("  %-44s %10.1f /s\n", lean ? "downloads (end to end, HTTPS)" : "downloads (end to end, HTTPS + ES10)",
              measured);
  std::printf("  %-44s %10.1f ms\n", "latency p50", pct(0.50));
  std::printf("  %-44s %10.1f ms\n", "latency p90", pct(0.90));
  std::printf("  %-44s %10.1f ms\n", "latency p99", pct(0.99));
  std::printf("  %-44s %10.1f ms\n", "latency max", latencies.back());
  std::printf("  %-44s %10d\n", "failures", failures.load());
  std::printf("  %-44s %10d\n", "retries of interrupted downloads", retries.load());
  if (kill_every > 0) std::printf("  %-44s %10d\n", "smdpd killed (SIGKILL) and restarted", kills.load());
  double server_ms = server_cpu_ms / n;
  std::printf("  %-44s %10.2f ms\n", "SM-DP+ CPU per download (smdpd process)", server_ms);
  std::printf("  %-44s %10.2f ms\n", "client CPU per download (getrusage, bench)", client_cpu_ms / n);
  std::printf("  %-44s %9.0f%%\n", "client's share of the machine's CPU", 100.0 * client_cpu_ms / (wall_s * 1000.0 * cores));
  std::printf("  %-44s %9.0f%%\n", "SM-DP+'s share of the machine's CPU", 100.0 * server_cpu_ms / (wall_s * 1000.0 * cores));
  std::printf("  %-44s %10.2f ms (%d full TLS handshake%s)\n", "crypto floor per download (1 core, rsp::crypto)",
              floor_ms, handshakes, handshakes == 1 ? "" : "s");
  std::printf("  %-44s %10.2f\n", "crypto share of SM-DP+ CPU (floor / CPU)", floor_ms / server_ms);
  std::printf("  %-44s %10.2f ms (NORMAL: %.2f ms)\n", "store commit, synchronous=FULL, each", commit_full_ms,
              commit_normal_ms);
  std::printf("  %-44s %10.1f /s\n", "crypto ceiling on all cores", ceiling);
  std::printf("  %-44s %10.2f\n", "ratio measured / ceiling", measured / ceiling);
  if (attack) {
    std::printf("load test (issue 9): %d idle connections, %d slow-body clients, flood %s\n", idle, slow,
                flooding ? "on (127.0.0.2)" : "off");
    std::printf("  %-44s %10.1f ms\n", "slowest well-behaved download", latencies.back());
    std::printf("  %-44s %10ld (%ld dropped by the server)\n", "idle connections open at the end",
                st.idle_open.load(), st.idle_dropped.load());
    std::printf("  %-44s %10ld started, %ld cut off\n", "slow-body requests", st.slow_started.load(),
                st.slow_cut_off.load());
    std::printf("  %-44s %10ld ok, %ld 429, %ld other\n", "flood initiateAuthentication", st.flood_ok.load(),
                st.flood_429.load(), st.flood_other.load());
    std::printf("  %-44s %10ld / %ld / %ld kB\n", "smdpd VmRSS before / attack / end", rss_before, rss_attack,
                rss_end);
    std::printf("  %-44s %10ld kB\n", "smdpd VmHWM (peak RSS)", hwm);
    std::printf("  %-44s %10zu / %zu\n", "smdpd open descriptors (attack / end)", fds_attack, fds_end);
    if (latencies.back() >= 1000.0) {
      std::printf("  FAIL: a well-behaved download took a second or more\n");
      return 1;
    }
  }
  return failures.load() == 0 ? 0 : 1;
}
