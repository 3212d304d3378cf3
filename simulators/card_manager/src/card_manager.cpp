#include "rsp/sim/card_manager.hpp"

#include <algorithm>

#include "rsp/crypto.hpp"
#include "rsp/gp/cap_file.hpp"
#include "rsp/gp/commands.hpp"
#include "rsp/gp/scp02.hpp"
#include "rsp/gp/scp03.hpp"
#include "rsp/gp/status_words.hpp"
#include "rsp/log.hpp"
#include "rsp/tlv.hpp"

namespace rsp::sim::gp {

namespace sw = rsp::gp::sw;
namespace lvl = rsp::gp::level;
using Kind = RegistryEntry::Kind;

namespace {
// GP 2.3.1 11.1.1: life cycle codings.
constexpr std::uint8_t kCardSecured = 0x0F, kCardLocked = 0x7F, kAppInstalled = 0x03, kAppSelectable = 0x07,
                       kLoaded = 0x01, kLockedBit = 0x80;
// Java Card API packages (javacard.*, javacardx.*): the "platform" provides them.
const Bytes kJavaCardApiRid = from_hex("A000000062");

apdu::Response status(std::uint16_t s) { return apdu::Response{{}, s}; }
// A DAP that is missing, wrong, or over another hash: GP 2.3.1 11.6.3 lists
// no status word of its own for it; the signature in the command data is
// wrong, so "incorrect values in command data".
constexpr std::uint16_t kDapRefused = sw::kWrongData;

// An application without native code: it answers SELECT (through the card
// manager) and refuses every other instruction.
class InertApplet : public Applet {
 public:
  apdu::Response process(const apdu::Command&) override { return status(sw::kInsNotSupported); }
};

bool starts_with(ByteView a, ByteView prefix) {
  return a.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), a.begin());
}
}  // namespace

struct CardManager::PendingAuth {
  std::uint8_t scp = 3;
  std::uint8_t i = 0;
  Bytes host_challenge, card_challenge;
  std::unique_ptr<rsp::gp::SecureChannel> channel;  // keys derived, level set at EXTERNAL AUTHENTICATE
  Bytes expected_host_cryptogram;
};

CardManager::CardManager(CardManagerConfig cfg) : cfg_(std::move(cfg)) {
  key_sets_ = cfg_.key_sets;
  if (key_sets_.empty()) {
    KeySet aes{0x30, 3, rsp::gp::default_test_keys()};
    KeySet des{0x20, 2, rsp::gp::default_test_keys()};
    aes.keys.version = 0x30;
    des.keys.version = 0x20;
    key_sets_ = {aes, des};
  }
  RegistryEntry isd;
  isd.kind = Kind::Isd;
  isd.aid = cfg_.isd_aid;
  isd.life_cycle = kCardSecured;
  isd.privileges = from_hex("9EFE80");  // SD, card lock/terminate/reset, CVM, all byte-2 global privileges
  registry_.push_back(isd);
  for (const auto& e : cfg_.platform_content) {
    registry_.push_back(e);
    if (e.kind == Kind::Application || e.kind == Kind::SecurityDomain) instantiate(e);
  }
  if (!cfg_.state_file.empty()) load_state();
}

CardManager::~CardManager() = default;

void CardManager::register_native(ByteView module_aid, AppletFactory factory) {
  natives_[Bytes(module_aid.begin(), module_aid.end())] = std::move(factory);
  for (const auto& e : registry_)  // instances restored from the state file
    if (e.kind == Kind::Application && e.module_aid == Bytes(module_aid.begin(), module_aid.end())) instantiate(e);
}

const RegistryEntry* CardManager::find(ByteView aid) const {
  for (const auto& e : registry_)
    if (std::equal(e.aid.begin(), e.aid.end(), aid.begin(), aid.end())) return &e;
  return nullptr;
}
RegistryEntry* CardManager::find_mut(ByteView aid) { return const_cast<RegistryEntry*>(find(aid)); }

std::uint8_t CardManager::card_life_cycle() const { return registry_.front().life_cycle; }

Bytes CardManager::reset() {
  channel_.reset();
  pending_auth_.reset();
  pending_load_.reset();
  selected_.clear();
  personalizing_.clear();
  // ISO 7816-3 ATR: T=1, historical bytes "GP-CM-SIM".
  return from_hex("3B8A800147502D434D2D53494D2E");
}

Bytes CardManager::transmit(ByteView raw) {
  apdu::Command c;
  try {
    c = apdu::Command::parse(raw);
  } catch (const DecodeError&) {
    return status(sw::kWrongLength).encode();
  }
  return process(c).encode();
}

