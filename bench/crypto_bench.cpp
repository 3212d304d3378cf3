// What one rsp::crypto operation costs on each implementation (issue 12):
// OpenSSL 3 (the servers' backend) beside mbedTLS 2.28 (the card side's, and
// the servers' before), measured in the same run on the same inputs. Time is
// the process's CPU time (CLOCK_PROCESS_CPUTIME_ID), one thread, so other
// load on the machine shows less than in wall time.
//
//   crypto_bench [-n N]     (N: iterations of the EC rows; default 400)
//
// Rows: ECDSA sign / verify, ECDH, key generation on P-256 and
// brainpoolP256r1; AES-CMAC of 1 KB; SHA-256 of 1 KB; the SCP03t work of one
// download's 12 KB profile (session keys by X9.63 KDF, 86-segment wrap:
// AES-CBC + CMAC per segment); and the per-download EC floor of an SM-DP+ on
// the curve (4 verifies, 3 signs, 1 key generation, 1 ECDH: the ES9+
// operations of SGP.22 3.1.2-3.1.3, listed in the row's code).
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rsp/crypto.hpp"
#include "rsp/crypto_backend.hpp"
#include "rsp/scp03t.hpp"
#include "rsp/version.hpp"

using namespace rsp;
using namespace rsp::crypto;

namespace {

double cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

// Microseconds of CPU per call of f, over n calls (after 1/10 of n to warm up).
double per_call(int n, const std::function<void()>& f) {
  for (int i = 0; i < n / 10 + 1; ++i) f();
  double t0 = cpu_us();
  for (int i = 0; i < n; ++i) f();
  return (cpu_us() - t0) / n;
}

struct Row {
  std::string name;
  double us[2];
};

}  // namespace

int main(int argc, char** argv) {
  int n = 400;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
      n = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--version") == 0) {
      std::printf("%s\n", rsp::version_line("crypto_bench").c_str());
      return 0;
    } else {
      std::fprintf(stderr, "usage: crypto_bench [-n iterations]\n");
      return 2;
    }
  }
  if (n < 1) n = 1;
  const Backend backends[2] = {Backend::OpenSsl, Backend::MbedTls};
  std::vector<Row> rows;
  auto add = [&](const std::string& name, int iters, const std::function<std::function<void()>()>& make) {
    Row r{name, {0, 0}};
    for (int b = 0; b < 2; ++b) {
      use_backend(backends[b]);
      auto f = make();  // keys and inputs made in this backend
      r.us[b] = per_call(iters, f);
    }
    use_backend(Backend::OpenSsl);
    rows.push_back(r);
    std::fprintf(stderr, ".");
  };

  for (Curve c : {Curve::P256, Curve::BrainpoolP256r1}) {
    std::string cn(curve_name(c));
    Bytes msg(300, 0x5A);  // about an euiccSigned1
    add(cn + " ECDSA sign", n, [&] {
      auto k = std::make_shared<EcKey>(EcKey::generate(c));
      return [k, &msg] { (void)k->sign(msg); };
    });
    add(cn + " ECDSA verify", n, [&] {
      auto k = std::make_shared<EcKey>(EcKey::generate(c));
      auto pub = std::make_shared<EcKey>(EcKey::from_public_point(c, k->public_point()));
      Bytes sig = k->sign(msg);
      return [pub, sig, &msg] {
        if (!pub->verify(msg, sig)) std::abort();
      };
    });
    add(cn + " ECDH", n, [&] {
      auto k = std::make_shared<EcKey>(EcKey::generate(c));
      Bytes peer = EcKey::generate(c).public_point();
      return [k, peer] { (void)k->ecdh(peer); };
    });
    add(cn + " key generation", n, [&] { return [c] { (void)EcKey::generate(c).public_point(); }; });
    add(cn + " public key from point", n, [&] {
      Bytes q = EcKey::generate(c).public_point();
      return [c, q] { (void)EcKey::from_public_point(c, q); };
    });
    // The EC work an SM-DP+ does per download (SGP.22 3.1.2-3.1.3): verify
    // CERT.EUM, CERT.EUICC, euiccSigned1 and euiccSigned2 (4 verifies); sign
    // serverSigned1, smdpSigned2 and the InitialiseSecureChannel request
    // (3 signs); generate otPK.DP.KA and derive ShS with otPK.EUICC.KA.
    add(cn + " SM-DP+ EC work per download", n / 4 + 1, [&] {
      auto dp = std::make_shared<EcKey>(EcKey::generate(c));
      auto eu = std::make_shared<EcKey>(EcKey::generate(c));
      auto eu_pub = std::make_shared<EcKey>(EcKey::from_public_point(c, eu->public_point()));
      Bytes sig = eu->sign(msg), ot_eu = EcKey::generate(c).public_point();
      return [c, dp, eu_pub, sig, ot_eu, &msg] {
        for (int i = 0; i < 4; ++i)
          if (!eu_pub->verify(msg, sig)) std::abort();
        for (int i = 0; i < 3; ++i) (void)dp->sign(msg);
        EcKey ot = EcKey::generate(c);
        (void)ot.ecdh(ot_eu);
      };
    });
  }
  Bytes kb(1024, 0xA5), key16(16, 0x11);
  add("AES-CMAC 1 KB", n * 20, [&] { return [&] { (void)aes_cmac(key16, kb); }; });
  add("AES-128-CBC 1 KB", n * 20, [&] { return [&] { (void)aes_cbc_encrypt(key16, key16, kb); }; });
  add("SHA-256 1 KB", n * 20, [&] { return [&] { (void)sha256(kb); }; });
  add("HMAC-SHA-256 1 KB", n * 20, [&] { return [&] { (void)hmac_sha256(key16, kb); }; });
  Bytes profile(12207, 0x3C), z(32, 0x42), host(16, 1), eid(16, 2);
  add("SCP03t: keys + wrap 12 KB profile", n, [&] {
    return [&] {
      auto keys = scp03t::derive_session_keys(z, host, eid);
      scp03t::Channel ch(keys.s_enc, keys.s_mac, keys.initial_mcv);
      (void)ch.wrap_segments(scp03t::kTagEncryptedMac, profile);
    };
  });
  std::fprintf(stderr, "\n");

  std::printf("rsp::crypto, CPU microseconds per operation (one thread; EC rows %d iterations)\n\n", n);
  std::printf("| operation | OpenSSL 3 | mbedTLS 2.28 | mbedTLS / OpenSSL |\n|---|---:|---:|---:|\n");
  for (const auto& r : rows)
    std::printf("| %s | %.1f | %.1f | %.1fx |\n", r.name.c_str(), r.us[0], r.us[1], r.us[1] / r.us[0]);
  return 0;
}
