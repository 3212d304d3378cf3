// The EID's check digits (SGP.29 section 2 / GSMA "EID Definition and
// Assignment Process"): 32 decimal digits whose last two make the whole
// number congruent to 1 mod 97 (ISO/IEC 7064 MOD 97-10, as in an IBAN).
#pragma once
#include <string>
#include <string_view>

namespace rsp {

// True when `eid` is 32 decimal digits and the number is 1 mod 97.
bool eid_valid(std::string_view eid);
// The two check digits for the first 30 digits: 98 - (first30 * 100 mod 97),
// zero-padded. Throws std::invalid_argument unless `first30` is 30 digits.
std::string eid_check_digits(std::string_view first30);

}  // namespace rsp