apdu::Response CardManager::process(const apdu::Command& c, Origin origin) {
  if (c.channel() != 0) return status(apdu::sw::kLogicalChannelNotSupported);
  if (origin == Origin::RemoteManagement) {
    // TS 102 226 8.2.1: a RAM script holds the card management commands
    // only (CLA 80, no secure messaging); SELECT and the channel opening
    // have no meaning there.
    if (c.ins == rsp::gp::ins::kSelect || c.ins == rsp::gp::ins::kInitializeUpdate ||
        c.ins == rsp::gp::ins::kExternalAuthenticate)
      return status(sw::kInsNotSupported);
    if (c.cla & 0x04) return status(sw::kClaNotSupported);
    return dispatch(c, origin);
  }
  if (c.ins == rsp::gp::ins::kSelect && c.p1 == 0x04) return select(c);
  if (!selected_.empty()) {
    auto it = instances_.find(selected_);
    if (it == instances_.end()) return status(sw::kInsNotSupported);
    return it->second->process(c);
  }
  // The ISD: INITIALIZE UPDATE and EXTERNAL AUTHENTICATE run the channel opening.
  if (c.ins == rsp::gp::ins::kInitializeUpdate && (c.cla & 0xFC) == 0x80) return initialize_update(c);
  if (c.ins == rsp::gp::ins::kExternalAuthenticate && (c.cla & 0xFC) == 0x84) return external_authenticate(c);
  pending_auth_.reset();
  apdu::Command plain = c;
  if (channel_) {
    try {
      plain = channel_->unwrap_command(c);
    } catch (const std::exception& e) {
      // GP 2.3.1 10.8: a secure messaging error ends the session.
      log::info("card-manager", std::string("secure messaging error, session closed: ") + e.what());
      channel_.reset();
      return status(sw::kSecurityNotSatisfied);
    }
  } else if (c.cla & 0x04) {
    return status(sw::kSecurityNotSatisfied);
  }
  apdu::Response r = dispatch(plain, origin);
  if (channel_) return channel_->wrap_response(r);
  return r;
}

apdu::Response CardManager::dispatch(const apdu::Command& c, Origin origin) {
  if ((c.cla & 0xF0) != 0x80 && c.ins != rsp::gp::ins::kGetData) return status(sw::kClaNotSupported);
  bool remote = origin == Origin::RemoteManagement;
  bool authenticated = remote || channel_ != nullptr;
  switch (c.ins) {
    case rsp::gp::ins::kGetData: return get_data(c);
    case rsp::gp::ins::kGetStatus:
    case rsp::gp::ins::kInstall:
    case rsp::gp::ins::kLoad:
    case rsp::gp::ins::kDelete:
    case rsp::gp::ins::kPutKey:
    case rsp::gp::ins::kSetStatus:
    case rsp::gp::ins::kStoreData:
      // GP 2.3.1 9.1 / 10.2: card content management needs an authenticated session.
      if (!authenticated) return status(sw::kSecurityNotSatisfied);
      break;
    default: return status(sw::kInsNotSupported);
  }
  if (card_life_cycle() == kCardLocked && c.ins != rsp::gp::ins::kSetStatus && c.ins != rsp::gp::ins::kGetStatus)
    return status(sw::kFunctionNotSupported);
  try {
    switch (c.ins) {
      case rsp::gp::ins::kGetStatus: return get_status(c);
      case rsp::gp::ins::kInstall: return install(c);
      case rsp::gp::ins::kLoad: return load(c);
      case rsp::gp::ins::kDelete: return delete_object(c);
      case rsp::gp::ins::kPutKey: return put_key(c, remote);
      case rsp::gp::ins::kSetStatus: return set_status(c);
      case rsp::gp::ins::kStoreData: return store_data(c);
      default: return status(sw::kInsNotSupported);
    }
  } catch (const DecodeError&) {
    return status(sw::kWrongData);
  }
}

Bytes CardManager::card_recognition_data() const {
  // GP 2.3.1 H.2: 73 { 06 GP RID OID, 60 {06 GP version}, 63 {06 card id scheme}, 64 {06 SCP}... }.
  const Bytes gp = from_hex("2A864886FC6B");
  Bytes inner = tlv::make(0x06, concat(gp, from_hex("01")));
  append(inner, tlv::make(0x60, tlv::make(0x06, concat(gp, from_hex("02020301")))));
  append(inner, tlv::make(0x63, tlv::make(0x06, concat(gp, from_hex("03")))));
  bool has3 = false, has2 = false;
  for (const auto& k : key_sets_) (k.scp == 3 ? has3 : has2) = true;
  if (has3) append(inner, tlv::make(0x64, tlv::make(0x06, concat(gp, Bytes{0x04, 0x03, cfg_.scp03_i}))));
  if (has2) append(inner, tlv::make(0x64, tlv::make(0x06, concat(gp, Bytes{0x04, 0x02, cfg_.scp02_i}))));
  return tlv::make(0x73, inner);
}

