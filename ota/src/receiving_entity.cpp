#include "rsp/ota/receiving_entity.hpp"

#include <stdexcept>

#include "rsp/ota/response_packet.hpp"

namespace rsp::ota {

bool por_expected(const Verdict& v) {
  if (!v.header) return false;  // no TAR to answer for
  switch (v.header->spi.por) {
    case PorRequest::None: return false;
    case PorRequest::Always: return true;
    case PorRequest::OnError: return !v.accepted();
  }
  return false;
}

bool meets_minimum_security_level(const Spi& spi, std::uint8_t msl) {
  auto need_sum = static_cast<unsigned>(msl & 0x03);
  bool need_cipher = msl & 0x04;
  auto need_counter = static_cast<unsigned>((msl >> 3) & 0x03);
  return static_cast<unsigned>(spi.rc_cc_ds) >= need_sum && (spi.ciphering || !need_cipher) &&
         static_cast<unsigned>(spi.counter) >= need_counter;
}

void ReceivingEntity::add_key_set(KeySet k) {
  std::uint8_t v = k.version;
  key_sets_[v] = std::move(k);
  counters_.try_emplace(v, 0);
}

void ReceivingEntity::add_application(const Tar& tar, std::uint8_t msl) { msl_[tar] = msl; }
void ReceivingEntity::remove_application(const Tar& tar) { msl_.erase(tar); }

std::uint64_t ReceivingEntity::counter(std::uint8_t key_version) const { return counters_.at(key_version); }

void ReceivingEntity::set_counter(std::uint8_t key_version, std::uint64_t value) {
  if (value > kMaxCounter) throw std::invalid_argument("counter does not fit 5 bytes");
  counters_[key_version] = value;
}

const KeySet* ReceivingEntity::key_set_for(const CommandHeader& h, std::string& why) const {
  bool uses_kic = h.spi.ciphering, uses_kid = h.spi.rc_cc_ds != RcCcDs::None;
  std::uint8_t kic_v = h.kic >> 4, kid_v = h.kid >> 4;
  // Annex A: the KIc and KID of one packet come from one key set.
  if (uses_kic && uses_kid && kic_v != kid_v) {
    why = "KIc key version " + std::to_string(kic_v) + " and KID key version " + std::to_string(kid_v) + " differ";
    return nullptr;
  }
  std::uint8_t v = uses_kic ? kic_v : uses_kid ? kid_v : (kid_v ? kid_v : kic_v);
  auto it = key_sets_.find(v);
  if (it == key_sets_.end()) {
    why = "no key set with key version " + std::to_string(v);
    return nullptr;
  }
  return &it->second;
}

Verdict ReceivingEntity::receive(ByteView packet) {
  Verdict v;
  Tar tar{};
  if (peek_tar(packet, tar)) {
    // The TAR routes even a packet whose SPI cannot be read: the header is
    // kept for the PoR (unsecured, since the status is then 06).
    v.header = CommandHeader{};
    v.header->tar = tar;
    v.header->kic = packet[5];
    v.header->kid = packet[6];
    try {
      v.header->spi = Spi::decode(packet[3], packet[4]);
    } catch (const PacketError&) {
      // reserved bits: the SPI (and so its PoR request) means nothing
    }
  }
  CommandPacketView view;
  try {
    view = read_command_packet(packet);
  } catch (const PacketError& e) {
    v.status = e.status;
    v.reason = e.what();
    return v;
  }
  v.header = view.header;
  const CommandHeader& h = view.header;
  if (h.spi.rc_cc_ds != RcCcDs::None) v.checksum_length = view.chl - 13u;

  auto app = msl_.find(h.tar);
  if (app == msl_.end()) {
    v.status = ResponseStatus::TarUnknown;
    v.reason = "no application at TAR " + to_hex(h.tar, true);
    return v;
  }
  if (!meets_minimum_security_level(h.spi, app->second)) {
    v.status = ResponseStatus::InsufficientSecurityLevel;
    v.reason = "SPI " + to_hex(h.spi.encode(), true) + " is below the minimum security level " +
               to_hex(Bytes{app->second}, true) + " of TAR " + to_hex(h.tar, true);
    return v;
  }
  std::string why;
  const KeySet* keys = key_set_for(h, why);
  bool needs_keys = h.spi.ciphering || h.spi.rc_cc_ds == RcCcDs::Cc || h.spi.counter != CounterMode::None;
  static const KeySet kNoKeys{};
  if (!keys && needs_keys) {
    v.status = ResponseStatus::UnidentifiedSecurityError;
    v.reason = why;
    return v;
  }
  OpenedCommandPacket opened;
  try {
    opened = open_command_packet(packet, keys ? *keys : kNoKeys);
  } catch (const PacketError& e) {
    v.status = e.status;
    v.reason = e.what();
    return v;
  }
  v.cntr = opened.cntr;

  if (h.spi.counter == CounterMode::ProcessIfHigher || h.spi.counter == CounterMode::ProcessIfOneHigher) {
    std::uint64_t& mine = counters_[keys->version];
    if (mine >= kMaxCounter) {
      v.status = ResponseStatus::CntrBlocked;
      v.reason = "the counter of key version " + std::to_string(keys->version) + " has reached its maximum";
      return v;
    }
    if (opened.cntr <= mine) {
      v.status = ResponseStatus::CntrLow;
      v.reason = "CNTR " + std::to_string(opened.cntr) + " is not above " + std::to_string(mine);
      return v;
    }
    if (h.spi.counter == CounterMode::ProcessIfOneHigher && opened.cntr != mine + 1) {
      v.status = ResponseStatus::CntrHigh;
      v.reason = "CNTR " + std::to_string(opened.cntr) + " is more than one above " + std::to_string(mine);
      return v;
    }
    mine = opened.cntr;  // moved forward before anything executes
  }
  v.status = ResponseStatus::PorOk;
  v.secured_data = std::move(opened.secured_data);
  return v;
}

Bytes ReceivingEntity::respond(const Verdict& v, ByteView additional_data) const {
  if (!por_expected(v)) return {};
  ResponsePacket r;
  r.tar = v.header->tar;
  r.cntr = v.cntr;
  r.status = static_cast<std::uint8_t>(v.status);
  r.additional_data.assign(additional_data.begin(), additional_data.end());
  std::string why;
  const KeySet* keys = key_set_for(*v.header, why);
  bool secured = v.status != ResponseStatus::UnidentifiedSecurityError &&
                 (v.header->spi.por_ciphered || v.header->spi.por_rc_cc_ds != RcCcDs::None);
  if (secured && !keys) r.status = static_cast<std::uint8_t>(ResponseStatus::UnidentifiedSecurityError);
  static const KeySet kNoKeys{};
  try {
    // The PoR's CC has the command's length when both are the same kind
    // (AES-CMAC: 4 or 8); otherwise the algorithm's own.
    std::size_t len = v.header->spi.por_rc_cc_ds == v.header->spi.rc_cc_ds ? v.checksum_length : 0;
    return build_response_packet(r, *v.header, keys ? *keys : kNoKeys, len);
  } catch (const PacketError&) {
    // The PoR cannot be secured as asked (e.g. an AES-CMAC length the RC does
    // not have): say so unsecured.
    r.status = static_cast<std::uint8_t>(ResponseStatus::UnidentifiedSecurityError);
    r.additional_data.clear();
    return build_response_packet(r, *v.header, kNoKeys);
  }
}

}  // namespace rsp::ota
