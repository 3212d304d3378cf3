// Card-unique static keys from a master key and the key diversification
// data the card returns in INITIALIZE UPDATE (its first 10 bytes), by the
// templates card issuers use with SCP02 keys:
// - EMV CPS 1.1 (section 5.4.2.1): KDD bytes 4..9 (the six rightmost)
//   || F0 || k and || 0F || k, each 3DES-ECB under the master key;
// - VISA2 (GlobalPlatform's "VISA2" scheme): KDD bytes 0,1,4,5,6,7 in place of 4..9;
// - KDF3 (GlobalPlatformPro's name; for SCP03 AES keys): block i (from 01) of
//   AES-CMAC(master, i || 00 00 00 || k || 00 || KDD[0..9]), NIST SP 800-108
//   in counter mode with the PRF of Amendment D 4.1.5, as many 16-byte blocks
//   as the master key is long (AES-128/192/256). No GlobalPlatform document
//   defines it: GlobalPlatformPro's "kdf3" template and its test vectors do.
// k = 01 for ENC, 02 for MAC, 03 for DEK.
#pragma once
#include <string_view>

#include "rsp/gp/secure_channel.hpp"

namespace rsp::gp {

enum class Diversification { None, Visa2, EmvCps11, Kdf3 };
Diversification diversification_from_name(std::string_view name);  // "none", "visa2", "emv", "kdf3"; throws DecodeError

// Throws SecurityError for a KDD shorter than 10 bytes, or keys of the wrong length
// (VISA2/EMV: 16-byte 3DES keys; KDF3: 16/24/32-byte AES keys).
StaticKeys diversify(const StaticKeys& master, Diversification how, ByteView key_diversification_data);

}  // namespace rsp::gp