apdu::Response CardManager::select(const apdu::Command& c) {
  ByteView aid = c.data;
  channel_.reset();  // GP 2.3.1 10.2.3: selecting closes the session
  pending_auth_.reset();
  if (aid.empty() || std::equal(aid.begin(), aid.end(), cfg_.isd_aid.begin(), cfg_.isd_aid.end())) {
    selected_.clear();
    Bytes a5 = concat(card_recognition_data(), tlv::make(0x9F6E, from_hex("0000000000")), tlv::make(0x9F65, from_hex("FF")));
    Bytes fci = tlv::make(0x6F, concat(tlv::make(0x84, cfg_.isd_aid), tlv::make(0xA5, a5)));
    return apdu::Response{fci, sw::kOk};
  }
  const RegistryEntry* e = find(aid);
  if (!e || e->kind == Kind::LoadFile || card_life_cycle() == kCardLocked) return status(sw::kNotFound);
  // GP 2.3.1 11.1.1.2: only SELECTABLE (and later, unlocked) applications answer.
  if ((e->life_cycle & kLockedBit) || (e->life_cycle & kAppSelectable) != kAppSelectable) return status(sw::kSelectFailed);
  selected_ = e->aid;
  return apdu::Response{tlv::make(0x6F, tlv::make(0x84, e->aid)), sw::kOk};
}

apdu::Response CardManager::initialize_update(const apdu::Command& c) {
  channel_.reset();
  pending_auth_.reset();
  if (auth_failures_ >= cfg_.max_auth_failures) return status(sw::kAuthMethodBlocked);
  std::uint8_t kvn = c.p1 ? c.p1 : cfg_.default_key_version;
  auto ks = std::find_if(key_sets_.begin(), key_sets_.end(), [&](const KeySet& k) { return k.version == kvn; });
  if (ks == key_sets_.end()) return status(sw::kRefDataNotFound);
  auto pa = std::make_unique<PendingAuth>();
  pa->scp = ks->scp;
  pa->host_challenge = c.data;
  Bytes div = from_hex("0102030405060708090A");  // key diversification data (a fixed card serial here)
  if (ks->scp == 3) {
    std::size_t n = c.data.size();
    if (n != 8 && n != 16) return status(sw::kWrongLength);
    bool s16 = n == 16;
    pa->i = static_cast<std::uint8_t>(cfg_.scp03_i | (s16 ? rsp::gp::scp03::param::kS16 : 0));
    rsp::gp::scp03::InitUpdateResponse r;
    r.key_diversification_data = div;
    r.key_version = ks->version;
    r.scp = 3;
    r.i = pa->i;
    if (cfg_.scp03_i & rsp::gp::scp03::param::kPseudoRandomChallenge) {
      // Amd D 6.2.2.1: the counter counts sessions; the challenge is derived from it.
      if (ks->sequence_counter >= 0xFFFFFF) return status(sw::kConditionsNotSatisfied);
      std::uint32_t n3 = ++ks->sequence_counter;
      r.sequence_counter = {static_cast<std::uint8_t>(n3 >> 16), static_cast<std::uint8_t>(n3 >> 8), static_cast<std::uint8_t>(n3)};
      r.card_challenge = rsp::gp::scp03::pseudo_random_card_challenge(ks->keys.enc, r.sequence_counter, cfg_.isd_aid, n);
    } else {
      r.card_challenge = crypto::random_bytes(n);
    }
    auto keys = rsp::gp::scp03::derive_session_keys(ks->keys, c.data, r.card_challenge);
    r.card_cryptogram = rsp::gp::scp03::card_cryptogram(keys.s_mac, c.data, r.card_challenge);
    pa->expected_host_cryptogram = rsp::gp::scp03::host_cryptogram(keys.s_mac, c.data, r.card_challenge);
    pa->channel = std::make_unique<rsp::gp::scp03::Channel>(std::move(keys), ks->keys.dek, lvl::kCMac, s16);
    pending_auth_ = std::move(pa);
    save();
    return apdu::Response{r.encode(), sw::kOk};
  }
  if (c.data.size() != 8) return status(sw::kWrongLength);
  ++scp02_counter_;
  rsp::gp::scp02::InitUpdateResponse r;
  r.key_diversification_data = div;
  r.key_version = ks->version;
  r.scp = 2;
  r.sequence_counter = {static_cast<std::uint8_t>(scp02_counter_ >> 8), static_cast<std::uint8_t>(scp02_counter_)};
  auto keys = rsp::gp::scp02::derive_session_keys(ks->keys, r.sequence_counter);
  r.card_challenge = (cfg_.scp02_i & rsp::gp::scp02::param::kPseudoRandomChallenge)
                         ? rsp::gp::scp02::pseudo_random_card_challenge(keys.c_mac, cfg_.isd_aid)
                         : crypto::random_bytes(6);
  r.card_cryptogram = rsp::gp::scp02::card_cryptogram(keys.s_enc, c.data, r.sequence_counter, r.card_challenge);
  pa->expected_host_cryptogram = rsp::gp::scp02::host_cryptogram(keys.s_enc, c.data, r.sequence_counter, r.card_challenge);
  pa->i = cfg_.scp02_i;
  pa->channel = std::make_unique<rsp::gp::scp02::Channel>(std::move(keys), lvl::kCMac, cfg_.scp02_i);
  pending_auth_ = std::move(pa);
  save();
  return apdu::Response{r.encode(), sw::kOk};
}

