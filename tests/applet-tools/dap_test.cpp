// DAP (GP 2.3.1 9.2.1, 11.5.2.3, 11.6.2.3): the Load File Data Block Hash
// and the ECDSA P-256 DAP checked against the openssl command line (its own
// digests, its signatures verified by us and ours by it), and the simulated
// card manager keeping a load only when the DAPs its security domains need
// verify; refused loads (6A80) leave the registry as it was.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "rsp/gp/card_content.hpp"
#include "rsp/gp/dap.hpp"
#include "rsp/gp/status_words.hpp"
#include "rsp/sim/card_manager.hpp"
#include "rsp/tlv.hpp"

using namespace rsp;
using namespace rsp::gp;
using rsp::sim::gp::CardManager;
using rsp::sim::gp::CardManagerConfig;

namespace {
namespace fs = std::filesystem;
std::string cap_path(const std::string& name) { return std::string(RSP_SHARED_TESTDATA) + "/cap/" + name; }
bool have_caps() { return fs::exists(cap_path("helloworld.cap")); }
const Bytes kIsd = from_hex("A000000151000000");
const Bytes kDapSd = from_hex("A000000151535041");     // an SD with DAP Verification (C0)
const Bytes kMandatedSd = from_hex("A000000151535042"); // an SD with Mandated DAP Verification (C1)

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}
std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
Bytes read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}
void write_file(const fs::path& p, ByteView b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// DER ECDSA-Sig-Value <-> raw r || s (32 bytes each on P-256).
Bytes der_to_raw(ByteView der) {
  Bytes raw;
  for (const auto& i : tlv::parse_all(tlv::parse_one(der).value)) {
    ByteView v = i.value;
    while (v.size() > 32 && v[0] == 0) v = v.subspan(1);
    append(raw, Bytes(32 - v.size(), 0));
    append(raw, v);
  }
  return raw;
}
Bytes raw_to_der(ByteView raw) {
  auto int_der = [](ByteView v) {
    while (v.size() > 1 && v[0] == 0 && !(v[1] & 0x80)) v = v.subspan(1);
    Bytes b(v.begin(), v.end());
    if (b[0] & 0x80) b.insert(b.begin(), 0);
    return tlv::make(0x02, b);
  };
  return tlv::make(0x30, concat(int_der(raw.first(32)), int_der(raw.last(32))));
}

// A scratch folder with two P-256 key pairs made by openssl (the DAP key and
// a stranger's), and helpers that let openssl hash and sign.
class OpensslDap : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_caps()) GTEST_SKIP() << "no ../shared/testdata/cap";
    if (trim(run("command -v openssl")).empty()) GTEST_SKIP() << "openssl CLI absent";
    dir_ = fs::temp_directory_path() / ("rsp-dap-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    for (const char* k : {"dap", "other"}) {
      run("openssl ecparam -name prime256v1 -genkey -noout -out " + (dir_ / (std::string(k) + ".pem")).string() + " 2>/dev/null");
      run("openssl ec -in " + (dir_ / (std::string(k) + ".pem")).string() + " -pubout -out " +
          (dir_ / (std::string(k) + "-pub.pem")).string() + " 2>/dev/null");
    }
    ASSERT_TRUE(fs::exists(dir_ / "dap-pub.pem"));
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path key(const std::string& name) const { return dir_ / (name + ".pem"); }
  crypto::EcKey ec(const std::string& name) const { return crypto::EcKey::from_pem_or_der(read_file(key(name))); }
  // openssl dgst -sha1|-sha256 over the bytes.
  Bytes openssl_digest(const std::string& alg, ByteView data) const {
    write_file(dir_ / "in.bin", data);
    return from_hex(trim(run("openssl dgst -" + alg + " -binary " + (dir_ / "in.bin").string() + " | od -An -tx1 -v | tr -d ' \\n'")));
  }
  // openssl's ECDSA-with-SHA-256 signature over the bytes (the DAP over the hash), raw r || s.
  Bytes openssl_dap(const std::string& keyname, ByteView hash) const {
    write_file(dir_ / "hash.bin", hash);
    run("openssl dgst -sha256 -sign " + key(keyname).string() + " -out " + (dir_ / "sig.der").string() + " " + (dir_ / "hash.bin").string());
    return der_to_raw(read_file(dir_ / "sig.der"));
  }
  bool openssl_verifies(const std::string& keyname, ByteView hash, ByteView raw_sig) const {
    write_file(dir_ / "hash.bin", hash);
    write_file(dir_ / "sig.der", raw_to_der(raw_sig));
    return run("openssl dgst -sha256 -verify " + (dir_ / (keyname + "-pub.pem")).string() + " -signature " +
               (dir_ / "sig.der").string() + " " + (dir_ / "hash.bin").string())
               .find("Verified OK") != std::string::npos;
  }
  // A card with the DAP SD (C0) and, if asked, the Mandated DAP SD (C1), both holding the "dap" public key.
  CardManagerConfig card_config(bool mandated) const {
    CardManagerConfig cfg;
    auto sd = [](ByteView aid, std::uint8_t b1) {
      rsp::sim::gp::RegistryEntry e;
      e.kind = rsp::sim::gp::RegistryEntry::Kind::SecurityDomain;
      e.aid.assign(aid.begin(), aid.end());
      e.life_cycle = 0x0F;
      e.privileges = {b1, 0x00, 0x00};
      return e;
    };
    cfg.platform_content.push_back(sd(kDapSd, 0xC0));
    cfg.dap_keys.push_back({kDapSd, ec("dap").public_point()});
    // The ISD gets a key too but no DAP privilege: its DAP must count for nothing.
    cfg.dap_keys.push_back({kIsd, ec("dap").public_point()});
    if (mandated) {
      cfg.platform_content.push_back(sd(kMandatedSd, 0xC1));
      cfg.dap_keys.push_back({kMandatedSd, ec("dap").public_point()});
    }
    return cfg;
  }
  fs::path dir_;
};

