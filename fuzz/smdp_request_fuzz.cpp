// libFuzzer target: ES9+ and ES2+ request bodies through the SM-DP+'s own
// request handlers (smdp/src/server.cpp handle_es9plus / handle_es2plus), with
// a real configuration (a generated SGP.26-shaped PKI) and an in-memory store.
// Input: the function name, a newline, then the JSON body. A name starting
// with "es2plus/" goes to ES2+ as the (authenticated) operator "op1".
//
// The HTTP server turns any escaped exception into a bare 500; by default the
// harness accepts that like the server does. RSP_FUZZ_STRICT=1 aborts on it
// instead, to list requests that get a library error instead of an SGP.22
// status code.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "rsp/log.hpp"
#include "rsp/pki.hpp"
#include "rsp/smdp/config.hpp"
#include "rsp/smdp/es2plus.hpp"
#include "rsp/smdp/es9plus.hpp"
#include "rsp/smdp/profile_store.hpp"
#include "rsp/smdp/server.hpp"
#include "rsp/store.hpp"

namespace {

struct World {
  rsp::certs::Pki pki;
  rsp::smdp::Config config;
  std::unique_ptr<rsp::store::Db> db;
  std::unique_ptr<rsp::smdp::ProfileStore> profiles;
  std::unique_ptr<rsp::smdp::Es9Plus> es9;
  std::unique_ptr<rsp::smdp::Es2Plus> es2;
  rsp::Bytes operator_cert;
  bool strict = false;

  World() {
    rsp::log::set_level(rsp::log::Level::Off);
    rsp::certs::PkiOptions po;
    po.dp_host = "smdp.example.com";
    pki = rsp::certs::generate_pki(po);
    config = rsp::smdp::config_from_pki(pki, "smdp.example.com", ":memory:");
    auto ca = rsp::certs::issue_operator_ca("fuzz operator CA");
    operator_cert = rsp::certs::issue_operator_certificate(ca, "op1").der;
    config.operators.push_back({"op1", operator_cert, ""});
    db = std::make_unique<rsp::store::Db>(config.db_path, false);
    profiles = std::make_unique<rsp::smdp::ProfileStore>(*db, config.storage_key);
    es9 = std::make_unique<rsp::smdp::Es9Plus>(config, *profiles);
    es2 = std::make_unique<rsp::smdp::Es2Plus>(config, *profiles);
    const char* s = std::getenv("RSP_FUZZ_STRICT");
    strict = s && *s == '1';
  }
};

World& world() {
  static World w;
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string function(in.substr(0, nl));
  rsp::http::Request req;
  req.method = "POST";
  req.tls = true;
  req.body = std::string(in.substr(nl + 1));
  req.headers.set("Content-Type", "application/json");
  req.headers.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
  req.remote_address = "192.0.2.1:4242";
  try {
    if (function.rfind("es2plus/", 0) == 0) {
      req.target = "/gsma/rsp2/" + function;
      req.peer_certificate = w.operator_cert;
      (void)rsp::smdp::handle_es2plus(*w.es2, w.config.operators, req);
    } else {
      req.target = "/gsma/rsp2/es9plus/" + function;
      (void)rsp::smdp::handle_es9plus(*w.es9, req);
    }
  } catch (const std::exception& e) {
    if (w.strict) {
      std::fprintf(stderr, "handler threw (HTTP 500): %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