apdu::Response CardManager::external_authenticate(const apdu::Command& c) {
  if (!pending_auth_) return status(sw::kConditionsNotSatisfied);
  auto pa = std::move(pending_auth_);
  std::uint8_t level = c.p1;
  // Amd D 7.2.2.1 / GP E.5.2.2: the levels each protocol accepts.
  bool ok_level = pa->scp == 3 ? (level == 0x00 || level == 0x01 || level == 0x03 || level == 0x11 || level == 0x13 || level == 0x33)
                               : (level == 0x00 || level == 0x01 || level == 0x03 || level == 0x11 || level == 0x13);
  if (pa->scp == 3 && (level & lvl::kRMac) && !(pa->i & rsp::gp::scp03::param::kRMacSupport)) ok_level = false;
  if (pa->scp == 3 && (level & lvl::kREncryption) && !(pa->i & rsp::gp::scp03::param::kREncSupport)) ok_level = false;
  apdu::Command plain;
  try {
    if (pa->scp == 3)
      plain = static_cast<rsp::gp::scp03::Channel&>(*pa->channel).unwrap_external_authenticate(c);
    else
      plain = static_cast<rsp::gp::scp02::Channel&>(*pa->channel).unwrap_external_authenticate(c);
  } catch (const rsp::gp::SecurityError&) {
    ++auth_failures_;
    save();
    return status(sw::kSecurityNotSatisfied);
  }
  if (!equal_ct(plain.data, pa->expected_host_cryptogram)) {
    // GP 2.3.1 11.8.3 / Amd D 7.2.3: 6300; the card counts failed attempts.
    ++auth_failures_;
    save();
    return status(sw::kAuthFailed);
  }
  if (!ok_level) return status(sw::kIncorrectP1P2);
  auth_failures_ = 0;
  if (pa->scp == 3)
    static_cast<rsp::gp::scp03::Channel&>(*pa->channel).set_security_level(level);
  else
    static_cast<rsp::gp::scp02::Channel&>(*pa->channel).set_security_level(level);
  channel_ = std::move(pa->channel);
  save();
  return status(sw::kOk);
}

apdu::Response CardManager::get_status(const apdu::Command& c) {
  if (c.p2 != 0x02 && c.p2 != 0x03) return status(sw::kIncorrectP1P2);
  Bytes filter;
  if (auto f = tlv::find(c.data, 0x4F)) filter.assign(f->value.begin(), f->value.end());
  std::vector<Bytes> entries;
  for (const auto& e : registry_) {
    bool match = false;
    switch (c.p1) {
      case 0x80: match = e.kind == Kind::Isd; break;
      case 0x40: match = e.kind == Kind::Application || e.kind == Kind::SecurityDomain; break;
      case 0x20:
      case 0x10: match = e.kind == Kind::LoadFile; break;
      default: return status(sw::kIncorrectP1P2);
    }
    if (!match || !starts_with(e.aid, filter)) continue;
    Bytes v = tlv::make(0x4F, e.aid);
    append(v, tlv::make(0x9F70, Bytes{e.life_cycle}));
    if (e.kind != Kind::LoadFile) append(v, tlv::make(0xC5, e.privileges));
    if (e.kind == Kind::Application || e.kind == Kind::SecurityDomain) append(v, tlv::make(0xC4, e.load_file_aid));
    if (e.kind == Kind::LoadFile && !e.version.empty()) append(v, tlv::make(0xCE, e.version));
    if (e.kind != Kind::Isd) append(v, tlv::make(0xCC, e.associated_sd.empty() ? cfg_.isd_aid : e.associated_sd));
    if (c.p1 == 0x10)
      for (const auto& m : e.modules) append(v, tlv::make(0x84, m));
    entries.push_back(tlv::make(0xE3, v));
  }
  if (c.p2 == 0x02) status_cursor_ = 0;
  if (entries.empty() || status_cursor_ >= entries.size()) return status(sw::kRefDataNotFound);
  // 11.4.3: as many whole entries as fit, 6310 when more follow.
  Bytes out;
  std::size_t i = status_cursor_;
  while (i < entries.size() && (out.empty() || out.size() + entries[i].size() <= 200)) append(out, entries[i++]);
  status_cursor_ = i;
  return apdu::Response{out, i < entries.size() ? sw::kMoreData : sw::kOk};
}

