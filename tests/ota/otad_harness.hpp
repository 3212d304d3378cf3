// Test harness for otad (a separate process, as deployed) and a farm of
// simulated cards in this process: the simulated SMSC with one simulated
// handset per card, each card the library's receiving entity + SMS-PP
// handler with an RFM application over a fake file system (test doubles,
// tests/ota/fake_card.hpp). Everything on 127.0.0.1, ports chosen by the
// kernel.
#pragma once
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "fake_card.hpp"
#include "rsp/file.hpp"
#include "rsp/http_client.hpp"
#include "rsp/pki.hpp"
#include "rsp/sim/handset.hpp"
#include "rsp/sim/smsc.hpp"

namespace otad_test {

namespace fs = std::filesystem;
using nlohmann::json;

inline const rsp::ota::Tar kRfm{0xB0, 0x00, 0x10};
constexpr std::uint8_t kMsl = 0x16;  // CC, ciphered, counter "process if higher"

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "otad_XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

// Card i's identity and keys (AES-128 KIc/KID, key set 1).
inline std::string iccid(std::size_t i) {
  char b[32];
  std::snprintf(b, sizeof b, "89490000000%08zu", i);
  return b;
}
inline std::string msisdn(std::size_t i) {
  char b[32];
  std::snprintf(b, sizeof b, "4477%08zu", i);
  return b;
}
inline rsp::Bytes key(std::uint8_t which, std::size_t i) {
  rsp::Bytes k(16);
  for (std::size_t j = 0; j < 16; ++j) k[j] = static_cast<std::uint8_t>(which + j * 7 + i * 13);
  k[14] = static_cast<std::uint8_t>(i >> 8);
  k[15] = static_cast<std::uint8_t>(i);
  return k;
}

// One simulated card behind its handset. `received` is every CNTR that
// reached the card in a whole packet, `executed` those it ran.
struct FarmCard {
  rsp::ota::ReceivingEntity entity;
  rsp::ota::SmsPpHandler handler{entity};
  ota_test::FakeFiles files;
  ota_test::FakeOtaCard card{handler};
  std::unique_ptr<rsp::sim::Handset> phone;
  std::mutex mu;
  std::vector<std::uint64_t> received, executed;
  std::vector<std::uint8_t> statuses;
};

// Records the CNTR of each packet the RFM application runs.
class CountingApplication : public rsp::ota::RemoteApplication {
 public:
  CountingApplication(FarmCard& c)
      : c_(c),
        rfm_([&c](rsp::ByteView a) { return c.files(a); }, rsp::ota::CommandSet::Uicc) {}
  rsp::Bytes execute(rsp::ByteView secured_data) override {
    {
      std::lock_guard l(c_.mu);
      c_.executed.push_back(c_.entity.counter(1));  // moved to the packet's CNTR before the application runs
    }
    return rfm_.execute(secured_data);
  }

 private:
  FarmCard& c_;
  rsp::ota::RemoteManagementApplication rfm_;
};

struct Farm {
  rsp::sim::Smsc smsc{rsp::sim::SmscConfig{}};
  std::vector<std::unique_ptr<FarmCard>> cards;
  std::uint16_t port = 0;

  explicit Farm(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      auto c = std::make_unique<FarmCard>();
      rsp::ota::KeySet k;
      k.version = 1;
      k.cipher = k.checksum = rsp::ota::Algorithm::Aes;
      rsp::Bytes kic = key(0x10, i), kid = key(0x20, i);
      k.kic = rsp::SecretBytes(kic.begin(), kic.end());
      k.kid = rsp::SecretBytes(kid.begin(), kid.end());
      c->entity.add_key_set(k);
      c->files.efs[0x2FE2] = rsp::from_hex("98942000000000000001");
      c->handler.add_application(kRfm, kMsl, std::make_shared<CountingApplication>(*c));
      FarmCard* raw = c.get();
      c->phone = std::make_unique<rsp::sim::Handset>(
          msisdn(i),
          [raw](rsp::ByteView apdu) {
            rsp::Bytes r = raw->card(apdu);
            if (apdu.size() > 1 && apdu[1] == rsp::ota::kInsEnvelope) {
              auto o = raw->card.last();
              if (o.verdict && o.verdict->header) {
                std::lock_guard l(raw->mu);
                raw->received.push_back(o.verdict->cntr);
                raw->statuses.push_back(static_cast<std::uint8_t>(o.verdict->status));
              }
            }
            return r;
          },
          [this](const std::string& from, rsp::ByteView t) { smsc.submit_mo(from, t); });
      smsc.register_handset(msisdn(i), c->phone.get());
      cards.push_back(std::move(c));
    }
    port = smsc.start();
  }
  ~Farm() { smsc.stop(); }
};

