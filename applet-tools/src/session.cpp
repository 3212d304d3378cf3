#include "rsp/gp/session.hpp"

#include "rsp/crypto.hpp"
#include "rsp/gp/commands.hpp"
#include "rsp/gp/scp02.hpp"
#include "rsp/gp/scp03.hpp"
#include "rsp/gp/status_words.hpp"

namespace rsp::gp {

apdu::Response Session::transmit_plain(const apdu::Command& c) {
  apdu::Response r = apdu::Response::parse(link_.transmit(c.encode()));
  if (r.sw1() == 0x6C) {  // ISO 7816-4 5.1.3: re-send with the Le the card asked for
    apdu::Command again = c;
    again.le = r.sw2() ? r.sw2() : 256;
    r = apdu::Response::parse(link_.transmit(again.encode()));
  }
  Bytes data = r.data;
  for (int guard = 0; r.sw1() == 0x61 && guard < 256; ++guard) {
    apdu::Command get{static_cast<std::uint8_t>(c.cla & 0x03), 0xC0, 0x00, 0x00, {}, r.sw2() ? r.sw2() : 256};
    r = apdu::Response::parse(link_.transmit(get.encode()));
    append(data, r.data);
  }
  r.data = std::move(data);
  return r;
}

apdu::Response Session::transmit(const apdu::Command& c) {
  if (!channel_) return transmit_plain(c);
  apdu::Response r = transmit_plain(channel_->wrap(c));
  try {
    return channel_->unwrap(r);
  } catch (const SecurityError&) {
    channel_.reset();  // GP 2.3.1 10.8: a failed check ends the session
    throw;
  }
}

apdu::Response Session::check(const apdu::Command& c, std::initializer_list<std::uint16_t> also_ok) {
  apdu::Response r = transmit(c);
  if (r.sw == sw::kOk) return r;
  for (auto s : also_ok)
    if (r.sw == s) return r;
  throw CardError(command_name(c.ins) + ": " + sw::describe(r.sw), r.sw);
}

apdu::Response Session::select(ByteView aid) {
  channel_.reset();  // SELECT of another application closes the session (GP 2.3.1 10.2.3)
  apdu::Command c{0x00, 0xA4, 0x04, 0x00, Bytes(aid.begin(), aid.end()), 256};
  return transmit_plain(c);
}

void Session::open(const StaticKeys& master_keys, const SessionOptions& opt) {
  channel_.reset();
  std::size_t n = opt.s16 ? 16 : 8;
  Bytes host_challenge = opt.host_challenge.empty() ? crypto::random_bytes(n) : opt.host_challenge;
  if (opt.scp == 2) host_challenge.resize(8);
  apdu::Command iu{0x80, 0x50, master_keys.version, 0x00, host_challenge, 256};
  apdu::Response r = transmit_plain(iu);
  if (r.sw != sw::kOk) throw CardError("INITIALIZE UPDATE: " + sw::describe(r.sw), r.sw);
  if (r.data.size() < 12) throw SecurityError("INITIALIZE UPDATE response too short");
  std::uint8_t scp = r.data[11];
  if (opt.scp && *opt.scp != scp) throw SecurityError("card offers SCP0" + std::to_string(scp) + ", asked for SCP0" + std::to_string(*opt.scp));
  // KDF3 makes AES keys: it has no meaning for an SCP02 (3DES) key set.
  if (opt.diversification == Diversification::Kdf3 && scp != 0x03)
    throw SecurityError("KDF3 diversification is for SCP03 key sets; the card answered SCP0" + std::to_string(scp));
  const StaticKeys keys = diversify(master_keys, opt.diversification, ByteView(r.data).subspan(0, 10));
  apdu::Command ea{0x84, 0x82, opt.security_level, 0x00, {}, std::nullopt};
  apdu::Command wrapped;
  if (scp == 0x03) {
    auto iur = scp03::InitUpdateResponse::parse(r.data);
    if (iur.card_challenge.size() != host_challenge.size()) throw SecurityError("S8/S16 mode differs between host and card");
    auto sk = scp03::derive_session_keys(keys, host_challenge, iur.card_challenge);
    if (!equal_ct(scp03::card_cryptogram(sk.s_mac, host_challenge, iur.card_challenge), iur.card_cryptogram))
      throw SecurityError("card cryptogram does not verify (wrong keys?)");
    ea.data = scp03::host_cryptogram(sk.s_mac, host_challenge, iur.card_challenge);
    auto ch = std::make_unique<scp03::Channel>(std::move(sk), keys.dek, opt.security_level, opt.s16);
    wrapped = ch->wrap_external_authenticate(ea);
    channel_ = std::move(ch);
    i_ = iur.i;
  } else if (scp == 0x02) {
    auto iur = scp02::InitUpdateResponse::parse(r.data);
    auto sk = scp02::derive_session_keys(keys, iur.sequence_counter);
    if (!equal_ct(scp02::card_cryptogram(sk.s_enc, host_challenge, iur.sequence_counter, iur.card_challenge), iur.card_cryptogram))
      throw SecurityError("card cryptogram does not verify (wrong keys?)");
    ea.data = scp02::host_cryptogram(sk.s_enc, host_challenge, iur.sequence_counter, iur.card_challenge);
    // GP 2.3.1 E.1.1: i=15 is what the card uses unless told otherwise (no i in its answer).
    auto ch = std::make_unique<scp02::Channel>(std::move(sk), opt.security_level, std::uint8_t{0x15});
    wrapped = ch->wrap_external_authenticate(ea);
    channel_ = std::move(ch);
    i_ = 0x15;
  } else {
    throw SecurityError("card offers SCP0" + std::to_string(scp) + ", only SCP02 and SCP03 are supported");
  }
  scp_ = scp;
  apdu::Response er = transmit_plain(wrapped);
  if (er.sw != sw::kOk) {
    channel_.reset();
    throw CardError("EXTERNAL AUTHENTICATE: " + sw::describe(er.sw), er.sw);
  }
}

}  // namespace rsp::gp