apdu::Response CardManager::get_data(const apdu::Command& c) {
  std::uint16_t tag = static_cast<std::uint16_t>(c.p1 << 8 | c.p2);
  switch (tag) {
    case rsp::gp::kTagCardData: return apdu::Response{tlv::make(0x66, card_recognition_data()), sw::kOk};
    case rsp::gp::kTagCplc: {
      // GP 2.3.1 Table H-3 (42 bytes); values describe this simulator.
      Bytes cplc = from_hex("4750" "0001" "4350" "6336" "0100" "6336" "00000001" "0001" "4750" "6336" "4750" "6336"
                            "0000" "0000" "00000000" "0000" "0000" "00000000");
      return apdu::Response{tlv::make(0x9F7F, cplc), sw::kOk};
    }
    case rsp::gp::kTagKeyInformation: {
      Bytes v;
      for (const auto& ks : key_sets_)
        for (std::uint8_t id = 1; id <= 3; ++id)
          append(v, tlv::make(0xC0, Bytes{id, ks.version, static_cast<std::uint8_t>(ks.scp == 3 ? 0x88 : 0x80),
                                          static_cast<std::uint8_t>(ks.keys.enc.size())}));
      return apdu::Response{tlv::make(0xE0, v), sw::kOk};
    }
    case rsp::gp::kTagIin: return apdu::Response{tlv::make(0x42, from_hex("4750")), sw::kOk};
    case rsp::gp::kTagCin: return apdu::Response{tlv::make(0x45, from_hex("0102030405060708090A")), sw::kOk};
    case rsp::gp::kTagSequenceCounter:
      return apdu::Response{tlv::make(0xC1, Bytes{static_cast<std::uint8_t>(scp02_counter_ >> 8), static_cast<std::uint8_t>(scp02_counter_)}), sw::kOk};
    default: return status(sw::kRefDataNotFound);
  }
}

void CardManager::instantiate(const RegistryEntry& e) {
  auto n = natives_.find(e.module_aid);
  instances_[e.aid] = n != natives_.end() ? n->second(e.aid, e.install_params) : std::make_unique<InertApplet>();
}

