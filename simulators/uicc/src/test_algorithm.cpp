// 3GPP TS 34.108 8.1.2.1 (test USIM) functions f1..f5 over XDOUT = K xor RAND.
#include "rsp/uicc/test_algorithm.hpp"

#include <stdexcept>

namespace rsp::uicc::test_algorithm {

Vectors compute(ByteView k, ByteView rand) {
  if (k.size() != 16 || rand.size() != 16) throw std::invalid_argument("test algorithm: K and RAND are 128 bits");
  Vectors v;
  v.xdout.resize(16);
  for (std::size_t i = 0; i < 16; ++i) v.xdout[i] = k[i] ^ rand[i];
  v.res.assign(v.xdout.begin(), v.xdout.begin() + kResLen);
  v.ck.resize(16);
  v.ik.resize(16);
  for (std::size_t i = 0; i < 16; ++i) {
    v.ck[i] = v.xdout[(i + 1) % 16];
    v.ik[i] = v.xdout[(i + 2) % 16];
  }
  v.ak.assign(v.xdout.begin() + 3, v.xdout.begin() + 9);
  return v;
}

Bytes mac(const Vectors& v, ByteView sqn, ByteView amf) {
  if (sqn.size() != 6 || amf.size() != 2) throw std::invalid_argument("test algorithm: SQN 48 bits, AMF 16 bits");
  Bytes out(8);
  for (std::size_t i = 0; i < 8; ++i) out[i] = v.xdout[i] ^ (i < 6 ? sqn[i] : amf[i - 6]);
  return out;
}

}  // namespace rsp::uicc::test_algorithm
