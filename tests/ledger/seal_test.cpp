// Sealing (ledger/include/rsp/ledger/seal.hpp): a blob opens only with the
// recipient's key and the exact context it was made for; every field of the
// context (ledger, Request, Offer, both parties, both keys, package hash,
// purpose) counts, and the bytes follow docs/ledger.md "Sealing context".
#include <gtest/gtest.h>

#include <functional>

#include "rsp/ledger/seal.hpp"

using namespace rsp;
using namespace rsp::ledger;
using crypto::Curve;
using crypto::EcKey;

namespace {

SealContext sample_context(const EcKey& seal_key, const EcKey& reply_key) {
  SealContext c;
  c.purpose = SealContext::Purpose::Accept;
  c.ledger = from_hex("01" + std::string(64, 'a'));  // an embedded ledger's genesis
  c.request_id = "REQ-1";
  c.offer_id = "OFFER-1";
  c.home = "home-b";
  c.provider = "visited-a";
  c.seal_key = seal_key.public_point();
  c.reply_key = reply_key.public_point();
  c.package_hash = crypto::sha256(to_bytes("protected package"));
  return c;
}

TEST(Seal, OpensOnlyWithTheRecipientKeyAndContext) {
  auto home = EcKey::generate(Curve::P256);
  auto other = EcKey::generate(Curve::P256);
  auto provider = EcKey::generate(Curve::P256);
  const SealContext ctx = sample_context(provider, home);
  Bytes msg = to_bytes("LPA:1$smdp.example$MATCHING-ID");
  Bytes s = seal(home.public_point(), ctx, msg);
  EXPECT_EQ(s.size(), 1 + 65 + msg.size() + 16);
  EXPECT_EQ(s[0], 0x02);
  EXPECT_EQ(open_sealed(home, ctx, s), msg);
  EXPECT_THROW(open_sealed(other, ctx, s), SealError);  // another operator's key
  for (std::size_t i : {std::size_t{0}, std::size_t{10}, s.size() - 1}) {
    Bytes t = s;
    t[i] ^= 0x01;
    EXPECT_THROW(open_sealed(home, ctx, t), SealError) << "byte " << i;
  }
  EXPECT_THROW(open_sealed(home, ctx, ByteView(s).first(40)), SealError);
  EXPECT_NE(seal(home.public_point(), ctx, msg), s);  // fresh ephemeral key each time
  EXPECT_THROW(seal(Bytes(65, 0x04), ctx, msg), SealError);  // not a point on the curve
}

// A blob made for one ledger, Request, party, key or package does not open
// under any other: each field of the context changed alone.
TEST(Seal, EveryContextFieldIsBound) {
  auto home = EcKey::generate(Curve::P256);
  auto provider = EcKey::generate(Curve::P256);
  const SealContext ctx = sample_context(provider, home);
  Bytes msg = to_bytes(R"({"eid":"89049032123451234512345678901235"})");
  Bytes s = seal(home.public_point(), ctx, msg);
  const Bytes other_point = EcKey::generate(Curve::P256).public_point();
  const std::vector<std::pair<std::string, std::function<void(SealContext&)>>> changes = {
      {"another embedded ledger", [](SealContext& c) { c.ledger.back() ^= 1; }},
      {"a chain ledger", [](SealContext& c) { c.ledger = from_hex("02" "0000000000007a69" + std::string(40, '1')); }},
      {"another Request id (front-running is the same id: see the home field)", [](SealContext& c) { c.request_id = "REQ-2"; }},
      {"another Offer", [](SealContext& c) { c.offer_id = "OFFER-2"; }},
      {"another home operator", [](SealContext& c) { c.home = "home-x"; }},
      {"another provider", [](SealContext& c) { c.provider = "visited-c"; }},
      {"another seal key", [&](SealContext& c) { c.seal_key = other_point; }},
      {"another reply key", [&](SealContext& c) { c.reply_key = other_point; }},
      {"another package hash", [](SealContext& c) { c.package_hash[0] ^= 1; }},
      {"no package hash", [](SealContext& c) { c.package_hash.clear(); }},
      {"the other purpose", [](SealContext& c) { c.purpose = SealContext::Purpose::Target; }},
  };
  for (const auto& [what, change] : changes) {
    SealContext c = ctx;
    change(c);
    EXPECT_THROW(open_sealed(home, c, s), SealError) << what;
  }
  EXPECT_EQ(open_sealed(home, ctx, s), msg);
}

// The context encoding, written out by hand from docs/ledger.md: purpose,
// then the fields in order, each u32be(len) || bytes.
TEST(Seal, ContextEncodingIsTheDocumentedBytes) {
  SealContext c;
  c.purpose = SealContext::Purpose::Target;
  c.ledger = {0x01, 0xaa};
  c.request_id = "R";
  c.offer_id = "O";
  c.home = "H";
  c.provider = "P";
  EXPECT_EQ(to_hex(c.encode()),
            "00000006746172676574"  // "target"
            "0000000201aa"          // ledger
            "0000000152"            // "R"
            "000000014f"            // "O"
            "0000000148"            // "H"
            "0000000150"            // "P"
            "00000000"              // seal key
            "00000000"              // reply key
            "00000000");            // package hash
  // Moving a byte across a field boundary changes the encoding.
  SealContext d = c;
  d.home = "HP";
  d.provider = "";
  EXPECT_NE(c.encode(), d.encode());
}

// A blob built here from the documented scheme (ECDH, X9.63 KDF over the
// label, context length, context, E and R; AES-256-GCM with the context as
// AAD) opens with open_sealed: the scheme is what the doc says.
TEST(Seal, OpensABlobBuiltFromTheDocumentedScheme) {
  auto recipient = EcKey::generate(Curve::P256);
  auto provider = EcKey::generate(Curve::P256);
  const SealContext ctx = sample_context(provider, recipient);
  auto eph = EcKey::generate(Curve::P256);
  Bytes e = eph.public_point(), r = recipient.public_point(), c = ctx.encode();
  SecretBytes z = eph.ecdh(r);
  Bytes info = to_bytes("RSP-SEAL-v2");
  for (int i = 3; i >= 0; --i) info.push_back(static_cast<std::uint8_t>(c.size() >> (8 * i)));
  append(info, c);
  append(info, e);
  append(info, r);
  Bytes k = crypto::x963_kdf_sha256(z, info, 44);
  Bytes msg = to_bytes("profile");
  Bytes blob{0x02};
  append(blob, e);
  append(blob, crypto::aes_gcm_encrypt(ByteView(k).first(32), ByteView(k).subspan(32, 12), c, msg));
  EXPECT_EQ(open_sealed(recipient, ctx, blob), msg);
  blob[0] = 0x01;  // the first scheme (context = "accept:<id>" only) is refused by its version
  EXPECT_THROW(open_sealed(recipient, ctx, blob), SealError);
}

// The builders: what the home operator seals before its Request exists is
// what the provider rebuilds from the Request on the ledger, and both sides
// of an Accept agree.
TEST(Seal, BuildersAgreeOnBothSides) {
  auto seal_key = EcKey::generate(Curve::P256);
  auto reply_key = EcKey::generate(Curve::P256);
  const Bytes ledger = from_hex("01" + std::string(64, 'b'));
  Offer o;
  o.offer_id = "OFFER-1";
  o.provider = "visited-a";
  o.seal_key = seal_key.public_point();
  RequestTerms t;
  t.request_id = "REQ-1";
  t.offer_id = o.offer_id;
  t.reply_key = reply_key.public_point();
  Request r;
  static_cast<RequestTerms&>(r) = t;
  r.home = "home-b";
  r.provider = o.provider;
  EXPECT_EQ(target_context(ledger, o, "home-b", t).encode(), target_context(ledger, r, seal_key.public_point()).encode());
  // The front-runner's Request: same id and terms, another home operator.
  Request attacker = r;
  attacker.home = "home-x";
  Bytes sealed = seal(o.seal_key, target_context(ledger, o, "home-b", t), to_bytes("{}"));
  EXPECT_THROW(open_sealed(seal_key, target_context(ledger, attacker, seal_key.public_point()), sealed), SealError);
  EXPECT_EQ(open_sealed(seal_key, target_context(ledger, r, seal_key.public_point()), sealed), to_bytes("{}"));
  auto a = accept_context(ledger, r, seal_key.public_point(), Bytes(32, 7));
  EXPECT_EQ(a.purpose, SealContext::Purpose::Accept);
  EXPECT_EQ(a.package_hash, Bytes(32, 7));
  EXPECT_EQ(a.home, "home-b");
  EXPECT_EQ(a.provider, "visited-a");
}

}  // namespace
