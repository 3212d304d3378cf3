#include "rsp/activation_code.hpp"

#include <cctype>
#include <charconv>
#include <vector>

namespace rsp {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(const std::string& what) { throw ActivationCodeError("activation code: " + what); }

void check_address(std::string_view addr) {
  if (addr.empty()) fail("empty SM-DP+ address");
  std::string_view host = addr;
  if (auto colon = addr.rfind(':'); colon != std::string_view::npos) {
    host = addr.substr(0, colon);
    std::string_view port = addr.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
      fail("bad port in SM-DP+ address '" + std::string(addr) + "'");
  }
  if (host.empty() || host.size() > 253) fail("bad SM-DP+ address '" + std::string(addr) + "'");
  std::size_t label = 0;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (label == 0 || label > 63) fail("empty or over-long label in SM-DP+ address '" + std::string(addr) + "'");
      if (host[i - 1] == '-' || host[i - label] == '-')
        fail("label starts or ends with '-' in SM-DP+ address '" + std::string(addr) + "'");
      label = 0;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(host[i]);
    if (!std::isalnum(c) && c != '-') fail("bad character in SM-DP+ address '" + std::string(addr) + "'");
    ++label;
  }
}

void check_token(std::string_view token) {
  if (token.empty()) fail("empty AC_Token (MatchingID)");
  for (unsigned char c : token)
    if (c < 0x20 || c == 0x7F) fail("control character in AC_Token");
}

void check_oid(std::string_view oid) {
  std::size_t arcs = 0, digits = 0;
  for (std::size_t i = 0; i <= oid.size(); ++i) {
    if (i == oid.size() || oid[i] == '.') {
      if (digits == 0) fail("malformed SM-DP+ OID '" + std::string(oid) + "'");
      ++arcs;
      digits = 0;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(oid[i]))) fail("malformed SM-DP+ OID '" + std::string(oid) + "'");
    ++digits;
  }
  if (arcs < 2) fail("SM-DP+ OID needs at least two arcs: '" + std::string(oid) + "'");
}

}  // namespace

ActivationCode ActivationCode::parse(std::string_view text) {
  std::string_view s = trim(text);
  if (s.size() >= 4 && (s[0] == 'L' || s[0] == 'l') && (s[1] == 'P' || s[1] == 'p') && (s[2] == 'A' || s[2] == 'a') &&
      s[3] == ':')
    s.remove_prefix(4);

  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    auto pos = s.find('$', start);
    if (pos == std::string_view::npos) {
      fields.push_back(s.substr(start));
      break;
    }
    fields.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  if (fields[0] != "1") fail("unsupported AC_Format '" + std::string(fields[0]) + "' (expected '1')");
  if (fields.size() < 3) fail("expected at least 3 '$'-separated fields, got " + std::to_string(fields.size()));
  if (fields.size() > 5) fail("expected at most 5 '$'-separated fields, got " + std::to_string(fields.size()));
  if (fields.back().empty() && fields.size() > 3) fail("trailing empty field");

  ActivationCode ac;
  check_address(fields[1]);
  ac.smdp_address = std::string(fields[1]);
  check_token(fields[2]);
  ac.matching_id = std::string(fields[2]);
  if (fields.size() >= 4 && !fields[3].empty()) {
    check_oid(fields[3]);
    ac.smdp_oid = std::string(fields[3]);
  }
  if (fields.size() == 5) {
    if (fields[4] != "1")
      fail("Confirmation Code Required Flag must be '1' when present, got '" + std::string(fields[4]) + "'");
    ac.confirmation_code_required = true;
  }
  return ac;
}

std::string ActivationCode::to_string(bool with_prefix) const {
  std::string out = with_prefix ? "LPA:1$" : "1$";
  out += smdp_address;
  out += '$';
  out += matching_id;
  if (smdp_oid || confirmation_code_required) {
    out += '$';
    if (smdp_oid) out += *smdp_oid;
  }
  if (confirmation_code_required) out += "$1";
  return out;
}

}  // namespace rsp
