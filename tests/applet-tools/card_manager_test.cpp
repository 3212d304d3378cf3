// The host side (rsp_gp Session + card_content) against the simulated card
// manager in-process, with SCP03 and SCP02 each: the issue 11 scenario
// (list, load, install, select, lock/unlock, delete, put key and the old keys
// refused) and the negatives with their status words, nothing changed.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "rsp/gp/card_content.hpp"
#include "rsp/gp/scp02.hpp"
#include "rsp/gp/scp03.hpp"
#include "rsp/gp/status_words.hpp"
#include "rsp/sim/card_manager.hpp"

using namespace rsp;
using namespace rsp::gp;
using rsp::sim::gp::CardManager;
using rsp::sim::gp::CardManagerConfig;

namespace {
std::string cap_path(const std::string& name) { return std::string(RSP_SHARED_TESTDATA) + "/cap/" + name; }
bool have_caps() { return std::filesystem::exists(cap_path("helloworld.cap")); }
const Bytes kIsd = from_hex("A000000151000000");

struct Variant {
  std::uint8_t kvn;   // 30: SCP03 key set, 20: SCP02 key set
  std::uint8_t level;
  std::uint8_t scp03_i;
  bool s16;
  std::uint8_t scp02_i = 0x15;
};

class CardManagerFlow : public ::testing::TestWithParam<Variant> {};

StaticKeys keys_with_version(std::uint8_t v) {
  auto k = default_test_keys();
  k.version = v;
  return k;
}

bool listed(const std::vector<rsp::gp::RegistryEntry>& l, const std::string& aid) {
  for (const auto& e : l)
    if (to_hex(e.aid, true) == aid) return true;
  return false;
}
}  // namespace

TEST_P(CardManagerFlow, LoadInstallSelectLockDeletePutKey) {
  if (!have_caps()) GTEST_SKIP() << "no ../shared/testdata/cap";
  auto v = GetParam();
  CardManagerConfig cfg;
  cfg.scp03_i = v.scp03_i;
  cfg.scp02_i = v.scp02_i;
  CardManager card(cfg);
  card.reset();
  Session s(card);
  SessionOptions opt;
  opt.security_level = v.level;
  opt.s16 = v.s16;
  ASSERT_EQ(s.select(kIsd).sw, 0x9000);
  s.open(keys_with_version(v.kvn), opt);
  EXPECT_EQ(s.scp(), v.kvn == 0x30 ? 3 : 2);

  auto before = list_registry(s);
  ASSERT_EQ(before.size(), 1u);  // the ISD alone
  EXPECT_EQ(life_cycle_name(StatusScope::Isd, before[0].life_cycle), "SECURED");

  auto cap = CapFile::read(cap_path("helloworld.cap"));
  load_cap(s, cap, kIsd, v.kvn == 0x20 ? 200 : 230);
  const Bytes app = cap.info().applets.at(0);
  s.check(install_for_install(cap.info().package.aid, app, app, from_hex("00")));
  auto after = list_registry(s);
  EXPECT_TRUE(listed(after, "D0D1D2D3D4D501"));
  EXPECT_TRUE(listed(after, "D0D1D2D3D4D50101"));

  // The new application answers SELECT (and nothing else: it is inert).
  EXPECT_EQ(s.select(app).sw, 0x9000);
  EXPECT_EQ(s.transmit(apdu::Command{0x80, 0x10, 0, 0, {}, std::nullopt}).sw, 0x6D00);

  s.select(kIsd);
  s.open(keys_with_version(v.kvn), opt);
  s.check(lock_application(app));
  EXPECT_EQ(card.find(app)->life_cycle, 0x87);
  s.close();
  EXPECT_EQ(s.select(app).sw, sw::kSelectFailed);
  s.select(kIsd);
  s.open(keys_with_version(v.kvn), opt);
  s.check(unlock_application(app));
  EXPECT_EQ(s.select(app).sw, 0x9000);

  s.select(kIsd);
  s.open(keys_with_version(v.kvn), opt);
  // The load file has an instance: DELETE without related objects is refused.
  EXPECT_EQ(s.transmit(delete_object(cap.info().package.aid)).sw, sw::kConditionsNotSatisfied);
  s.check(delete_object(cap.info().package.aid, true));
  EXPECT_EQ(card.registry().size(), 1u);

  // A new key set replaces the old one; the old keys are refused afterwards.
  StaticKeys fresh;
  bool aes = v.kvn == 0x30;
  fresh.enc = from_hex("00112233445566778899AABBCCDDEEFF");
  fresh.mac = from_hex("0F1E2D3C4B5A69788796A5B4C3D2E1F0");
  fresh.dek = from_hex("F0E1D2C3B4A5968778695A4B3C2D1E0F");
  std::uint8_t new_kvn = static_cast<std::uint8_t>(v.kvn + 1);
  put_key_set(s, fresh, new_kvn, v.kvn, aes ? 0x88 : 0x80);
  s.select(kIsd);
  fresh.version = new_kvn;
  EXPECT_NO_THROW(s.open(fresh, opt));
  s.select(kIsd);
  try {
    s.open(keys_with_version(new_kvn), opt);  // the old key values under the new version
    FAIL() << "old keys opened the channel";
  } catch (const SecurityError&) {
    // the card cryptogram does not verify: the host stops before EXTERNAL AUTHENTICATE
  }
  s.select(kIsd);
  try {
    s.open(keys_with_version(v.kvn), opt);  // the old key version is gone
    FAIL() << "old key version still there";
  } catch (const CardError& e) {
    EXPECT_EQ(e.sw, 0x6A88);
  }
}

