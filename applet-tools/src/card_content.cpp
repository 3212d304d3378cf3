#include "rsp/gp/card_content.hpp"

#include "rsp/gp/status_words.hpp"

namespace rsp::gp {

std::vector<RegistryEntry> get_status_all(Session& s, StatusScope scope) {
  std::vector<RegistryEntry> out;
  bool next = false;
  for (int guard = 0; guard < 256; ++guard) {
    apdu::Response r = s.transmit(get_status(scope, next));
    if (r.sw == apdu::sw::kRefDataNotFound && !next) return out;
    if (r.sw != sw::kOk && r.sw != sw::kMoreData) throw CardError("GET STATUS: " + sw::describe(r.sw), r.sw);
    auto part = parse_get_status(scope, r.data);
    out.insert(out.end(), part.begin(), part.end());
    if (r.sw == sw::kOk) return out;
    next = true;
  }
  throw CardError("GET STATUS: the card kept answering 6310", sw::kMoreData);
}

std::vector<RegistryEntry> list_registry(Session& s) {
  auto out = get_status_all(s, StatusScope::Isd);
  auto apps = get_status_all(s, StatusScope::Applications);
  out.insert(out.end(), apps.begin(), apps.end());
  std::vector<RegistryEntry> elfs;
  try {
    elfs = get_status_all(s, StatusScope::LoadFilesAndModules);
  } catch (const CardError& e) {
    if (e.sw != apdu::sw::kIncorrectP1P2) throw;
    elfs = get_status_all(s, StatusScope::LoadFiles);  // GP 2.1.1 cards: no P1=10
  }
  out.insert(out.end(), elfs.begin(), elfs.end());
  return out;
}

void load_cap(Session& s, const CapFile& cap, ByteView sd_aid, std::size_t block_size, const LoadDap* dap) {
  const Bytes& lfdb = cap.load_file_data_block();
  Bytes hash, dap_block;
  if (dap) {
    if (!dap->key) throw std::invalid_argument("load_cap: a DAP without a key");
    hash = load_file_data_block_hash(lfdb, dap->hash);
    dap_block = encode_dap_block({dap->sd_aid, dap_signature(*dap->key, hash)});
  }
  s.check(install_for_load(cap.info().package.aid, sd_aid, hash));
  for (const auto& b : load_blocks(lfdb, block_size, dap_block)) s.check(b);
}

Bytes put_key_set(Session& s, const StaticKeys& keys, std::uint8_t new_version, std::uint8_t replace_version,
                  std::uint8_t key_type) {
  if (!s.is_open()) throw CardError("PUT KEY needs an open secure channel", sw::kSecurityNotSatisfied);
  std::vector<KeyComponent> ks{{key_type, keys.enc}, {key_type, keys.mac}, {key_type, keys.dek}};
  apdu::Response r = s.check(put_key(replace_version, new_version, 0x01, ks, s.channel()->key_encryption_key()));
  Bytes expect{new_version};
  for (const auto& k : ks) append(expect, key_check_value(k.type, k.value));
  if (r.data != expect) throw SecurityError("PUT KEY: the card's key check values differ from ours");
  return r.data;
}

}  // namespace rsp::gp