std::unique_ptr<Session> open_session(CardManager& card) {
  card.reset();
  auto s = std::make_unique<Session>(card);
  s->select(kIsd);
  auto k = default_test_keys();
  k.version = 0x30;
  s->open(k);
  return s;
}

// INSTALL [for load] with `hash`, then the LOAD blocks of `lfdb` with `daps` in front; the last LOAD's SW.
std::uint16_t load_with(Session& s, ByteView package, ByteView sd, ByteView hash, ByteView lfdb, const std::vector<DapBlock>& daps) {
  s.check(install_for_load(package, sd, hash));
  Bytes blocks;
  for (const auto& d : daps) append(blocks, encode_dap_block(d));
  std::uint16_t sw = 0;
  for (const auto& b : load_blocks(lfdb, 200, blocks)) {
    sw = s.transmit(b).sw;
    if (sw != 0x9000) break;
  }
  return sw;
}
}  // namespace

TEST_F(OpensslDap, HashSignatureAndBlockAgainstOpenssl) {
  auto cap = CapFile::read(cap_path("helloworld.cap"));
  const Bytes lfdb = cap.load_file_data_block();
  const Bytes h256 = load_file_data_block_hash(lfdb, LoadFileHash::Sha256);
  EXPECT_EQ(h256, openssl_digest("sha256", lfdb));
  EXPECT_EQ(load_file_data_block_hash(lfdb, LoadFileHash::Sha1), openssl_digest("sha1", lfdb));
  EXPECT_EQ(load_file_data_block_hash(lfdb, LoadFileHash::Sha1).size(), 20u);

  // Ours verified by openssl; openssl's verified by ours; each refuses another hash or key.
  Bytes ours = dap_signature(ec("dap"), h256);
  ASSERT_EQ(ours.size(), 64u);
  EXPECT_TRUE(openssl_verifies("dap", h256, ours));
  EXPECT_FALSE(openssl_verifies("other", h256, ours));
  Bytes theirs = openssl_dap("dap", h256);
  EXPECT_TRUE(dap_verify(ec("dap-pub"), h256, theirs));
  Bytes other_hash = h256;
  other_hash[0] ^= 1;
  EXPECT_FALSE(dap_verify(ec("dap-pub"), other_hash, theirs));
  EXPECT_FALSE(dap_verify(ec("other-pub"), h256, theirs));
  EXPECT_THROW(dap_signature(ec("dap-pub"), h256), crypto::CryptoError);  // a public key cannot sign

  // 11.6.2.3: E2 {4F SD AID, C3 signature} then C4 in the first LOAD block.
  Bytes block = encode_dap_block({kDapSd, theirs});
  EXPECT_EQ(to_hex(block, true), "E24C" "4F08A000000151535041" "C340" + to_hex(theirs, true));
  auto cmds = load_blocks(lfdb, 200, block);
  EXPECT_EQ(to_hex(ByteView(cmds[0].data).first(block.size() + 1), true), to_hex(block, true) + "C4");
  Bytes all;
  for (const auto& c : cmds) append(all, c.data);
  auto parsed = LoadData::parse(all);
  ASSERT_EQ(parsed.daps.size(), 1u);
  EXPECT_EQ(parsed.daps[0].sd_aid, kDapSd);
  EXPECT_EQ(parsed.daps[0].signature, theirs);
  EXPECT_EQ(parsed.load_file_data_block, lfdb);
  // INSTALL [for load] carries the hash as its third LV field (11.5.2.3).
  auto ifl = install_for_load(cap.info().package.aid, kDapSd, h256);
  auto d = InstallData::parse(ifl.p1, ifl.data);
  EXPECT_EQ(d.hash, h256);
}

