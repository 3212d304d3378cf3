#include "rsp/gp/secure_channel.hpp"

namespace rsp::gp {

StaticKeys default_test_keys() {
  // GP 2.3.1 does not define them; every GlobalPlatform test card ships them.
  Bytes k(16);
  for (std::size_t i = 0; i < 16; ++i) k[i] = static_cast<std::uint8_t>(0x40 + i);
  StaticKeys s;
  s.enc = k;
  s.mac = k;
  s.dek = k;
  return s;
}

Bytes pad80(ByteView data, std::size_t block) {
  Bytes out(data.begin(), data.end());
  out.push_back(0x80);
  while (out.size() % block) out.push_back(0x00);
  return out;
}

Bytes unpad80(ByteView data) {
  std::size_t n = data.size();
  while (n > 0 && data[n - 1] == 0x00) --n;
  if (n == 0 || data[n - 1] != 0x80) throw SecurityError("no 80 00.. padding in deciphered data");
  return Bytes(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n - 1));
}

}  // namespace rsp::gp