apdu::Response CardManager::install(const apdu::Command& c) {
  auto d = rsp::gp::InstallData::parse(c.p1, c.data);
  namespace p1 = rsp::gp::install_p1;
  if (c.p1 == p1::kForLoad) {
    if (d.load_file_aid.size() < 5 || d.load_file_aid.size() > 16) return status(sw::kWrongData);
    if (find(d.load_file_aid)) return status(sw::kConditionsNotSatisfied);  // already on the card
    if (!d.sd_aid.empty() && d.sd_aid != cfg_.isd_aid && !find(d.sd_aid)) return status(sw::kRefDataNotFound);
    // 11.5.2.3: the Load File Data Block Hash, SHA-1 or SHA-256 (told apart by length).
    if (!d.hash.empty() && d.hash.size() != 20 && d.hash.size() != 32) return status(sw::kWrongData);
    pending_load_ = PendingLoad{d.load_file_aid, d.sd_aid.empty() ? cfg_.isd_aid : d.sd_aid, d.hash, {}, 0};
    return apdu::Response{Bytes{0x00}, sw::kOk};
  }
  if (c.p1 == p1::kForInstall || c.p1 == p1::kForInstallAndMakeSelectable) {
    const RegistryEntry* elf = find(d.load_file_aid);
    if (!elf || elf->kind != Kind::LoadFile) return status(sw::kRefDataNotFound);
    if (std::find(elf->modules.begin(), elf->modules.end(), d.module_aid) == elf->modules.end()) return status(sw::kRefDataNotFound);
    if (d.application_aid.size() < 5 || d.application_aid.size() > 16 || find(d.application_aid)) return status(sw::kWrongData);
    if (d.privileges.size() != 1 && d.privileges.size() != 3) return status(sw::kWrongData);
    RegistryEntry e;
    e.privileges = d.privileges;
    e.privileges.resize(3, 0);
    e.kind = (e.privileges[0] & rsp::gp::privilege::kSecurityDomain) ? Kind::SecurityDomain : Kind::Application;
    e.aid = d.application_aid;
    e.load_file_aid = d.load_file_aid;
    e.module_aid = d.module_aid;
    e.associated_sd = cfg_.isd_aid;
    e.install_params = d.params;
    e.life_cycle = c.p1 == p1::kForInstallAndMakeSelectable ? kAppSelectable : kAppInstalled;
    instantiate(e);
    registry_.push_back(std::move(e));
    save();
    return apdu::Response{Bytes{0x00}, sw::kOk};
  }
  if (c.p1 == p1::kForMakeSelectable) {
    RegistryEntry* e = find_mut(d.application_aid);
    if (!e || e->kind == Kind::LoadFile || e->kind == Kind::Isd) return status(sw::kRefDataNotFound);
    if (e->life_cycle != kAppInstalled) return status(sw::kConditionsNotSatisfied);
    e->life_cycle = kAppSelectable;
    save();
    return apdu::Response{Bytes{0x00}, sw::kOk};
  }
  if (c.p1 == p1::kForPersonalization) {
    const RegistryEntry* e = find(d.application_aid);
    if (!e || e->kind == Kind::LoadFile || e->kind == Kind::Isd) return status(sw::kRefDataNotFound);
    personalizing_ = e->aid;
    return apdu::Response{Bytes{0x00}, sw::kOk};
  }
  return status(sw::kIncorrectP1P2);
}

apdu::Response CardManager::load(const apdu::Command& c) {
  if (!pending_load_) return status(sw::kConditionsNotSatisfied);  // no INSTALL [for load] before
  if (c.p2 != pending_load_->next_block) {
    // 11.6.2.2: blocks are numbered from 00; anything else ends this load.
    pending_load_.reset();
    return status(sw::kIncorrectP1P2);
  }
  append(pending_load_->data, c.data);
  ++pending_load_->next_block;
  if (!(c.p1 & 0x80)) return apdu::Response{{}, sw::kOk};
  PendingLoad pl = std::move(*pending_load_);
  pending_load_.reset();
  rsp::gp::LoadFileInfo info;
  try {
    // 11.6.2.3: [E2 DAP blocks] C4 load file data block.
    auto ld = rsp::gp::LoadData::parse(pl.data);
    if (auto why = dap_refusal(pl, ld.load_file_data_block, ld.daps)) {
      log::info("card-manager", "LOAD refused: " + *why);
      return status(kDapRefused);
    }
    info = rsp::gp::parse_load_file(ld.load_file_data_block);
  } catch (const std::exception& e) {
    log::info("card-manager", std::string("LOAD refused: ") + e.what());
    return status(sw::kWrongData);
  }
  if (info.package.aid != pl.load_file_aid) return status(sw::kWrongData);
  for (const auto& imp : info.imports) {
    if (starts_with(imp.aid, kJavaCardApiRid)) {
      if (imp.major > cfg_.javacard_api_major || (imp.major == cfg_.javacard_api_major && imp.minor > cfg_.javacard_api_minor)) {
        log::info("card-manager", "LOAD refused: imports a Java Card API version this card does not offer");
        return status(sw::kWrongData);
      }
      continue;
    }
    const RegistryEntry* dep = find(imp.aid);
    if (!dep || dep->kind != Kind::LoadFile) {
      log::info("card-manager", "LOAD refused: imported package " + to_hex(imp.aid, true) + " is not on the card");
      return status(sw::kRefDataNotFound);
    }
  }
  RegistryEntry e;
  e.kind = Kind::LoadFile;
  e.aid = pl.load_file_aid;
  e.life_cycle = kLoaded;
  e.associated_sd = pl.sd_aid;
  e.version = {info.package.major, info.package.minor};
  e.modules = info.applets;
  for (const auto& imp : info.imports) e.imports.push_back(imp.aid);
  registry_.push_back(std::move(e));
  save();
  return apdu::Response{Bytes{0x00}, sw::kOk};
}

