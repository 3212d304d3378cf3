// The administration session triggering parameters of GlobalPlatform Card
// Specification Amendment B (Remote Application Management over HTTP),
// Table 3-3 and sections 3.8.1-3.8.6: what the OTA server puts in the secured
// data of the push SMS (an ETSI TS 102 225 command packet to the security
// domain's TAR) so that the card's admin agent opens an SCP81 session.
//
//   81 L  Administration session triggering parameters
//     83 L  Administration session parameters
//       84 L  Connection parameters: ETSI TS 102 223 OPEN CHANNEL TLVs
//             (35 bearer description, 39 buffer size, 3C UICC/terminal
//             interface transport level, 3E other address = the server)
//       85 L  Security parameters: PSK identity length, PSK identity,
//             '02', key version number, key identifier (3.8.2)
//       86 L  Retry policy: retry counter (2), retry waiting delay (5),
//             retry failure report (optional) (3.8.3)
//       89 L  HTTP POST parameters: 8A administration host (the Host
//             header), 8B agent ID (X-Admin-From), 8C administration URI
//             (the first POST's request target) (3.8.4-3.8.6)
//
// Every part is optional: what the trigger leaves out, the card takes from
// the parameters stored in its security domain. The DNS resolution
// parameters ('B3', Amendment B v1.2) and the extended security parameters
// ('A5') are not read: a decoder keeps such TLVs in `unknown` and an encoder
// writes them back after '83', inside '81'.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::ota::scp81 {

inline constexpr std::uint8_t kTagTriggeringParameters = 0x81;
inline constexpr std::uint8_t kTagAdminSessionParameters = 0x83;
inline constexpr std::uint8_t kTagConnectionParameters = 0x84;
inline constexpr std::uint8_t kTagSecurityParameters = 0x85;
inline constexpr std::uint8_t kTagRetryPolicy = 0x86;
inline constexpr std::uint8_t kTagHttpPostParameters = 0x89;
inline constexpr std::uint8_t kTagAdminHost = 0x8A;
inline constexpr std::uint8_t kTagAgentId = 0x8B;
inline constexpr std::uint8_t kTagAdminUri = 0x8C;

// TS 102 223 8.52, 8.55, 8.59, 8.58 (comprehension tags; a decoder accepts
// them with or without the comprehension-required bit '80').
inline constexpr std::uint8_t kTagBearerDescription = 0x35;
inline constexpr std::uint8_t kTagBufferSize = 0x39;
inline constexpr std::uint8_t kTagTransportLevel = 0x3C;
inline constexpr std::uint8_t kTagOtherAddress = 0x3E;

// TS 102 223 8.59: transport protocol type '02' = TCP, UICC in client mode,
// remote connection (the admin agent connects out to the server).
inline constexpr std::uint8_t kTransportTcpClientRemote = 0x02;
// TS 102 223 8.58: type of address '21' IPv4, '57' IPv6.
inline constexpr std::uint8_t kAddressIpv4 = 0x21;
inline constexpr std::uint8_t kAddressIpv6 = 0x57;

struct ConnectionParameters {
  Bytes bearer_description = {0x03};  // bearer type '03': default bearer for the requested transport layer
  std::optional<std::uint16_t> buffer_size;
  std::uint8_t transport_protocol = kTransportTcpClientRemote;
  std::uint16_t port = 0;
  std::uint8_t address_type = kAddressIpv4;
  Bytes address;  // 4 bytes (IPv4) or 16 (IPv6); empty with the default type: no '3E' TLV (not in the trigger)
  bool operator==(const ConnectionParameters&) const = default;

  // "192.0.2.1" for an IPv4 address; throws std::invalid_argument otherwise.
  std::string ipv4_text() const;
};

struct SecurityParameters {
  Bytes psk_identity;        // TLS PSK identity, as the card sends it in ClientKeyExchange
  std::uint8_t key_version = 0;  // the PSK's key version number in the security domain
  std::uint8_t key_id = 0;       // its key identifier
  bool operator==(const SecurityParameters&) const = default;
};

struct RetryPolicy {
  std::uint16_t retry_counter = 0;
  Bytes retry_waiting_delay;  // 5 bytes, as Amendment B 3.8.3 codes it (kept as given)
  Bytes retry_failure_report;  // optional; empty = absent
  bool operator==(const RetryPolicy&) const = default;
};

struct HttpPostParameters {
  std::optional<std::string> admin_host;  // 8A: the Host header
  std::optional<std::string> agent_id;    // 8B: X-Admin-From
  std::optional<std::string> admin_uri;   // 8C: the first POST's target
  bool operator==(const HttpPostParameters&) const = default;
};

struct TriggeringParameters {
  std::optional<ConnectionParameters> connection;
  std::optional<SecurityParameters> security;
  std::optional<RetryPolicy> retry;
  std::optional<HttpPostParameters> http_post;
  Bytes unknown;  // TLVs inside '81' or '83' this decoder does not read, in order (e.g. 'B3', 'A5')
  bool operator==(const TriggeringParameters&) const = default;
};

// The '81' TLV. Throws std::invalid_argument for values that do not fit
// (a PSK identity over 255 bytes, an address of the wrong length, a retry
// waiting delay that is not 5 bytes).
Bytes encode_triggering_parameters(const TriggeringParameters& t);
// Throws DecodeError: not an '81' TLV, trailing bytes, a part that does not
// have its layout.
TriggeringParameters decode_triggering_parameters(ByteView tlv);

}  // namespace rsp::ota::scp81
