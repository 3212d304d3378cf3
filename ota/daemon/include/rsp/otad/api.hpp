// The home operator's API to otad (HTTPS with mutual TLS, JSON bodies;
// docs/ota.md, "The operator API"): register cards, send command scripts,
// the multi-account operations, command status with the PoR, campaigns.
//
// Every body is bounded before it is parsed (per-endpoint limits, JSON
// depth and size limits: issue 9); refusals carry an HTTP status and a short
// reason of ours, never a library's message.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "rsp/http_server.hpp"
#include "rsp/ota/card_store.hpp"
#include "rsp/otad/campaign_runner.hpp"
#include "rsp/otad/campaign_store.hpp"
#include "rsp/otad/config.hpp"
#include "rsp/otad/scp81_keys.hpp"

namespace rsp::otad {

constexpr std::string_view kApiPrefix = "/ota/v1/";

// The body limit of one path (what the HTTP front answers 413 to unread).
std::size_t api_body_limit(const Limits& limits, std::string_view path);

class Api;

// One route of the operator API (docs/ota.md, "The operator API"): "{}" is one
// path segment, passed to the handler in order. The one table both the router
// (Api::handle) and the metrics' endpoint labels (metrics.hpp) read.
struct ApiRoute {
  const char* method;
  std::vector<std::string_view> segments;
  const char* label;
  http::Response (*handler)(Api& api, const http::Request& req, const std::vector<std::string>& params);
};

class Api {
 public:
  static const std::vector<ApiRoute>& routes();

  // `scp81_on`: otad listens for admin sessions, so jobs may go over SCP81.
  Api(ota::CardStore& cards, CampaignStore& jobs, CampaignRunner& runner, const Limits& limits, double default_sms_per_second,
      Scp81Keys& scp81_keys, bool scp81_on);
  http::Response handle(const http::Request& req);

 private:
  http::Response register_card(const std::string& body);
  http::Response show_card(const std::string& iccid);
  http::Response delete_card(const std::string& iccid);
  http::Response command(const std::string& iccid, const std::string& body);
  http::Response account(const std::string& iccid, const std::string& method, const std::vector<std::string>& parts,
                         const std::string& body);
  // Remote application management at the ISD (remote_application.hpp).
  http::Response application(const std::string& iccid, const std::string& body);
  http::Response command_status(const std::string& id);
  http::Response create_campaign(const std::string& body);
  http::Response campaign_status(const std::string& id, bool with_cards);
  http::Response cancel_campaign(const std::string& id);
  // One job of one card: what command() and account() queue.
  http::Response queue_command(const std::string& iccid, const ota::Tar& tar, const std::string& spi_hex,
                               const Bytes& script, Transport transport, const std::string& kind = "command");

  ota::CardStore& cards_;
  CampaignStore& jobs_;
  CampaignRunner& runner_;
  Limits limits_;
  double default_rate_;
  Scp81Keys& scp81_keys_;
  bool scp81_on_;
};

}  // namespace rsp::otad