// GP 2.3.1 9.2.1: before a load file is kept, the DAP of every security
// domain with the Mandated DAP Verification privilege, and of the SD the load
// file is associated with when that SD has the DAP Verification privilege,
// must verify over the Load File Data Block Hash; that hash must be the hash
// of what was loaded. A DAP block for an SD without either privilege or
// without a DAP key is refused too. Returns why, or nothing when the load may stay.
std::optional<std::string> CardManager::dap_refusal(const PendingLoad& pl, ByteView lfdb,
                                                    const std::vector<rsp::gp::DapBlock>& daps) const {
  namespace priv = rsp::gp::privilege;
  auto is_dap_sd = [](const RegistryEntry& e) {
    return (e.kind == Kind::Isd || e.kind == Kind::SecurityDomain) && !e.privileges.empty() &&
           (e.privileges[0] & priv::kSecurityDomain) && (e.privileges[0] & priv::kDapVerification);
  };
  std::vector<Bytes> required;
  for (const auto& e : registry_) {
    if (!is_dap_sd(e)) continue;
    if ((e.privileges[0] & priv::kMandatedDap) || e.aid == pl.sd_aid) required.push_back(e.aid);
  }
  if (daps.empty() && required.empty()) {
    if (pl.hash.empty()) return std::nullopt;
  } else if (pl.hash.empty()) {
    return std::string("a DAP is required or present, INSTALL [for load] gave no Load File Data Block Hash");
  }
  const auto how = pl.hash.size() == 20 ? rsp::gp::LoadFileHash::Sha1 : rsp::gp::LoadFileHash::Sha256;
  if (!equal_ct(rsp::gp::load_file_data_block_hash(lfdb, how), pl.hash))
    return std::string("the Load File Data Block Hash of INSTALL [for load] is not the hash of the loaded data");
  std::vector<Bytes> verified;
  for (const auto& d : daps) {
    const RegistryEntry* sd = find(d.sd_aid);
    if (!sd || !is_dap_sd(*sd)) return "DAP block for " + to_hex(d.sd_aid, true) + ", not a security domain with DAP Verification";
    const DapKey* key = nullptr;
    for (const auto& k : cfg_.dap_keys)
      if (k.sd_aid == d.sd_aid) key = &k;
    if (!key) return "security domain " + to_hex(d.sd_aid, true) + " has no DAP key";
    auto pub = crypto::EcKey::from_public_point(crypto::Curve::P256, key->public_point);
    if (!rsp::gp::dap_verify(pub, pl.hash, d.signature)) return "the DAP of " + to_hex(d.sd_aid, true) + " does not verify";
    verified.push_back(d.sd_aid);
  }
  for (const auto& r : required)
    if (std::find(verified.begin(), verified.end(), r) == verified.end())
      return "no DAP of security domain " + to_hex(r, true) + ", which requires one";
  return std::nullopt;
}

apdu::Response CardManager::delete_object(const apdu::Command& c) {
  auto aid_tlv = tlv::find(c.data, 0x4F);
  if (!aid_tlv) return status(sw::kWrongData);
  Bytes aid(aid_tlv->value.begin(), aid_tlv->value.end());
  const RegistryEntry* e = find(aid);
  if (!e) return status(sw::kRefDataNotFound);
  if (e->kind == Kind::Isd) return status(sw::kConditionsNotSatisfied);
  bool related = c.p2 & 0x80;
  std::vector<Bytes> doomed{aid};
  if (e->kind == Kind::LoadFile) {
    // 11.2.2.1: a load file others import, or (without "related objects")
    // one with instances, stays.
    for (const auto& o : registry_) {
      if (o.kind == Kind::LoadFile && std::find(o.imports.begin(), o.imports.end(), aid) != o.imports.end())
        return status(sw::kConditionsNotSatisfied);
      if ((o.kind == Kind::Application || o.kind == Kind::SecurityDomain) && o.load_file_aid == aid) {
        if (!related) return status(sw::kConditionsNotSatisfied);
        doomed.push_back(o.aid);
      }
    }
  } else {
    // An SD with applications associated to it stays (11.2.2.2).
    for (const auto& o : registry_)
      if (o.kind != Kind::LoadFile && o.associated_sd == aid) return status(sw::kConditionsNotSatisfied);
  }
  for (const auto& d : doomed) {
    instances_.erase(d);
    if (selected_ == d) selected_.clear();
    registry_.erase(std::remove_if(registry_.begin(), registry_.end(), [&](const RegistryEntry& r) { return r.aid == d; }), registry_.end());
  }
  save();
  return apdu::Response{Bytes{0x00}, sw::kOk};
}

