// GlobalPlatform Amendment B Table 3-3: the administration session
// triggering parameters, both ways (see scp81_trigger.hpp).
#include "rsp/ota/scp81_trigger.hpp"

#include <stdexcept>

#include "rsp/tlv.hpp"

namespace rsp::ota::scp81 {

namespace {

Bytes u16(std::uint16_t v) { return {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}; }

std::uint16_t read_u16(ByteView v, const char* what) {
  if (v.size() != 2) throw DecodeError(std::string(what) + ": expected 2 bytes");
  return static_cast<std::uint16_t>(v[0] << 8 | v[1]);
}

// TS 102 223 comprehension tags: the top bit is "comprehension required".
std::uint32_t simple_tag(std::uint32_t tag) { return tag & 0x7F; }

Bytes encode_connection(const ConnectionParameters& c) {
  // No address (empty, of the default type): the '3E' TLV is left out (a
  // trigger may omit it; the card then resolves the admin host), as the
  // decoder reads it. An address of another type is kept even when empty.
  const bool has_address = !c.address.empty() || c.address_type != kAddressIpv4;
  if (has_address && c.address_type == kAddressIpv4 && c.address.size() != 4)
    throw std::invalid_argument("connection parameters: an IPv4 address has 4 bytes");
  if (has_address && c.address_type == kAddressIpv6 && c.address.size() != 16)
    throw std::invalid_argument("connection parameters: an IPv6 address has 16 bytes");
  Bytes v = tlv::make(kTagBearerDescription, c.bearer_description);
  if (c.buffer_size) append(v, tlv::make(kTagBufferSize, u16(*c.buffer_size)));
  Bytes transport{c.transport_protocol};
  append(transport, u16(c.port));
  append(v, tlv::make(kTagTransportLevel, transport));
  if (has_address) {
    Bytes addr{c.address_type};
    append(addr, c.address);
    append(v, tlv::make(kTagOtherAddress, addr));
  }
  return tlv::make(kTagConnectionParameters, v);
}

ConnectionParameters decode_connection(ByteView value) {
  ConnectionParameters c;
  c.bearer_description.clear();
  bool have_transport = false;
  for (const auto& t : tlv::parse_all(value)) {
    switch (simple_tag(t.tag)) {
      case kTagBearerDescription:
        c.bearer_description.assign(t.value.begin(), t.value.end());
        break;
      case kTagBufferSize:
        c.buffer_size = read_u16(t.value, "buffer size");
        break;
      case kTagTransportLevel:
        if (t.value.size() != 3) throw DecodeError("transport level: expected 3 bytes");
        c.transport_protocol = t.value[0];
        c.port = static_cast<std::uint16_t>(t.value[1] << 8 | t.value[2]);
        have_transport = true;
        break;
      case kTagOtherAddress:
        if (t.value.empty()) throw DecodeError("other address: empty");
        c.address_type = t.value[0];
        c.address.assign(t.value.begin() + 1, t.value.end());
        if ((c.address_type == kAddressIpv4 && c.address.size() != 4) ||
            (c.address_type == kAddressIpv6 && c.address.size() != 16))
          throw DecodeError("other address: wrong length for its type");
        break;
      default:
        break;  // other OPEN CHANNEL TLVs (network access name, login, ...) are the terminal's business
    }
  }
  if (!have_transport) throw DecodeError("connection parameters without a transport level (port)");
  return c;
}

Bytes encode_security(const SecurityParameters& s) {
  if (s.psk_identity.size() > 255) throw std::invalid_argument("security parameters: PSK identity over 255 bytes");
  // Amendment B 3.8.2: identity length, identity, then the key identification
  // as a length ('02') and the key version number and key identifier.
  Bytes v{static_cast<std::uint8_t>(s.psk_identity.size())};
  append(v, s.psk_identity);
  append(v, Bytes{0x02, s.key_version, s.key_id});
  return tlv::make(kTagSecurityParameters, v);
}

SecurityParameters decode_security(ByteView v) {
  SecurityParameters s;
  if (v.empty()) throw DecodeError("security parameters: empty");
  std::size_t n = v[0];
  if (v.size() < 1 + n + 3) throw DecodeError("security parameters: truncated");
  s.psk_identity.assign(v.begin() + 1, v.begin() + 1 + static_cast<std::ptrdiff_t>(n));
  if (v[1 + n] != 0x02) throw DecodeError("security parameters: key identification length is not 2");
  s.key_version = v[2 + n];
  s.key_id = v[3 + n];
  // A hash algorithm byte may follow in later versions of Amendment B; it is not read.
  return s;
}

Bytes encode_retry(const RetryPolicy& r) {
  if (r.retry_waiting_delay.size() != 5) throw std::invalid_argument("retry policy: waiting delay is 5 bytes");
  Bytes v = u16(r.retry_counter);
  append(v, r.retry_waiting_delay);
  append(v, r.retry_failure_report);
  return tlv::make(kTagRetryPolicy, v);
}

RetryPolicy decode_retry(ByteView v) {
  if (v.size() < 7) throw DecodeError("retry policy: truncated");
  RetryPolicy r;
  r.retry_counter = static_cast<std::uint16_t>(v[0] << 8 | v[1]);
  r.retry_waiting_delay.assign(v.begin() + 2, v.begin() + 7);
  r.retry_failure_report.assign(v.begin() + 7, v.end());
  return r;
}

Bytes encode_http_post(const HttpPostParameters& h) {
  Bytes v;
  if (h.admin_host) append(v, tlv::make(kTagAdminHost, to_bytes(*h.admin_host)));
  if (h.agent_id) append(v, tlv::make(kTagAgentId, to_bytes(*h.agent_id)));
  if (h.admin_uri) append(v, tlv::make(kTagAdminUri, to_bytes(*h.admin_uri)));
  return tlv::make(kTagHttpPostParameters, v);
}

HttpPostParameters decode_http_post(ByteView value) {
  HttpPostParameters h;
  for (const auto& t : tlv::parse_all(value)) {
    if (t.tag == kTagAdminHost) h.admin_host = to_string(t.value);
    else if (t.tag == kTagAgentId) h.agent_id = to_string(t.value);
    else if (t.tag == kTagAdminUri) h.admin_uri = to_string(t.value);
    else throw DecodeError("HTTP POST parameters: unknown tag " + to_hex(t.raw.first(1)));
  }
  return h;
}

}  // namespace

std::string ConnectionParameters::ipv4_text() const {
  if (address_type != kAddressIpv4 || address.size() != 4) throw std::invalid_argument("not an IPv4 address");
  return std::to_string(address[0]) + "." + std::to_string(address[1]) + "." + std::to_string(address[2]) + "." +
         std::to_string(address[3]);
}

Bytes encode_triggering_parameters(const TriggeringParameters& t) {
  Bytes session;
  if (t.connection) append(session, encode_connection(*t.connection));
  if (t.security) append(session, encode_security(*t.security));
  if (t.retry) append(session, encode_retry(*t.retry));
  if (t.http_post) append(session, encode_http_post(*t.http_post));
  Bytes outer = tlv::make(kTagAdminSessionParameters, session);
  append(outer, t.unknown);
  return tlv::make(kTagTriggeringParameters, outer);
}

TriggeringParameters decode_triggering_parameters(ByteView in) {
  auto outer = tlv::parse_one(in);
  if (outer.tag != kTagTriggeringParameters) throw DecodeError("not administration session triggering parameters ('81')");
  if (outer.raw.size() != in.size()) throw DecodeError("triggering parameters: bytes after the '81' TLV");
  TriggeringParameters t;
  for (const auto& part : tlv::parse_all(outer.value)) {
    if (part.tag != kTagAdminSessionParameters) {
      append(t.unknown, part.raw);
      continue;
    }
    for (const auto& p : tlv::parse_all(part.value)) {
      switch (p.tag) {
        case kTagConnectionParameters: t.connection = decode_connection(p.value); break;
        case kTagSecurityParameters: t.security = decode_security(p.value); break;
        case kTagRetryPolicy: t.retry = decode_retry(p.value); break;
        case kTagHttpPostParameters: t.http_post = decode_http_post(p.value); break;
        default: append(t.unknown, p.raw); break;
      }
    }
  }
  return t;
}

}  // namespace rsp::ota::scp81
