// One download through an interceptor on the LPA's ES9+ link that may edit
// requests and responses, as an attacker in the path (or a broken LPA or
// eUICC) would; the outcome with the SGP.22 status code, if any.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "rsp/http_client.hpp"
#include "rsp/lpa/download.hpp"
#include "world.hpp"

namespace rsp::e2e {

using nlohmann::json;

using Tamper = std::function<void(const std::string& function, json& body)>;
using TamperResponse = std::function<void(const std::string& function, json& body)>;

struct Attempt {
  std::optional<lpa::DownloadResult> result;
  std::string stage, subject, reason, what;
  std::string code() const { return subject + "/" + reason; }
  bool installed() const { return result && result->installation.success; }
};

// Runs a download through an interceptor that may edit requests and responses.
inline Attempt attempt(World& w, const std::string& matching_id, Tamper on_request = {}, TamperResponse on_response = {},
                       std::optional<std::string> cc = std::nullopt,
                       const std::function<void(lpa::DownloadOptions&)>& adjust = {}) {
  auto client = std::make_shared<http::Client>([&] {
    http::ClientConfig c;
    c.ca_file = w.tls_ca_pem;
    return c;
  }());
  lpa::DownloadOptions opt;
  opt.confirmation_code = cc;
  if (adjust) adjust(opt);
  opt.es9.post = [client, on_request, on_response](const std::string& url, const http::Headers& h,
                                                    const std::string& body) {
    std::string function = url.substr(url.rfind('/') + 1);
    std::string out = body;
    if (on_request) {
      auto j = json::parse(body);
      on_request(function, j);
      out = j.dump();
    }
    auto r = client->post(url, out, h);
    if (on_response && r.status == 200 && !r.body.empty()) {
      auto j = json::parse(r.body);
      on_response(function, j);
      r.body = j.dump();
    }
    return r;
  };
  Attempt a;
  try {
    a.result = lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code(matching_id)), opt);
  } catch (const lpa::DownloadError& e) {
    a.stage = e.stage;
    a.what = e.what();
    try {
      if (e.cause) std::rethrow_exception(e.cause);
    } catch (const lpa::Es9Error& es9) {
      a.subject = es9.subject_code;
      a.reason = es9.reason_code;
    } catch (...) {
    }
  }
  return a;
}


}  // namespace rsp::e2e
