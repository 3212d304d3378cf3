// Test helper: AUTHENTICATE (TS 31.102 7.1.2, 3G context) on the selected
// USIM with an AUTN built from Ki/OPc, and the answer Milenage predicts.
#pragma once
#include <gtest/gtest.h>

#include "rsp/apdu.hpp"
#include "rsp/milenage.hpp"
#include "rsp/tlv.hpp"

namespace rsp::e2e {

inline apdu::Response usim_authenticate(apdu::Transport& card, const milenage::Milenage& m, ByteView rand, ByteView sqn) {
  Bytes autn = milenage::make_autn(m, rand, sqn, from_hex("8000"));
  // Case 4 (TS 31.102 7.1.2: Le = 00): without Le the platform answers '61 xx'.
  Bytes cmd = concat(from_hex("0088008122"), tlv::encode_length(16), rand, tlv::encode_length(16), autn, Bytes{0x00});
  return apdu::Response::parse(card.transmit(cmd));
}

// Expects DB 08 RES 10 CK 10 IK for Ki/OPc (SQN 0x21, a fixed RAND).
inline void expect_milenage_authenticate(apdu::Transport& card, ByteView ki, ByteView opc) {
  milenage::Milenage m(ki, opc);
  Bytes rand = from_hex("23553cbe9637a89d218ae64dae47bf35");
  auto r = usim_authenticate(card, m, rand, from_hex("000000000021"));
  ASSERT_EQ(r.sw, 0x9000);
  auto expected = m.f2345(rand);
  Bytes want = concat(Bytes{0xDB, 0x08}, expected.res, Bytes{0x10}, expected.ck, Bytes{0x10}, expected.ik);
  ASSERT_GE(r.data.size(), want.size());
  EXPECT_EQ(to_hex(ByteView(r.data).first(want.size())), to_hex(want));
}

}  // namespace rsp::e2e