INSTANTIATE_TEST_SUITE_P(Scp, CardManagerFlow,
                         ::testing::Values(Variant{0x30, 0x33, 0x70, false}, Variant{0x30, 0x01, 0x00, false},
                                           Variant{0x30, 0x13, 0x30, true}, Variant{0x30, 0x03, 0x10, false},
                                           Variant{0x20, 0x01, 0x70, false},
                                           Variant{0x20, 0x03, 0x70, false}, Variant{0x20, 0x13, 0x70, false},
                                           Variant{0x20, 0x03, 0x70, false, 0x55}),
                         [](const auto& pi) {
                           const auto& v = pi.param;
                           return std::string(v.kvn == 0x30 ? "SCP03_i" : "SCP02_i") +
                                  to_hex(Bytes{v.kvn == 0x30 ? v.scp03_i : v.scp02_i}) + "_level" +
                                  to_hex(Bytes{v.level}) + (v.s16 ? "_S16" : "");
                         });

TEST(CardManagerNegative, CommandsNeedTheSecureChannel) {
  CardManager card;
  card.reset();
  Session s(card);
  s.select(kIsd);
  EXPECT_EQ(s.transmit(get_status(StatusScope::Applications)).sw, sw::kSecurityNotSatisfied);
  EXPECT_EQ(s.transmit(delete_object(from_hex("0102030405"))).sw, sw::kSecurityNotSatisfied);
  EXPECT_EQ(s.transmit(get_data(kTagCardData)).sw, 0x9000);  // GET DATA is allowed
}

TEST(CardManagerNegative, WrongKeysAndRetryLimit) {
  CardManagerConfig cfg;
  cfg.max_auth_failures = 2;
  CardManager card(cfg);
  card.reset();
  // Hand-made EXTERNAL AUTHENTICATE with a wrong host cryptogram (but a good C-MAC).
  auto attempt = [&]() -> std::uint16_t {
    Session s(card);
    s.select(kIsd);
    Bytes hc = from_hex("0102030405060708");
    apdu::Response iu = s.transmit_plain(apdu::Command{0x80, 0x50, 0x20, 0x00, hc, 256});
    if (iu.sw != 0x9000) return iu.sw;
    auto r = scp02::InitUpdateResponse::parse(iu.data);
    auto keys = scp02::derive_session_keys(default_test_keys(), r.sequence_counter);
    scp02::Channel ch(keys, level::kCMac, 0x15);
    Bytes wrong = scp02::host_cryptogram(keys.s_enc, hc, r.sequence_counter, r.card_challenge);
    wrong[0] ^= 0xFF;
    return s.transmit_plain(ch.wrap_external_authenticate(apdu::Command{0x84, 0x82, 0x01, 0x00, wrong, std::nullopt})).sw;
  };
  EXPECT_EQ(attempt(), sw::kAuthFailed);
  EXPECT_EQ(attempt(), sw::kAuthFailed);
  EXPECT_EQ(attempt(), sw::kAuthMethodBlocked);
  Session s(card);
  s.select(kIsd);
  auto k = default_test_keys();
  k.version = 0x30;
  EXPECT_THROW(s.open(k), CardError);  // blocked for good keys too
}

TEST(CardManagerNegative, TamperedMacEndsTheSessionAndChangesNothing) {
  if (!have_caps()) GTEST_SKIP() << "no ../shared/testdata/cap";
  CardManager card;
  card.reset();
  Session s(card);
  s.select(kIsd);
  auto k = default_test_keys();
  k.version = 0x30;
  s.open(k);
  apdu::Command w = s.channel()->wrap(install_for_load(from_hex("D0D1D2D3D4D501"), kIsd));
  w.data.back() ^= 0x01;
  EXPECT_EQ(apdu::Response::parse(card.transmit(w.encode())).sw, sw::kSecurityNotSatisfied);
  EXPECT_FALSE(card.session_open());
  EXPECT_EQ(card.registry().size(), 1u);
  // A level-01 session refuses an unMACed command.
  s.close();
  s.select(kIsd);
  s.open(k);
  EXPECT_EQ(apdu::Response::parse(card.transmit(get_status(StatusScope::Isd).encode())).sw, sw::kSecurityNotSatisfied);
}