TEST_F(OpensslDap, CardKeepsALoadOnlyWithAGoodDap) {
  CardManager card(card_config(false));
  auto s = open_session(card);
  auto cap = CapFile::read(cap_path("helloworld.cap"));
  const Bytes pkg = cap.info().package.aid, lfdb = cap.load_file_data_block();
  const Bytes h = openssl_digest("sha256", lfdb);
  const std::size_t before = card.registry().size();

  // Associated with the DAP SD: no DAP, a stranger's DAP, a DAP over the hash
  // of another load file, a tampered byte, a DAP from an SD without the
  // privilege (the ISD): all 6A80, and nothing stays.
  EXPECT_EQ(load_with(*s, pkg, kDapSd, h, lfdb, {}), sw::kWrongData);
  EXPECT_EQ(load_with(*s, pkg, kDapSd, {}, lfdb, {}), sw::kWrongData);
  EXPECT_EQ(load_with(*s, pkg, kDapSd, h, lfdb, {{kDapSd, openssl_dap("other", h)}}), sw::kWrongData);
  Bytes tampered = lfdb;
  tampered[tampered.size() / 2] ^= 0x01;
  EXPECT_EQ(load_with(*s, pkg, kDapSd, h, tampered, {{kDapSd, openssl_dap("dap", h)}}), sw::kWrongData);
  const Bytes ht = openssl_digest("sha256", tampered);  // hash fits the tampered data, the DAP does not
  EXPECT_EQ(load_with(*s, pkg, kDapSd, ht, tampered, {{kDapSd, openssl_dap("dap", h)}}), sw::kWrongData);
  EXPECT_EQ(load_with(*s, pkg, kDapSd, h, lfdb, {{kIsd, openssl_dap("dap", h)}, {kDapSd, openssl_dap("dap", h)}}), sw::kWrongData);
  EXPECT_EQ(card.registry().size(), before);
  EXPECT_EQ(card.find(pkg), nullptr);
  EXPECT_EQ(s->transmit(load_blocks(lfdb, 200)[0]).sw, sw::kConditionsNotSatisfied);  // no pending load left

  // openssl's DAP over openssl's SHA-256: loaded and listed, associated with the DAP SD.
  EXPECT_EQ(load_with(*s, pkg, kDapSd, h, lfdb, {{kDapSd, openssl_dap("dap", h)}}), 0x9000);
  bool listed = false;
  for (const auto& e : list_registry(*s)) listed |= e.aid == pkg && e.associated_sd == kDapSd;
  EXPECT_TRUE(listed);
  EXPECT_EQ(card.registry().size(), before + 1);

  // Our host side (load_cap with a DAP, SHA-1 hash) for another CAP, associated with the ISD:
  // a DAP is not required there, a good one is welcome, a wrong one is still refused.
  auto empty = CapFile::read(cap_path("Empty_0102030405_8d5ac9e2_2.2.1.cap"));
  auto other = ec("other");
  LoadDap bad{kDapSd, &other, LoadFileHash::Sha1};
  EXPECT_THROW(load_cap(*s, empty, kIsd, 200, &bad), CardError);
  EXPECT_EQ(card.find(empty.info().package.aid), nullptr);
  auto good_key = ec("dap");
  LoadDap good{kDapSd, &good_key, LoadFileHash::Sha1};
  load_cap(*s, empty, kIsd, 200, &good);
  EXPECT_NE(card.find(empty.info().package.aid), nullptr);
}

TEST_F(OpensslDap, MandatedDapSdRefusesALoadWithoutItsDap) {
  CardManager card(card_config(true));
  auto s = open_session(card);
  auto cap = CapFile::read(cap_path("helloworld.cap"));
  const Bytes pkg = cap.info().package.aid, lfdb = cap.load_file_data_block();
  const Bytes h = openssl_digest("sha1", lfdb);
  const std::size_t before = card.registry().size();
  // Associated with the ISD (no DAP privilege): the Mandated DAP SD still wants its DAP.
  EXPECT_EQ(load_with(*s, pkg, kIsd, {}, lfdb, {}), sw::kWrongData);
  EXPECT_EQ(load_with(*s, pkg, kIsd, h, lfdb, {{kDapSd, openssl_dap("dap", h)}}), sw::kWrongData);  // another SD's DAP
  EXPECT_EQ(card.registry().size(), before);
  // With the mandated SD's DAP over the SHA-1 hash: kept.
  EXPECT_EQ(load_with(*s, pkg, kIsd, h, lfdb, {{kMandatedSd, openssl_dap("dap", h)}}), 0x9000);
  EXPECT_NE(card.find(pkg), nullptr);
  // INSTALL [for load] with a hash of neither 20 nor 32 bytes.
  auto empty = CapFile::read(cap_path("Empty_0102030405_8d5ac9e2_2.2.1.cap"));
  EXPECT_EQ(s->transmit(install_for_load(empty.info().package.aid, kIsd, Bytes(16, 0xAA))).sw, sw::kWrongData);
}