// TLS material and the configuration file of one otad.
struct OtadFiles {
  TempDir dir;
  std::string ca_pem;  // what the client trusts for the server
  rsp::Bytes client_cert_pem;
  rsp::SecretBytes client_key_pem;
  fs::path config;

  explicit OtadFiles(std::uint16_t smpp_port, const json& extra = json::object()) {
    rsp::certs::PkiOptions o;
    o.dp_host = "localhost";
    auto pki = rsp::certs::generate_pki(o);
    ca_pem = rsp::certs::to_pem(pki.ci.der);
    auto opca = rsp::certs::issue_operator_ca("Home operator CA");
    auto op = rsp::certs::issue_operator_certificate(opca, "home-ota");
    client_cert_pem = rsp::to_bytes(rsp::certs::to_pem(op.der));
    client_key_pem = rsp::SecretBytes(rsp::to_bytes(op.key.private_pem()));
    write("tls.pem", rsp::certs::to_pem(pki.dp_tls.der));
    rsp::write_private_file((dir.path / "tls.key").string(), rsp::to_bytes(pki.dp_tls.key.private_pem()));
    write("client-ca.pem", rsp::certs::to_pem(opca.der));
    // For the `ota api` / `ota campaign` client.
    write("server-ca.pem", ca_pem);
    write("client.pem", rsp::to_string(client_cert_pem));
    rsp::write_private_file((dir.path / "client.key").string(), client_key_pem);
    rsp::write_private_file((dir.path / "storage.key").string(),
                            rsp::to_bytes(rsp::to_hex(rsp::Bytes(32, 0x5A))));
    rsp::write_private_file((dir.path / "smpp.pw").string(), rsp::to_bytes("secret"));
    json c = {{"db", "otad.db"},
              {"storage_key_file", "storage.key"},
              {"port", 0},
              {"tls", {{"certificate", "tls.pem"}, {"key", "tls.key"}}},
              {"client_ca", "client-ca.pem"},
              {"smpp", {{"port", smpp_port}, {"system_id", "ota"}, {"password_file", "smpp.pw"}, {"window", 20}}},
              {"por_timeout_ms", 4000},
              {"campaigns", {{"retry_backoff_ms", 200}, {"max_in_flight", 200}, {"tick_ms", 20}}}};
    c.merge_patch(extra);
    config = dir.path / "otad.json";
    write("otad.json", c.dump(2));
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream f(dir.path / name);
    f << text;
  }
  rsp::http::Client client(bool with_certificate = true) const {
    rsp::http::ClientConfig cc;
    cc.ca_pem = rsp::to_bytes(ca_pem);
    if (with_certificate) {
      cc.client_cert_pem = client_cert_pem;
      cc.client_key_pem = client_key_pem;
    }
    cc.timeout = std::chrono::milliseconds(30'000);
    return rsp::http::Client(cc);
  }
};

// otad as a child process; SIGKILL or SIGTERM it on purpose.
class OtadProcess {
 public:
  OtadProcess(const std::string& binary, const OtadFiles& files) {
    port_file_ = (files.dir.path / "port").string();
    fs::remove(port_file_);
    std::string log = (files.dir.path / "otad.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(log.c_str(), "a", stderr);
      (void)f;
      ::execl(binary.c_str(), binary.c_str(), "--config", files.config.c_str(), "--port-file", port_file_.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 300 && !fs::exists(port_file_); ++i) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::ifstream f(port_file_);
    f >> port_;
  }
  ~OtadProcess() { kill(SIGKILL); }
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const { return "https://localhost:" + std::to_string(port_) + path; }
  // Sends the signal and reaps the child; returns its wait status.
  int kill(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return st;
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string port_file_;
};

inline rsp::http::Headers json_headers() {
  rsp::http::Headers h;
  h.set("Content-Type", "application/json");
  return h;
}

inline json register_body(std::size_t i) {
  return {{"iccid", iccid(i)},
          {"msisdn", msisdn(i)},
          {"key_sets",
           {{{"version", 1},
             {"cipher", "AES"},
             {"kic", rsp::to_hex(key(0x10, i))},
             {"checksum", "AES"},
             {"kid", rsp::to_hex(key(0x20, i))}}}},
          {"tars", {{{"tar", "B00010"}, {"msl", "16"}, {"key_version", 1}}}}};
}

}  // namespace otad_test