TEST(CardManagerNegative, BadLoadFilesAndDependencies) {
  if (!have_caps()) GTEST_SKIP() << "no ../shared/testdata/cap";
  CardManager card;
  card.reset();
  Session s(card);
  s.select(kIsd);
  auto k = default_test_keys();
  k.version = 0x30;
  s.open(k, SessionOptions{std::nullopt, 0x03, false, {}});
  auto hello = CapFile::read(cap_path("helloworld.cap"));
  // Misordered components (Class after Method).
  const auto& c = hello.components();
  Bytes bad;
  for (std::uint8_t t : {1, 2, 4, 3, 7, 6, 8, 5, 9}) append(bad, c.at(t));
  s.check(install_for_load(hello.info().package.aid, kIsd));
  apdu::Response r;
  for (const auto& b : load_blocks(bad, 200)) r = s.transmit(b);
  EXPECT_EQ(r.sw, sw::kWrongData);
  // A missing component (no Method).
  Bytes missing;
  for (std::uint8_t t : {1, 2, 4, 3, 6, 8, 5, 9}) append(missing, c.at(t));
  s.check(install_for_load(hello.info().package.aid, kIsd));
  for (const auto& b : load_blocks(missing, 200)) r = s.transmit(b);
  EXPECT_EQ(r.sw, sw::kWrongData);
  // LOAD blocks out of sequence.
  s.check(install_for_load(hello.info().package.aid, kIsd));
  auto blocks = load_blocks(hello.load_file_data_block(), 100);
  ASSERT_GE(blocks.size(), 2u);
  EXPECT_EQ(s.transmit(blocks[1]).sw, sw::kIncorrectP1P2);
  EXPECT_EQ(card.registry().size(), 1u);

  // svc-debug imports both libraries: refused before them, and they cannot go while it is there.
  auto ber = CapFile::read(cap_path("openjavacard-lib-ber.cap"));
  auto dbg = CapFile::read(cap_path("openjavacard-lib-debug.cap"));
  auto svc = CapFile::read(cap_path("openjavacard-svc-debug.cap"));
  s.check(install_for_load(svc.info().package.aid, kIsd));
  for (const auto& b : load_blocks(svc.load_file_data_block(), 200)) r = s.transmit(b);
  EXPECT_EQ(r.sw, 0x6A88);
  load_cap(s, ber);
  load_cap(s, dbg);
  load_cap(s, svc);
  EXPECT_EQ(s.transmit(delete_object(dbg.info().package.aid, true)).sw, sw::kConditionsNotSatisfied);
  EXPECT_EQ(card.registry().size(), 4u);
  s.check(delete_object(svc.info().package.aid, true));
  s.check(delete_object(dbg.info().package.aid));
  EXPECT_EQ(card.registry().size(), 2u);
}

TEST(CardManagerNegative, CardLockAndStateFile) {
  auto path = std::filesystem::temp_directory_path() / ("gp-cm-" + std::to_string(::getpid()) + ".json");
  std::filesystem::remove(path);
  CardManagerConfig cfg;
  cfg.state_file = path.string();
  {
    CardManager card(cfg);
    card.reset();
    Session s(card);
    s.select(kIsd);
    auto k = default_test_keys();
    k.version = 0x30;
    s.open(k);
    s.check(lock_card());
    EXPECT_EQ(s.transmit(delete_object(from_hex("0102030405"))).sw, sw::kFunctionNotSupported);
  }
  {
    CardManager card(cfg);  // the lock survived the restart
    EXPECT_EQ(card.card_life_cycle(), 0x7F);
    card.reset();
    Session s(card);
    s.select(kIsd);
    auto k = default_test_keys();
    k.version = 0x30;
    s.open(k);
    s.check(unlock_card());
    EXPECT_EQ(card.card_life_cycle(), 0x0F);
  }
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::others_read, std::filesystem::perms::none);
  std::filesystem::remove(path);
}

