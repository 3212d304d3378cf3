#include "rsp/gp/commands.hpp"

#include <array>
#include <string_view>

#include "rsp/crypto.hpp"
#include "rsp/tlv.hpp"

namespace rsp::gp {

namespace {
// Length-prefixed field (INSTALL data, 11.5.2.3): one length byte.
void lv(Bytes& out, ByteView v) {
  if (v.size() > 255) throw DecodeError("INSTALL field longer than 255 bytes");
  out.push_back(static_cast<std::uint8_t>(v.size()));
  append(out, v);
}
Bytes take_lv(ByteView d, std::size_t& off) {
  if (off >= d.size()) throw DecodeError("INSTALL data truncated");
  std::size_t n = d[off++];
  if (off + n > d.size()) throw DecodeError("INSTALL data truncated");
  Bytes v(d.begin() + static_cast<std::ptrdiff_t>(off), d.begin() + static_cast<std::ptrdiff_t>(off + n));
  off += n;
  return v;
}
apdu::Command cmd(std::uint8_t ins, std::uint8_t p1, std::uint8_t p2, Bytes data, std::optional<std::size_t> le = std::nullopt) {
  return apdu::Command{kClaGp, ins, p1, p2, std::move(data), le};
}

struct PrivilegeName {
  int byte;
  std::uint8_t mask;   // bits that must all be set
  std::string_view name;
};
// GP 2.3.1 Table 6-1 (the names GlobalPlatformPro also prints).
constexpr std::array<PrivilegeName, 20> kPrivileges{{
    {0, 0x80, "SecurityDomain"}, {0, 0xC0, "DAPVerification"}, {0, 0xA0, "DelegatedManagement"},
    {0, 0x10, "CardLock"}, {0, 0x08, "CardTerminate"}, {0, 0x04, "CardReset"}, {0, 0x02, "CVMManagement"},
    {0, 0xC1, "MandatedDAPVerification"}, {1, 0x80, "TrustedPath"}, {1, 0x40, "AuthorizedManagement"},
    {1, 0x20, "TokenVerification"}, {1, 0x10, "GlobalDelete"}, {1, 0x08, "GlobalLock"}, {1, 0x04, "GlobalRegistry"},
    {1, 0x02, "FinalApplication"}, {1, 0x01, "GlobalService"}, {2, 0x80, "ReceiptGeneration"},
    {2, 0x40, "CipheredLoadFileDataBlock"}, {2, 0x20, "ContactlessActivation"}, {2, 0x10, "ContactlessSelfActivation"},
}};
}  // namespace

std::string command_name(std::uint8_t i) {
  switch (i) {
    case ins::kDelete: return "DELETE";
    case ins::kGetData: return "GET DATA";
    case ins::kGetStatus: return "GET STATUS";
    case ins::kInstall: return "INSTALL";
    case ins::kLoad: return "LOAD";
    case ins::kPutKey: return "PUT KEY";
    case ins::kSelect: return "SELECT";
    case ins::kSetStatus: return "SET STATUS";
    case ins::kStoreData: return "STORE DATA";
    case ins::kInitializeUpdate: return "INITIALIZE UPDATE";
    case ins::kExternalAuthenticate: return "EXTERNAL AUTHENTICATE";
    default: return "INS " + to_hex(Bytes{i}, true);
  }
}

apdu::Command select(ByteView aid) { return apdu::Command{0x00, ins::kSelect, 0x04, 0x00, Bytes(aid.begin(), aid.end()), 256}; }

apdu::Command get_status(StatusScope scope, bool next, ByteView aid_filter) {
  // Search criteria 4F (empty: all), TLV format (P2 b2), next occurrence (P2 b1).
  return cmd(ins::kGetStatus, static_cast<std::uint8_t>(scope), next ? 0x03 : 0x02, tlv::make(0x4F, aid_filter), 256);
}

std::vector<RegistryEntry> parse_get_status(StatusScope scope, ByteView data) {
  std::vector<RegistryEntry> out;
  for (const auto& e3 : tlv::parse_all(data)) {
    if (e3.tag != 0xE3) throw DecodeError("GET STATUS response: expected E3, got another tag");
    RegistryEntry r;
    r.scope = scope;
    for (const auto& t : tlv::parse_all(e3.value)) {
      Bytes v(t.value.begin(), t.value.end());
      switch (t.tag) {
        case 0x4F: r.aid = v; break;
        case 0x9F70: r.life_cycle = v.empty() ? 0 : v[0]; break;
        case 0xC5: r.privileges = v; break;
        case 0xC4: r.load_file_aid = v; break;
        case 0xCC: r.associated_sd = v; break;
        case 0xCE: r.version = v; break;
        case 0x84: r.modules.push_back(v); break;
        default: break;  // proprietary and later-version tags are skipped
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string life_cycle_name(StatusScope scope, std::uint8_t lc, bool is_sd) {
  if (scope == StatusScope::Isd) {  // Table 11-3: card life cycle
    switch (lc) {
      case 0x01: return "OP_READY";
      case 0x07: return "INITIALIZED";
      case 0x0F: return "SECURED";
      case 0x7F: return "CARD_LOCKED";
      case 0xFF: return "TERMINATED";
      default: return "UNKNOWN";
    }
  }
  if (scope == StatusScope::LoadFiles || scope == StatusScope::LoadFilesAndModules) return lc == 0x01 ? "LOADED" : "UNKNOWN";
  if (lc & 0x80) return "LOCKED";  // Tables 11-4 / 11-5: b8 set = locked
  switch (lc) {
    case 0x03: return "INSTALLED";
    case 0x07: return "SELECTABLE";
    case 0x0F: return is_sd ? "PERSONALIZED" : "SELECTABLE (application specific 0F)";
    default: return "SELECTABLE (application specific " + to_hex(Bytes{lc}, true) + ")";
  }
}

std::vector<std::string> privilege_names(ByteView p) {
  std::vector<std::string> out;
  for (const auto& n : kPrivileges) {
    if (n.byte >= static_cast<int>(p.size())) continue;
    std::uint8_t b = p[static_cast<std::size_t>(n.byte)];
    if ((b & n.mask) != n.mask) continue;
    // Composite names (SD + x) hide neither the SD bit nor each other.
    out.emplace_back(n.name);
  }
  return out;
}

Bytes privileges_from_names(const std::vector<std::string>& names) {
  Bytes p(3, 0);
  for (const auto& name : names) {
    bool found = false;
    for (const auto& n : kPrivileges)
      if (name == n.name) {
        p[static_cast<std::size_t>(n.byte)] |= n.mask;
        found = true;
      }
    if (!found) throw DecodeError("unknown privilege '" + name + "'");
  }
  return p;
}

apdu::Command get_data(std::uint16_t tag) {
  return cmd(ins::kGetData, static_cast<std::uint8_t>(tag >> 8), static_cast<std::uint8_t>(tag), {}, 256);
}

std::vector<KeyInfo> parse_key_information(ByteView resp) {
  std::vector<KeyInfo> out;
  auto e0 = tlv::parse_one(resp);
  if (e0.tag != 0xE0) throw DecodeError("key information template: expected E0");
  for (const auto& c0 : tlv::parse_all(e0.value)) {
    if (c0.tag != 0xC0 || c0.value.size() < 4) continue;
    KeyInfo k;
    k.id = c0.value[0];
    k.version = c0.value[1];
    k.type = c0.value[2];
    k.length = c0.value[3];
    out.push_back(k);
  }
  return out;
}

CardRecognition parse_card_data(ByteView resp) {
  static const Bytes kGp{0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B};  // 1.2.840.114283
  auto t = tlv::parse_one(resp);
  if (t.tag == 0x66) t = tlv::parse_one(t.value);
  if (t.tag != 0x73) throw DecodeError("card recognition data: expected 73");
  CardRecognition out;
  auto gp_arcs = [&](ByteView oid) -> std::optional<Bytes> {
    if (oid.size() < kGp.size() || !std::equal(kGp.begin(), kGp.end(), oid.begin())) return std::nullopt;
    return Bytes(oid.begin() + static_cast<std::ptrdiff_t>(kGp.size()), oid.end());  // small arcs: one byte each
  };
  for (const auto& c : tlv::parse_all(t.value)) {
    if (c.tag != 0x60 && c.tag != 0x64) continue;
    auto oid = tlv::find(c.value, 0x06);
    if (!oid) continue;
    auto arcs = gp_arcs(oid->value);
    if (!arcs || arcs->empty()) continue;
    if (c.tag == 0x60 && (*arcs)[0] == 0x02) {
      for (std::size_t i = 1; i < arcs->size(); ++i) out.gp_version += (i > 1 ? "." : "") + std::to_string((*arcs)[i]);
    } else if (c.tag == 0x64 && (*arcs)[0] == 0x04 && arcs->size() >= 3) {
      out.scps.emplace_back((*arcs)[1], (*arcs)[2]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_cplc(ByteView resp) {
  // Table H-3 field sizes, in order.
  static const std::array<std::pair<const char*, std::size_t>, 20> kFields{{
      {"ICFabricator", 2}, {"ICType", 2}, {"OperatingSystemID", 2}, {"OperatingSystemReleaseDate", 2},
      {"OperatingSystemReleaseLevel", 2}, {"ICFabricationDate", 2}, {"ICSerialNumber", 4}, {"ICBatchIdentifier", 2},
      {"ICModuleFabricator", 2}, {"ICModulePackagingDate", 2}, {"ICCManufacturer", 2}, {"ICEmbeddingDate", 2},
      {"ICPrePersonalizer", 2}, {"ICPrePersonalizationEquipmentDate", 2}, {"ICPrePersonalizationEquipmentID", 4},
      {"ICPersonalizer", 2}, {"ICPersonalizationDate", 2}, {"ICPersonalizationEquipmentID", 4}, {"", 0}, {"", 0}}};
  ByteView v = resp;
  if (!resp.empty() && resp[0] == 0x9F) v = tlv::parse_one(resp).value;
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t off = 0;
  for (const auto& [name, n] : kFields) {
    if (n == 0 || off + n > v.size()) break;
    out.emplace_back(name, to_hex(v.subspan(off, n), true));
    off += n;
  }
  return out;
}

apdu::Command install_for_load(ByteView elf, ByteView sd, ByteView hash, ByteView params, ByteView token) {
  Bytes d;
  lv(d, elf);
  lv(d, sd);
  lv(d, hash);
  lv(d, params);
  lv(d, token);
  return cmd(ins::kInstall, install_p1::kForLoad, 0x00, d, 256);
}

apdu::Command install_for_install(ByteView elf, ByteView module, ByteView app, ByteView privileges, ByteView params,
                                  bool make_selectable, ByteView token) {
  Bytes d;
  lv(d, elf);
  lv(d, module);
  lv(d, app);
  lv(d, privileges);
  // 11.5.2.3.7: install parameters, C9 carries the application specific ones.
  lv(d, tlv::make(0xC9, params));
  lv(d, token);
  return cmd(ins::kInstall, make_selectable ? install_p1::kForInstallAndMakeSelectable : install_p1::kForInstall, 0x00, d, 256);
}

apdu::Command install_for_make_selectable(ByteView app, ByteView privileges) {
  Bytes d{0x00, 0x00};
  lv(d, app);
  lv(d, privileges);
  d.push_back(0x00);  // no parameters
  d.push_back(0x00);  // no token
  return cmd(ins::kInstall, install_p1::kForMakeSelectable, 0x00, d, 256);
}

apdu::Command install_for_personalization(ByteView app) {
  Bytes d{0x00, 0x00};
  lv(d, app);
  d.insert(d.end(), {0x00, 0x00, 0x00});
  return cmd(ins::kInstall, install_p1::kForPersonalization, 0x00, d, 256);
}

InstallData InstallData::parse(std::uint8_t p1, ByteView d) {
  InstallData r;
  r.p1 = p1;
  std::size_t off = 0;
  if (p1 & install_p1::kForLoad) {
    r.load_file_aid = take_lv(d, off);
    r.sd_aid = take_lv(d, off);
    r.hash = take_lv(d, off);
    r.params = take_lv(d, off);
    r.token = take_lv(d, off);
  } else {
    r.load_file_aid = take_lv(d, off);
    r.module_aid = take_lv(d, off);
    r.application_aid = take_lv(d, off);
    r.privileges = take_lv(d, off);
    Bytes params = take_lv(d, off);
    if (!params.empty()) {
      auto c9 = tlv::find(params, 0xC9);
      if (c9) r.params.assign(c9->value.begin(), c9->value.end());
    }
    r.token = take_lv(d, off);
  }
  if (off != d.size()) throw DecodeError("INSTALL data has trailing bytes");
  return r;
}

std::vector<apdu::Command> load_blocks(ByteView lfdb, std::size_t block_size, ByteView dap_block) {
  if (block_size == 0 || block_size > 255) throw DecodeError("LOAD block size must be 1..255");
  // 11.6.2.3: [DAP blocks E2] then C4 || length || load file data block.
  Bytes all(dap_block.begin(), dap_block.end());
  append(all, tlv::make(0xC4, lfdb));
  std::vector<apdu::Command> out;
  std::size_t n = (all.size() + block_size - 1) / block_size;
  if (n > 256) throw DecodeError("load file needs more than 256 LOAD blocks; use a larger block size");
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t off = i * block_size, len = std::min(block_size, all.size() - off);
    out.push_back(cmd(ins::kLoad, i + 1 == n ? 0x80 : 0x00, static_cast<std::uint8_t>(i),
                      Bytes(all.begin() + static_cast<std::ptrdiff_t>(off), all.begin() + static_cast<std::ptrdiff_t>(off + len)), 256));
  }
  return out;
}

apdu::Command delete_object(ByteView aid, bool related) {
  return cmd(ins::kDelete, 0x00, related ? 0x80 : 0x00, tlv::make(0x4F, aid), 256);
}

Bytes key_check_value(std::uint8_t type, ByteView key) {
  Bytes kcv;
  if (type == 0x88) {
    kcv = crypto::aes_ecb_encrypt_block(key, Bytes(16, 0x01));
  } else {
    kcv = crypto::des_cbc_encrypt(key, Bytes(8, 0), Bytes(8, 0));
  }
  kcv.resize(3);
  return kcv;
}

namespace {
Bytes encipher_key(std::uint8_t type, ByteView key, ByteView kek) {
  // 11.8.2.3 / Amd D 7.3.2: DES keys 3DES-ECB, AES keys AES-CBC with a zero ICV.
  if (type == 0x88) return crypto::aes_cbc_encrypt(kek, Bytes(16, 0), key);
  Bytes out;
  for (std::size_t off = 0; off < key.size(); off += 8) append(out, crypto::des_cbc_encrypt(kek, Bytes(8, 0), key.subspan(off, 8)));
  return out;
}
Bytes decipher_key(std::uint8_t type, ByteView data, ByteView kek) {
  if (type == 0x88) return crypto::aes_cbc_decrypt(kek, Bytes(16, 0), data);
  Bytes out;
  for (std::size_t off = 0; off < data.size(); off += 8) append(out, crypto::des_cbc_decrypt(kek, Bytes(8, 0), data.subspan(off, 8)));
  return out;
}
}  // namespace

apdu::Command put_key(std::uint8_t old_version, std::uint8_t new_version, std::uint8_t first_key_id,
                      const std::vector<KeyComponent>& keys, ByteView kek) {
  Bytes d{new_version};
  for (const auto& k : keys) {
    Bytes enc = encipher_key(k.type, k.value, kek);
    d.push_back(k.type);
    if (k.type == 0x88) {  // Amd D 7.3.2: length, then the key's own length byte
      d.push_back(static_cast<std::uint8_t>(enc.size() + 1));
      d.push_back(static_cast<std::uint8_t>(k.value.size()));
    } else {
      d.push_back(static_cast<std::uint8_t>(enc.size()));
    }
    append(d, enc);
    d.push_back(0x03);
    append(d, key_check_value(k.type, k.value));
  }
  // P2 b8: several keys; b7-b1: the first key identifier.
  return cmd(ins::kPutKey, old_version, static_cast<std::uint8_t>((keys.size() > 1 ? 0x80 : 0x00) | first_key_id), d, 256);
}

PutKeyData PutKeyData::parse(ByteView d, ByteView kek) {
  PutKeyData r;
  if (d.empty()) throw DecodeError("PUT KEY without data");
  r.new_version = d[0];
  std::size_t off = 1;
  while (off < d.size()) {
    if (off + 2 > d.size()) throw DecodeError("PUT KEY key data truncated");
    KeyComponent k;
    k.type = d[off];
    std::size_t len = d[off + 1];
    off += 2;
    if (off + len + 1 > d.size()) throw DecodeError("PUT KEY key data truncated");
    ByteView field = d.subspan(off, len);
    off += len;
    std::size_t kcv_len = d[off++];
    if (off + kcv_len > d.size()) throw DecodeError("PUT KEY check value truncated");
    ByteView kcv = d.subspan(off, kcv_len);
    off += kcv_len;
    ByteView enc = field;
    std::size_t key_len = field.size();
    if (k.type == 0x88) {
      if (field.empty()) throw DecodeError("PUT KEY AES key without length");
      key_len = field[0];
      enc = field.subspan(1);
    } else if (k.type != 0x80) {
      throw DecodeError("PUT KEY key type " + to_hex(Bytes{k.type}) + " not supported");
    }
    if (enc.size() % (k.type == 0x88 ? 16 : 8) || key_len > enc.size()) throw DecodeError("PUT KEY key length is wrong");
    Bytes clear = decipher_key(k.type, enc, kek);
    clear.resize(key_len);
    k.value = clear;
    if (kcv_len && !equal_ct(kcv, key_check_value(k.type, k.value))) throw DecodeError("PUT KEY key check value does not match");
    r.keys.push_back(std::move(k));
  }
  return r;
}

std::vector<apdu::Command> store_data(ByteView data, std::uint8_t p1_structure, std::size_t block_size) {
  std::vector<apdu::Command> out;
  std::size_t n = std::max<std::size_t>(1, (data.size() + block_size - 1) / block_size);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t off = i * block_size, len = std::min(block_size, data.size() - off);
    out.push_back(cmd(ins::kStoreData, static_cast<std::uint8_t>(p1_structure | (i + 1 == n ? 0x80 : 0x00)),
                      static_cast<std::uint8_t>(i), Bytes(data.begin() + static_cast<std::ptrdiff_t>(off), data.begin() + static_cast<std::ptrdiff_t>(off + len))));
  }
  return out;
}

apdu::Command set_status(std::uint8_t p1, std::uint8_t new_state, ByteView aid) {
  return cmd(ins::kSetStatus, p1, new_state, Bytes(aid.begin(), aid.end()));
}

}  // namespace rsp::gp
