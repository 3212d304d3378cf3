#include "rsp/sim/visited_network.hpp"

#include <algorithm>
#include <ctime>

#include "rsp/crypto.hpp"
#include "rsp/log.hpp"
#include "rsp/milenage.hpp"
#include "rsp/tlv.hpp"

namespace rsp::sim {

namespace {
const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS hss_subscribers (
  imsi TEXT PRIMARY KEY,
  iccid TEXT NOT NULL,
  secrets BLOB NOT NULL,   -- AES-256-GCM(iv || Ki || OPc || tag), AAD = IMSI
  sqn INTEGER NOT NULL
);
)SQL";

ByteView view(const std::string& s) { return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

Bytes sqn_bytes(std::int64_t sqn) {
  Bytes out(6);
  for (int i = 5; i >= 0; --i, sqn >>= 8) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(sqn & 0xFF);
  return out;
}

apdu::Response send(apdu::Transport& t, ByteView c) { return apdu::Response::parse(t.transmit(c)); }
}  // namespace

Hss::Hss(store::Db& db, ByteView storage_key) : db_(db), key_(Bytes(storage_key.begin(), storage_key.end())) {
  if (key_.size() != 32) throw std::invalid_argument("HSS storage key must be 32 bytes");
  db_.exec(kSchema);
}

void Hss::provision(const std::string& imsi, const std::string& iccid, ByteView ki, ByteView opc) {
  if (ki.size() != 16 || opc.size() != 16) throw std::invalid_argument("Ki and OPc are 16 bytes");
  SecretBytes plain = concat(ki, opc);
  Bytes iv = crypto::random_bytes(12);
  Bytes blob = concat(iv, crypto::aes_gcm_encrypt(key_, iv, view(imsi), plain));
  // SQN starts at 32 (a fresh USIM accepts any SQN above its own, TS 33.102 C.2).
  db_.run("INSERT OR REPLACE INTO hss_subscribers (imsi, iccid, secrets, sqn) VALUES (?,?,?,32)", {imsi, iccid, blob});
}

bool Hss::known(const std::string& imsi) { return iccid_of(imsi).has_value(); }

std::optional<std::string> Hss::iccid_of(const std::string& imsi) {
  std::optional<std::string> out;
  db_.query("SELECT iccid FROM hss_subscribers WHERE imsi = ?", {imsi}, [&](const store::Row& r) { out = r.text(0); });
  return out;
}

std::optional<Hss::Vector> Hss::authentication_vector(const std::string& imsi) {
  store::Transaction tx(db_);
  std::optional<Bytes> blob;
  std::int64_t sqn = 0;
  db_.query("SELECT secrets, sqn FROM hss_subscribers WHERE imsi = ?", {imsi}, [&](const store::Row& r) {
    blob = r.blob(0);
    sqn = r.i64(1);
  });
  if (!blob) return std::nullopt;
  sqn += 32;  // TS 33.102 C.1.1: SEQ advances, IND in the low 5 bits stays 0 here
  db_.run("UPDATE hss_subscribers SET sqn = ? WHERE imsi = ?", {sqn, imsi});
  tx.commit();
  SecretBytes plain = crypto::aes_gcm_decrypt(key_, ByteView(*blob).first(12), view(imsi), ByteView(*blob).subspan(12));
  milenage::Milenage m(ByteView(plain).first(16), ByteView(plain).subspan(16, 16));
  Vector v;
  v.rand = crypto::random_bytes(16);
  v.autn = milenage::make_autn(m, v.rand, sqn_bytes(sqn), from_hex("8000"));
  auto f = m.f2345(v.rand);
  v.xres = f.res;
  v.ck = f.ck;
  v.ik = f.ik;
  return v;
}

namespace ue {

std::string read_imsi(apdu::Transport& card) {
  // EF DIR (TS 102 221 13.1): first record, application template 61 { 4F AID }.
  // From the MF: an application (the USIM ADF) may be selected from an earlier session.
  if (send(card, from_hex("00A40004023F00")).sw >> 8 == 0x6A) throw std::runtime_error("no MF on the card");
  if (send(card, from_hex("00A40004022F00")).sw >> 8 == 0x6A) throw std::runtime_error("no EF DIR on the card");
  auto rec = send(card, from_hex("00B2010400"));
  if (rec.sw != 0x9000) throw std::runtime_error("EF DIR unreadable (SW " + to_hex(Bytes{static_cast<std::uint8_t>(rec.sw >> 8), static_cast<std::uint8_t>(rec.sw)}) + ")");
  // The record is padded with FF after the template: parse only the first TLV.
  auto app = tlv::parse_one(rec.data);
  auto aid = app.tag == 0x61 ? tlv::find(app.value, 0x4F) : std::nullopt;
  if (!aid) throw std::runtime_error("EF DIR names no application");
  Bytes sel = concat(from_hex("00A4040C"), Bytes{static_cast<std::uint8_t>(aid->value.size())}, aid->value);
  if (send(card, sel).sw != 0x9000) throw std::runtime_error("the USIM does not select (profile not enabled?)");
  if (send(card, from_hex("00A4000C026F07")).sw != 0x9000) throw std::runtime_error("no EF IMSI");
  auto ef = send(card, from_hex("00B0000009"));
  if (ef.sw != 0x9000 || ef.data.size() != 9) throw std::runtime_error("EF IMSI unreadable");
  // TS 31.102 4.2.2: length, then BCD with the parity nibble first.
  std::string digits;
  for (std::size_t i = 1; i < 9; ++i) {
    std::uint8_t lo = ef.data[i] & 0x0F, hi = ef.data[i] >> 4;
    if (i > 1) digits.push_back(static_cast<char>('0' + lo));
    if (hi != 0x0F) digits.push_back(static_cast<char>('0' + hi));
  }
  return digits;
}

std::optional<Bytes> authenticate(apdu::Transport& card, ByteView rand, ByteView autn) {
  // Case 4 (TS 31.102 7.1.2: Le = 00). A card that answers '61 xx' anyway
  // (a T=0 card, or one that treats it as case 3) gets GET RESPONSE for
  // its xx bytes (TS 102 221 7.3.1.1.4), as a terminal does.
  Bytes cmd = concat(from_hex("0088008122"), tlv::encode_length(16), rand, tlv::encode_length(16), autn, Bytes{0x00});
  auto r = send(card, cmd);
  if ((r.sw >> 8) == 0x61) r = send(card, Bytes{0x00, 0xC0, 0x00, 0x00, static_cast<std::uint8_t>(r.sw & 0xFF)});
  if (r.sw != 0x9000 || r.data.size() < 10 || r.data[0] != 0xDB) return std::nullopt;
  std::size_t n = r.data[1];
  if (r.data.size() < 2 + n) return std::nullopt;
  return Bytes(r.data.begin() + 2, r.data.begin() + 2 + static_cast<std::ptrdiff_t>(n));
}

}  // namespace ue

VisitedNetwork::VisitedNetwork(Hss& hss, std::string plmn) : hss_(hss), plmn_(std::move(plmn)) {}

AttachResult VisitedNetwork::attach(apdu::Transport& card) {
  AttachResult res;
  try {
    res.imsi = ue::read_imsi(card);
  } catch (const std::exception& e) {
    res.cause = std::string("no identity: ") + e.what();
    return res;
  }
  auto v = hss_.authentication_vector(res.imsi);
  if (!v) {
    res.cause = "unknown IMSI (not a subscriber of this network)";
    return res;
  }
  auto got = ue::authenticate(card, v->rand, v->autn);
  if (!got) {
    res.cause = "authentication failed (the USIM refused AUTN)";
    return res;
  }
  if (!equal_ct(*got, v->xres)) {
    res.cause = "authentication failed (RES != XRES)";
    return res;
  }
  res.accepted = true;
  res.iccid = hss_.iccid_of(res.imsi).value_or("");
  if (std::find(attached_.begin(), attached_.end(), res.imsi) == attached_.end()) attached_.push_back(res.imsi);
  metered_until_.try_emplace(res.imsi, static_cast<std::int64_t>(std::time(nullptr)));  // metering starts
  bool first = std::find(ever_attached_.begin(), ever_attached_.end(), res.imsi) == ever_attached_.end();
  if (first) {
    ever_attached_.push_back(res.imsi);
    if (on_first_attach) on_first_attach(res);
  }
  return res;
}

std::optional<UsageRecord> VisitedNetwork::meter(const std::string& imsi, std::int64_t data_mb,
                                                  std::int64_t voice_minutes, std::int64_t sms) {
  if (std::find(attached_.begin(), attached_.end(), imsi) == attached_.end()) return std::nullopt;
  UsageRecord u;
  u.imsi = imsi;
  u.record_id = plmn_ + "-" + to_hex(crypto::random_bytes(8));
  std::int64_t& until = metered_until_[imsi];
  u.period_start = until;
  u.period_end = std::max<std::int64_t>(until, std::time(nullptr));
  until = u.period_end;
  u.data_mb = data_mb;
  u.voice_minutes = voice_minutes;
  u.sms = sms;
  return u;
}

}  // namespace rsp::sim