TEST(CardManagerNative, RegisteredModuleGetsItsNativeImplementation) {
  if (!have_caps()) GTEST_SKIP() << "no ../shared/testdata/cap";
  struct Echo : rsp::sim::gp::Applet {
    Bytes params;
    apdu::Response process(const apdu::Command& c) override { return apdu::Response{concat(params, c.data), 0x9000}; }
  };
  CardManager card;
  auto cap = CapFile::read(cap_path("helloworld.cap"));
  const Bytes module = cap.info().applets.at(0);
  card.register_native(module, [](ByteView, ByteView params) {
    auto e = std::make_unique<Echo>();
    e->params.assign(params.begin(), params.end());
    return e;
  });
  card.reset();
  Session s(card);
  s.select(kIsd);
  auto k = default_test_keys();
  k.version = 0x30;
  s.open(k);
  load_cap(s, cap);
  const Bytes instance = from_hex("D0D1D2D3D4D50102");
  s.check(install_for_install(cap.info().package.aid, module, instance, from_hex("00"), from_hex("CAFE")));
  ASSERT_EQ(s.select(instance).sw, 0x9000);
  EXPECT_EQ(to_hex(s.transmit(apdu::Command{0x80, 0x01, 0, 0, from_hex("01"), std::nullopt}).data, true), "CAFE01");
}

TEST(CardManagerFlowMore, GetStatusFollowsMoreData) {
  if (!have_caps()) GTEST_SKIP() << "no ../shared/testdata/cap";
  CardManager card;
  card.reset();
  Session s(card);
  s.select(kIsd);
  auto k = default_test_keys();
  k.version = 0x30;
  s.open(k);
  auto cap = CapFile::read(cap_path("helloworld.cap"));
  load_cap(s, cap);
  for (int i = 0; i < 12; ++i) {
    Bytes aid = from_hex("D0D1D2D3D4D50100");
    aid.back() = static_cast<std::uint8_t>(0x10 + i);
    s.check(install_for_install(cap.info().package.aid, cap.info().applets[0], aid, from_hex("00")));
  }
  // One GET STATUS answer holds at most 200 bytes here, so 12 entries need 6310 and P2=03.
  apdu::Response first = s.transmit(get_status(StatusScope::Applications));
  EXPECT_EQ(first.sw, sw::kMoreData);
  EXPECT_EQ(get_status_all(s, StatusScope::Applications).size(), 12u);
}

TEST(CardManagerFlowMore, Scp03PseudoRandomChallengeCountsPerKeySet) {
  CardManager card;  // i=70: pseudo-random challenges
  card.reset();
  Session s(card);
  s.select(kIsd);
  apdu::Command iu{0x80, 0x50, 0x30, 0x00, from_hex("0102030405060708"), 256};
  auto r = scp03::InitUpdateResponse::parse(s.transmit_plain(iu).data);
  // Amd D 6.2.2.1 with counter 000001 and the ISD AID (openssl_vectors.sh).
  EXPECT_EQ(to_hex(r.sequence_counter), "000001");
  EXPECT_EQ(to_hex(r.card_challenge), "86c8bd65fa1044ee");
  r = scp03::InitUpdateResponse::parse(s.transmit_plain(iu).data);
  EXPECT_EQ(to_hex(r.sequence_counter), "000002");
  // Replacing the key set starts its counter again.
  auto k = default_test_keys();
  k.version = 0x30;
  s.open(k);
  put_key_set(s, default_test_keys(), 0x30, 0x30, 0x88);
  s.select(kIsd);
  r = scp03::InitUpdateResponse::parse(s.transmit_plain(iu).data);
  EXPECT_EQ(to_hex(r.sequence_counter), "000001");
}

// Origin::RemoteManagement (a RAM script the OTA receiving entity accepted,
// TS 102 226 8): content management without a session, but only the GP
// commands; the contact interface is unchanged and its session left open.
TEST(CardManagerRemoteManagement, PreAuthenticatedPerCallOnly) {
  using Origin = CardManager::Origin;
  CardManager card;
  card.reset();
  apdu::Command gs = get_status(StatusScope::Isd);
  EXPECT_EQ(card.process(gs).sw, sw::kSecurityNotSatisfied);               // contact, no session
  EXPECT_EQ(card.process(gs, Origin::RemoteManagement).sw, sw::kOk);       // RAM
  EXPECT_EQ(card.process(gs).sw, sw::kSecurityNotSatisfied);               // the flag does not stick
  EXPECT_EQ(card.process(select(kIsd), Origin::RemoteManagement).sw, sw::kInsNotSupported);
  apdu::Command iu{0x80, 0x50, 0x30, 0x00, from_hex("0102030405060708"), 256};
  EXPECT_EQ(card.process(iu, Origin::RemoteManagement).sw, sw::kInsNotSupported);
  apdu::Command sm = gs;
  sm.cla = 0x84;
  EXPECT_EQ(card.process(sm, Origin::RemoteManagement).sw, sw::kClaNotSupported);

  Session s(card);
  s.select(kIsd);
  auto k = default_test_keys();
  k.version = 0x30;
  s.open(k);
  EXPECT_EQ(card.process(gs, Origin::RemoteManagement).sw, sw::kOk);
  EXPECT_TRUE(card.session_open());
  EXPECT_EQ(list_registry(s).size(), 1u);  // the contact session still works
}
