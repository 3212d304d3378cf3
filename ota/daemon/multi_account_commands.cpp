#include "rsp/otad/multi_account_commands.hpp"

#include <stdexcept>

namespace rsp::otad {

namespace {

void check_slot(std::uint8_t id) {
  if (id < 1 || id > 0xFE) throw std::invalid_argument("account id must be 1 to 254");
}

// EF.SPN (TS 31.102 4.2.12): display condition, then the name in the SMS
// default alphabet (TS 23.038 6.2.1, 8-bit unpacked), FF-padded to 16. The
// characters allowed here have the same code in that alphabet as in ASCII.
Bytes spn_file(const std::string& spn) {
  if (spn.size() > 16 || spn.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-") !=
                             std::string::npos)
    throw std::invalid_argument("spn must be up to 16 letters, digits, spaces, dots or hyphens");
  Bytes out{0x00};
  for (char c : spn) out.push_back(static_cast<std::uint8_t>(c));
  while (out.size() < 17) out.push_back(0xFF);
  return out;
}

// EF IMSI coding (TS 31.102 4.2.2): length, then the digits in BCD with the
// parity nibble first.
Bytes imsi_bytes(const std::string& imsi) {
  if (imsi.size() < 6 || imsi.size() > 15 || imsi.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("imsi must be 6 to 15 digits");
  std::string d = std::string(1, imsi.size() % 2 ? '9' : '1') + imsi;  // parity: odd 9 (1001), even 1
  if (d.size() % 2) d += 'F';
  Bytes out{static_cast<std::uint8_t>(d.size() / 2)};
  for (std::size_t i = 0; i < d.size(); i += 2) {
    auto nib = [](char c) { return static_cast<std::uint8_t>(c == 'F' ? 0xF : c - '0'); };
    out.push_back(static_cast<std::uint8_t>(nib(d[i + 1]) << 4 | nib(d[i])));
  }
  while (out.size() < 9) out.push_back(0xFF);  // EF.IMSI is 9 bytes
  return out;
}

void tlv(Bytes& out, std::uint8_t tag, ByteView v) {
  if (v.size() > 127) throw std::invalid_argument("account field too long");
  out.push_back(tag);
  out.push_back(static_cast<std::uint8_t>(v.size()));
  out.insert(out.end(), v.begin(), v.end());
}

Bytes apdu(std::uint8_t ins, std::uint8_t p1, std::uint8_t p2, ByteView data = {}) {
  Bytes c{0x80, ins, p1, p2};
  if (!data.empty()) {
    if (data.size() > 255) throw std::invalid_argument("account data too long");
    c.push_back(static_cast<std::uint8_t>(data.size()));
    for (std::uint8_t b : data) c.push_back(b);
  }
  return c;
}

Bytes select_applet() {
  Bytes aid = multi_account_aid();
  Bytes c = from_hex("00A40400");
  c.push_back(static_cast<std::uint8_t>(aid.size()));
  for (std::uint8_t b : aid) c.push_back(b);
  return c;
}

}  // namespace

ota::Tar multi_account_tar() { return {0x4D, 0x41, 0x53}; }
Bytes multi_account_aid() { return from_hex("F05253504D4101"); }

std::vector<Bytes> install_account_apdus(const Account& a) {
  check_slot(a.id);
  if (a.ki.size() != 16 || a.opc.size() != 16) throw std::invalid_argument("ki and opc must be 16 bytes each");
  if (a.label.size() > 32) throw std::invalid_argument("label must be at most 32 bytes");
  Bytes t;  // the account template's content (docs/multi-account-applet.md)
  tlv(t, 0x80, Bytes{a.id});
  tlv(t, 0x81, imsi_bytes(a.imsi));
  tlv(t, 0x82, a.ki);
  tlv(t, 0x83, a.opc);
  if (!a.spn.empty()) tlv(t, 0x89, spn_file(a.spn));
  if (!a.label.empty()) tlv(t, 0x8A, to_bytes(a.label));
  Bytes data;
  tlv(data, 0xA0, t);
  return {select_applet(), apdu(0x1A, 0x00, 0x00, data)};  // STORE ACCOUNT
}

std::vector<Bytes> switch_account_apdus(std::uint8_t id) {
  check_slot(id);
  return {select_applet(), apdu(0x3A, id, 0x00)};  // SWITCH ACCOUNT
}

std::vector<Bytes> delete_account_apdus(std::uint8_t id) {
  check_slot(id);
  return {select_applet(), apdu(0x1C, id, 0x00)};  // DELETE ACCOUNT
}

}  // namespace rsp::otad
