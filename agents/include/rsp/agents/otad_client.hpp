// The home operator's client of its OTA server's operator API (otad,
// docs/ota.md "The operator API") over mutual TLS: what the home agent calls
// to install a visited operator's account into a subscriber's multi-account
// SIM and switch the card to it. The transport is a parameter: "sms" (SCP80
// secured packets over SMPP, otad's default) or "scp81" (PSK-TLS, GP Amd B).
#pragma once
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/http_client.hpp"

namespace rsp::agents {

// otad refused a call: its HTTP status and {"error"} reason.
struct OtadError : std::runtime_error {
  OtadError(int status, const std::string& reason)
      : std::runtime_error("otad: HTTP " + std::to_string(status) + ": " + reason), http_status(status) {}
  int http_status;
};

struct OtaAccount {
  int slot = 1;  // the applet's account id, 1..254
  std::string imsi;
  SecretBytes ki, opc;
  std::string spn, label;
};

// A command's state as otad reports it (GET /ota/v1/commands/ID).
struct OtaCommandStatus {
  std::string id, state;  // queued, sent, retrying; final: por_ok, done (SCP81), por_error, expired, cancelled, failed
  std::optional<std::string> por_status, por_status_name;  // TS 102 225 status, "00" / "PoR OK"
  // The response script (TS 102 226 5.1.2): commands executed and their
  // R-APDUs (hex, data || SW). PoR OK says the packet passed its checks and
  // ran; whether the applet took the account is in the status words.
  int executed = -1;
  std::vector<std::string> r_apdus;
  bool final() const;
  // Final, delivered (PoR OK, or SCP81 done), and every R-APDU 90 00 / 91 xx.
  bool success() const;
  std::string describe() const;
};

class OtadClient {
 public:
  // `base_url`: "https://host:port"; `tls`: the home operator's client
  // certificate and otad's CA.
  OtadClient(std::string base_url, http::ClientConfig tls, std::string transport = "sms");

  const std::string& transport() const { return transport_; }
  // GET /ota/v1/cards/ICCID: false on 404.
  bool card_known(const std::string& iccid);
  // POST /ota/v1/cards/ICCID/accounts (STORE ACCOUNT): the command's id.
  std::string install_account(const std::string& iccid, const OtaAccount& a);
  // POST /ota/v1/cards/ICCID/accounts/N/switch (SWITCH ACCOUNT, then REFRESH).
  std::string switch_account(const std::string& iccid, int slot);
  OtaCommandStatus command(const std::string& id);
  // Polls command(id) until it is final or `timeout` has passed (then
  // returns the last, not final, status).
  OtaCommandStatus wait(const std::string& id, std::chrono::milliseconds timeout,
                        std::chrono::milliseconds interval = std::chrono::milliseconds(50));

 private:
  std::string queue(const std::string& path, const std::string& body);
  std::string base_url_;
  http::Client client_;
  std::string transport_;
};

}  // namespace rsp::agents
