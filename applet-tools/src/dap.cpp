#include "rsp/gp/dap.hpp"

#include "rsp/tlv.hpp"

namespace rsp::gp {

LoadFileHash load_file_hash_from_name(std::string_view name) {
  if (name == "sha1") return LoadFileHash::Sha1;
  if (name == "sha256") return LoadFileHash::Sha256;
  throw DecodeError("unknown load file data block hash '" + std::string(name) + "' (sha1, sha256)");
}

Bytes load_file_data_block_hash(ByteView lfdb, LoadFileHash how) {
  return how == LoadFileHash::Sha1 ? crypto::sha1(lfdb) : crypto::sha256(lfdb);
}

namespace {
void require_p256(const crypto::EcKey& k) {
  if (k.curve() != crypto::Curve::P256) throw crypto::CryptoError("DAP keys are ECDSA P-256 keys (GP 2.3.1 B.4.3)");
}
}  // namespace

Bytes dap_signature(const crypto::EcKey& key, ByteView hash) {
  require_p256(key);
  if (!key.has_private()) throw crypto::CryptoError("the DAP key is a public key: signing needs the private key");
  return key.sign(hash);  // ECDSA with SHA-256 over the hash itself, raw r || s
}

bool dap_verify(const crypto::EcKey& key, ByteView hash, ByteView signature) {
  require_p256(key);
  if (signature.size() != 64) return false;
  return key.verify(hash, signature);
}

Bytes encode_dap_block(const DapBlock& d) {
  Bytes v = tlv::make(0x4F, d.sd_aid);
  append(v, tlv::make(0xC3, d.signature));
  return tlv::make(0xE2, v);
}

LoadData LoadData::parse(ByteView data) {
  LoadData out;
  std::size_t off = 0;
  while (off < data.size() && data[off] == 0xE2) {
    auto e2 = tlv::parse_one(data.subspan(off));
    DapBlock d;
    bool has_aid = false, has_sig = false;
    for (const auto& t : tlv::parse_all(e2.value)) {
      if (t.tag == 0x4F) d.sd_aid = Bytes(t.value.begin(), t.value.end()), has_aid = true;
      if (t.tag == 0xC3) d.signature = Bytes(t.value.begin(), t.value.end()), has_sig = true;
    }
    if (!has_aid || !has_sig) throw DecodeError("DAP block E2 without 4F (SD AID) or C3 (signature)");
    out.daps.push_back(std::move(d));
    off += e2.raw.size();
  }
  if (off >= data.size()) throw DecodeError("LOAD data without C4 (load file data block)");
  auto c4 = tlv::parse_one(data.subspan(off));
  if (c4.tag != 0xC4 || off + c4.raw.size() != data.size()) throw DecodeError("LOAD data: C4 must be last and alone after the DAP blocks");
  out.load_file_data_block.assign(c4.value.begin(), c4.value.end());
  return out;
}

}  // namespace rsp::gp