apdu::Response CardManager::put_key(const apdu::Command& c, bool remote) {
  // The key data is enciphered with the session's key encryption key; over
  // RAM there is no session: our choice is the static DEK of the default
  // key set, the key an SCP03 host would use (Amd D 7.3.2; docs/applet-tools.md).
  SecretBytes kek;
  if (remote) {
    auto ks = std::find_if(key_sets_.begin(), key_sets_.end(), [&](const KeySet& k) { return k.version == cfg_.default_key_version; });
    if (ks == key_sets_.end()) return status(sw::kRefDataNotFound);
    kek = ks->keys.dek;
  } else {
    kek = channel_->key_encryption_key();
  }
  auto pk = rsp::gp::PutKeyData::parse(c.data, kek);
  if (pk.keys.size() != 3 || (c.p2 & 0x7F) != 0x01) return status(sw::kWrongData);  // whole ENC/MAC/DEK key sets only
  std::uint8_t type = pk.keys[0].type;
  for (const auto& k : pk.keys)
    if (k.type != type) return status(sw::kWrongData);
  KeySet ks;
  ks.version = pk.new_version;
  ks.scp = type == 0x88 ? 3 : 2;
  ks.keys.enc = pk.keys[0].value;
  ks.keys.mac = pk.keys[1].value;
  ks.keys.dek = pk.keys[2].value;
  ks.keys.version = pk.new_version;
  if (ks.scp == 2 && ks.keys.enc.size() != 16) return status(sw::kWrongData);
  auto same = [&](std::uint8_t v) { return [v](const KeySet& k) { return k.version == v; }; };
  if (c.p1 == 0x00) {  // 11.8.2.2: add a key set
    if (std::any_of(key_sets_.begin(), key_sets_.end(), same(ks.version))) return status(sw::kConditionsNotSatisfied);
    key_sets_.push_back(ks);
  } else {  // replace the key set P1
    auto it = std::find_if(key_sets_.begin(), key_sets_.end(), same(c.p1));
    if (it == key_sets_.end()) return status(sw::kRefDataNotFound);
    if (ks.version != c.p1 && std::any_of(key_sets_.begin(), key_sets_.end(), same(ks.version))) return status(sw::kConditionsNotSatisfied);
    if (cfg_.default_key_version == it->version) cfg_.default_key_version = ks.version;
    *it = ks;
  }
  save();
  // 11.8.3.1: the new KVN and each key's check value.
  Bytes out{ks.version};
  for (const auto& k : pk.keys) append(out, rsp::gp::key_check_value(k.type, k.value));
  return apdu::Response{out, sw::kOk};
}

apdu::Response CardManager::set_status(const apdu::Command& c) {
  if (c.p1 == rsp::gp::set_status_p1::kIsd) {
    // Table 11-3 transitions the ISD may make: SECURED <-> CARD_LOCKED.
    std::uint8_t& lc = registry_.front().life_cycle;
    if (c.p2 == kCardLocked && lc == kCardSecured) lc = kCardLocked;
    else if (c.p2 == kCardSecured && lc == kCardLocked) lc = kCardSecured;
    else return status(sw::kConditionsNotSatisfied);
    save();
    return status(sw::kOk);
  }
  if (card_life_cycle() == kCardLocked) return status(sw::kFunctionNotSupported);
  if (c.p1 != rsp::gp::set_status_p1::kApplication && c.p1 != rsp::gp::set_status_p1::kSdAndApplications)
    return status(sw::kIncorrectP1P2);
  RegistryEntry* e = find_mut(c.data);
  if (!e || e->kind == Kind::LoadFile) return status(sw::kRefDataNotFound);
  if (e->kind == Kind::Isd) return status(sw::kConditionsNotSatisfied);
  if (c.p2 & kLockedBit) {
    e->life_cycle = static_cast<std::uint8_t>(e->life_cycle | kLockedBit);
    if (selected_ == e->aid) selected_.clear();
  } else if (c.p2 == 0x00) {
    e->life_cycle = static_cast<std::uint8_t>(e->life_cycle & ~kLockedBit);
  } else {
    // Application specific states keep INSTALLED/SELECTABLE bits (Table 11-4).
    if ((c.p2 & 0x07) != 0x07 || (e->life_cycle & kLockedBit)) return status(sw::kConditionsNotSatisfied);
    e->life_cycle = c.p2;
  }
  save();
  return status(sw::kOk);
}

apdu::Response CardManager::store_data(const apdu::Command& c) {
  if (!personalizing_.empty()) {
    auto it = instances_.find(personalizing_);
    if (it == instances_.end()) return status(sw::kConditionsNotSatisfied);
    apdu::Response r = it->second->process(c);
    if (c.p1 & 0x80) personalizing_.clear();
    return r;
  }
  if (c.p2 == 0) store_data_.clear();
  append(store_data_, c.data);
  return status(sw::kOk);
}

}  // namespace rsp::sim::gp
