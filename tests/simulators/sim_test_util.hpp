// Shared helpers for the simulator tests: a generated SGP.26-shaped PKI, an
// Euicc built from it, and an LPA-like ES10 exchange (STORE DATA blocks of
// 120 bytes, 61xx / GET RESPONSE).
#pragma once
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "rsp/apdu.hpp"
#include "rsp/pki.hpp"
#include "rsp/sim/euicc.hpp"

namespace rsp::sim::test {

inline const certs::Pki& pki(crypto::Curve c = crypto::Curve::P256) {
  static const certs::Pki nist = certs::generate_pki({});
  static const certs::Pki brp = [] {
    certs::PkiOptions o;
    o.curve = crypto::Curve::BrainpoolP256r1;
    return certs::generate_pki(o);
  }();
  return c == crypto::Curve::P256 ? nist : brp;
}

// A second, unrelated PKI (a CI the eUICC does not trust).
inline const certs::Pki& foreign_pki() {
  static const certs::Pki p = [] {
    certs::PkiOptions o;
    o.dp_host = "rogue.example.com";
    return certs::generate_pki(o);
  }();
  return p;
}

inline EuiccConfig config_for(const certs::Pki& p, const std::string& state_path = "") {
  EuiccConfig c;
  c.euicc_cert_der = p.euicc.der;
  auto pem = p.euicc.key.private_pem();
  c.euicc_key = Bytes(pem.begin(), pem.end());
  c.eum_cert_der = p.eum.der;
  c.ci_certs_der = {p.ci.der};
  c.state_path = state_path;
  return c;
}

inline std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("rsp-sim-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::filesystem::remove(p);
  return p.string();
}

inline apdu::Response tx(apdu::Transport& card, const std::string& hex) {
  return apdu::Response::parse(card.transmit(from_hex(hex)));
}

inline std::uint8_t cla_for(std::uint8_t base, std::uint8_t channel) {
  if (channel < 4) return static_cast<std::uint8_t>(base | channel);
  return static_cast<std::uint8_t>((base & 0x80) | 0x40 | (channel - 4));
}

// Selects the ISD-R on `channel` (which must be open).
inline void select_isdr(apdu::Transport& card, std::uint8_t channel = 0) {
  apdu::Command c{cla_for(0x00, channel), 0xA4, 0x04, 0x00, kIsdrAid, 256};
  auto r = apdu::Response::parse(card.transmit(c.encode()));
  ASSERT_EQ(r.sw, 0x9000);
}

// Sends one ES10 command as STORE DATA blocks and collects the answer
// (following 61xx with GET RESPONSE). Returns the response; sw receives the
// final status word.
inline Bytes es10(apdu::Transport& card, ByteView request, std::uint16_t* sw = nullptr, std::uint8_t channel = 0,
                  std::size_t block = 120) {
  std::size_t n = (request.size() + block - 1) / block;
  if (n == 0) n = 1;
  Bytes out;
  for (std::size_t i = 0; i < n; ++i) {
    bool last = i + 1 == n;
    apdu::Command c{cla_for(0x80, channel), 0xE2, static_cast<std::uint8_t>(last ? 0x91 : 0x11),
                    static_cast<std::uint8_t>(i), Bytes(request.begin() + static_cast<std::ptrdiff_t>(i * block),
                                                        request.begin() + static_cast<std::ptrdiff_t>(std::min(request.size(), (i + 1) * block))),
                    last ? std::optional<std::size_t>(256) : std::nullopt};
    auto r = apdu::Response::parse(card.transmit(c.encode()));
    if (!last) {
      if (r.sw != 0x9000) {
        if (sw) *sw = r.sw;
        return {};
      }
      continue;
    }
    append(out, r.data);
    while (r.sw1() == 0x61) {
      apdu::Command g{cla_for(0x00, channel), 0xC0, 0, 0, {}, r.sw2() ? r.sw2() : 256};
      r = apdu::Response::parse(card.transmit(g.encode()));
      append(out, r.data);
    }
    if (sw) *sw = r.sw;
  }
  return out;
}

}  // namespace rsp::sim::test
