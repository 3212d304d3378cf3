// The minimal profile template (rsp/smdp/profile_template.hpp), built element
// by element with the asn1c PEDefinitions types.
//
// References: SIMalliance/TCA eUICC Profile Package Interoperable Format
// (PE structure, file-system templates of its Annex A, Fcp coding), ETSI TS
// 102 221 (MF files, EF DIR, EF ARR, PIN key references), ETSI TS 102 222
// (file descriptor coding), 3GPP TS 31.102 (USIM files), 3GPP TS 35.206
// (Milenage).
#include "rsp/smdp/profile_template.hpp"

#include <Fcp.h>
#include <File.h>
#include <PINConfiguration.h>
#include <PUKConfiguration.h>
#include <ProfileElement.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rsp/asn1.hpp"

namespace rsp::smdp {

namespace {

// Template OIDs (TCA eUICC profile, id 2.23.143.1.2.x).
constexpr std::string_view kOidMf = "2.23.143.1.2.1";
constexpr std::string_view kOidUsim = "2.23.143.1.2.4";
constexpr std::string_view kOidOptUsim = "2.23.143.1.2.5";

// PIN / PUK key references (TS 102 221 9.5.1, Table 9.3).
constexpr std::uint8_t kPin1 = 0x01, kPin2 = 0x81, kAdm1 = 0x0A;
constexpr std::uint8_t kPuk1 = 0x01, kPuk2 = 0x81;

// Temporary file ID of the ADF USIM, only used inside the package (paths).
constexpr std::uint8_t kAdfUsimTempFid[] = {0x7F, 0xD0};

Bytes u16(std::size_t v) { return Bytes{static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}; }

// efFileSize: minimal number of octets (no leading 00).
Bytes min_octets(std::size_t v) {
  Bytes out;
  do {
    out.insert(out.begin(), static_cast<std::uint8_t>(v & 0xFF));
    v >>= 8;
  } while (v);
  return out;
}

// --- file contents -------------------------------------------------------------

// EF ARR records (TS 102 221 9.2.4, ISO/IEC 7816-4 expanded format): access
// mode DO '80' (AM byte) followed by its security condition DO: '90 00'
// always, 'A4' CRT user verification with a key reference. Operations not
// named are never allowed. Records are 'FF'-padded.
constexpr std::size_t kArrRecordLen = 40;

// AM byte bits (ISO/IEC 7816-4 Tables 16/17). EF: b1 read, b2 update, b4
// deactivate, b5 activate, b7 delete. DF: b1 delete child, b2 create EF,
// b3 create DF, b4 deactivate, b5 activate, b7 delete itself.
constexpr std::uint8_t kAmRead = 0x01, kAmUpdate = 0x02, kAmEfAdmin = 0x58;  // deactivate, activate, delete
constexpr std::uint8_t kAmDfAdmin = 0x5F;

Bytes am(std::uint8_t mode) { return Bytes{0x80, 0x01, mode}; }
Bytes always() { return Bytes{0x90, 0x00}; }
Bytes key(std::uint8_t ref) { return Bytes{0xA4, 0x06, 0x83, 0x01, ref, 0x95, 0x01, 0x08}; }

Bytes arr_records(const std::vector<Bytes>& records) {
  Bytes out;
  for (const auto& r : records) {
    if (r.size() > kArrRecordLen) throw std::logic_error("profile template: EF ARR record too long");
    Bytes rec = r;
    rec.resize(kArrRecordLen, 0xFF);
    append(out, rec);
  }
  return out;
}

// EF ARR under the MF (2F06). Record numbers are what the MF files and the
// ADF USIM reference (securityAttributesReferenced with the record only:
// 2F06 is implied for the MF, the files under it and ADFs).
enum MfArr : std::uint8_t {
  kMfArrDf = 1,          // MF / ADF: administration with ADM1
  kMfArrReadAlw = 2,     // read always; update and administration ADM1
  kMfArrReadOnly = 3,    // read always; no update; administration ADM1
  kMfArrUpdatePin1 = 4,  // read always; update PIN1; administration ADM1
};
Bytes mf_arr() {
  return arr_records({
      concat(am(kAmDfAdmin), key(kAdm1)),
      concat(am(kAmRead), always(), am(kAmUpdate | kAmEfAdmin), key(kAdm1)),
      concat(am(kAmRead), always(), am(kAmEfAdmin), key(kAdm1)),
      concat(am(kAmRead), always(), am(kAmUpdate), key(kPin1), am(kAmEfAdmin), key(kAdm1)),
  });
}

// EF ARR of the ADF USIM (6F06), referenced by the files inside the ADF.
enum UsimArr : std::uint8_t {
  kUsimArrPin1Adm = 1,  // read PIN1; update and administration ADM1
  kUsimArrReadAlw = 2,  // read always; update and administration ADM1
  kUsimArrPin1Pin2 = 3, // read PIN1; update PIN2; administration ADM1
};
Bytes usim_arr() {
  return arr_records({
      concat(am(kAmRead), key(kPin1), am(kAmUpdate | kAmEfAdmin), key(kAdm1)),
      concat(am(kAmRead), always(), am(kAmUpdate | kAmEfAdmin), key(kAdm1)),
      concat(am(kAmRead), key(kPin1), am(kAmUpdate), key(kPin2), am(kAmEfAdmin), key(kAdm1)),
  });
}

// EF DIR (TS 102 221 13.1): one application template '61' { '4F' AID, '50' label }.
constexpr std::size_t kDirRecordLen = 32;
Bytes ef_dir_record(ByteView aid) {
  Bytes label{'U', 'S', 'I', 'M'};
  Bytes body = concat(Bytes{0x4F, static_cast<std::uint8_t>(aid.size())}, aid,
                      Bytes{0x50, static_cast<std::uint8_t>(label.size())}, label);
  Bytes rec = concat(Bytes{0x61, static_cast<std::uint8_t>(body.size())}, body);
  if (rec.size() > kDirRecordLen) throw std::logic_error("profile template: EF DIR record too long");
  rec.resize(kDirRecordLen, 0xFF);
  return rec;
}

// EF ICCID (TS 102 221 13.2): swapped-nibble BCD, 'F'-padded to 10 bytes.
Bytes ef_iccid(std::string_view digits) {
  Bytes b = iccid_to_bcd(digits);
  b.resize(10, 0xFF);
  return b;
}

// ProfileHeader.iccid: plain BCD in reading order, 'F'-filled (as the
// generator and inspect_upp code it).
Bytes header_iccid(std::string_view digits) {
  std::string hex(digits);
  hex.resize(20, 'F');
  return from_hex(hex);
}

// EF IMSI (TS 31.102 4.2.2): length, parity nibble + digit 1, then digit
// pairs with swapped nibbles, 'F'-padded to 9 bytes.
Bytes ef_imsi(std::string_view imsi) {
  std::string nibbles = std::string(1, imsi.size() % 2 ? '9' : '1') + std::string(imsi);
  if (nibbles.size() % 2) nibbles.push_back('F');
  Bytes out{static_cast<std::uint8_t>(nibbles.size() / 2)};
  for (std::size_t i = 0; i < nibbles.size(); i += 2) {
    std::string pair{nibbles[i + 1], nibbles[i]};
    append(out, from_hex(pair));
  }
  out.resize(9, 0xFF);
  return out;
}

// EF UST (TS 31.102 4.2.8): service n is bit (n-1) % 8 of byte (n-1) / 8.
Bytes ef_ust(std::initializer_list<unsigned> services, std::size_t size) {
  Bytes out(size, 0x00);
  for (unsigned n : services) out[(n - 1) / 8] |= static_cast<std::uint8_t>(1u << ((n - 1) % 8));
  return out;
}

// --- building PEs -----------------------------------------------------------------

using FileMember = std::remove_pointer_t<std::remove_pointer_t<decltype(File_t::list.array)>>;

// The FCP parameters a template file overrides (PEDefinitions Fcp); absent
// ones keep the template's values.
struct FcpSpec {
  Bytes descriptor;     // file descriptor (TS 102 222), e.g. 42 21 00 LL for linear fixed
  Bytes file_id;        // ADFs: the temporary file ID
  Bytes df_name;        // ADFs: the AID
  Bytes arr;            // securityAttributesReferenced (record number only)
  Bytes size;           // efFileSize
  Bytes pin_status;     // pinStatusTemplateDO: the key references used in the DF
};

OCTET_STRING_t* opt(const Bytes& b) { return b.empty() ? nullptr : asn1::new_octet_string(b); }

void add_fcp(File_t& f, const FcpSpec& s) {
  auto& m = asn1::add(f.list);
  m.present = File__Member_PR_fileDescriptor;
  Fcp_t& fcp = m.choice.fileDescriptor;
  fcp.fileDescriptor = opt(s.descriptor);
  fcp.fileID = opt(s.file_id);
  fcp.dfName = opt(s.df_name);
  fcp.securityAttributesReferenced = opt(s.arr);
  fcp.efFileSize = opt(s.size);
  fcp.pinStatusTemplateDO = opt(s.pin_status);
}

void add_content(File_t& f, ByteView content) {
  auto& m = asn1::add(f.list);
  m.present = File__Member_PR_fillFileContent;
  asn1::set(m.choice.fillFileContent, content);
}

// A template EF: its ARR record, optionally its content.
void ef(File_t& f, std::uint8_t arr_record, ByteView content = {}) {
  add_fcp(f, FcpSpec{{}, {}, {}, Bytes{arr_record}, {}, {}});
  if (!content.empty()) add_content(f, content);
}

// A linear fixed EF whose record size and count the template leaves to the profile.
void linear_fixed(File_t& f, std::uint8_t arr_record, std::size_t record_len, ByteView records) {
  if (records.size() % record_len) throw std::logic_error("profile template: partial record");
  // Shareable working EF, linear fixed (42), data coding 21, record length.
  add_fcp(f, FcpSpec{concat(Bytes{0x42, 0x21}, u16(record_len)), {}, {}, Bytes{arr_record},
                     min_octets(records.size()), {}});
  add_content(f, records);
}

File_t* new_file() { return asn1::alloc<File_t>(); }

void pe_header(PEHeader_t& h, long id) {
  h.mandated = asn1::alloc<NULL_t>();
  h.identification = id;
}

using PE = asn1::Value<ProfileElement_t>;

PE make_pe(ProfileElement_PR kind) {
  auto pe = RSP_ASN1_MAKE(ProfileElement);
  pe->present = kind;
  return pe;
}

PE header() {
  PE pe = make_pe(ProfileElement_PR_header);
  ProfileHeader_t& h = pe->choice.header;
  h.major_version = 2;
  h.minor_version = 3;
  h.profileType = asn1::new_octet_string(kMinimalTemplateProfileType);
  asn1::set(h.iccid, header_iccid(kMinimalTemplateIccid));
  h.eUICC_Mandatory_services.usim = asn1::alloc<NULL_t>();
  h.eUICC_Mandatory_services.milenage = asn1::alloc<NULL_t>();
  for (auto oid : {kOidMf, kOidUsim, kOidOptUsim}) asn1::set_oid(asn1::add(h.eUICC_Mandatory_GFSTEList.list), oid);
  return pe;
}

PE mf(long id, ByteView usim_aid) {
  PE pe = make_pe(ProfileElement_PR_mf);
  PE_MF_t& m = pe->choice.mf;
  pe_header(m.mf_header, id);
  asn1::set_oid(m.templateID, kOidMf);
  add_fcp(m.mf, FcpSpec{{}, {}, {}, Bytes{kMfArrDf}, {}, Bytes{kPin1, kAdm1}});
  m.ef_pl = new_file();
  ef(*m.ef_pl, kMfArrUpdatePin1);  // template size and content ('FF': no preference)
  ef(m.ef_iccid, kMfArrReadOnly, ef_iccid(kMinimalTemplateIccid));
  linear_fixed(m.ef_dir, kMfArrReadAlw, kDirRecordLen, ef_dir_record(usim_aid));
  linear_fixed(m.ef_arr, kMfArrReadAlw, kArrRecordLen, mf_arr());
  return pe;
}

PE puks(long id) {
  PE pe = make_pe(ProfileElement_PR_pukCodes);
  PE_PUKCodes_t& p = pe->choice.pukCodes;
  pe_header(p.puk_Header, id);
  // maxNumOfAttemps-retryNumLeft: DEFAULT 10 / 10 (omitted).
  for (auto [ref, value] : {std::pair{kPuk1, "12345678"}, std::pair{kPuk2, "87654321"}}) {
    auto& c = asn1::add(p.pukCodes.list);
    asn1::set_int64(c.keyReference, ref);
    asn1::set(c.pukValue, std::string_view(value));
  }
  return pe;
}

// PIN value (TS 102 221 9.5.1): ASCII digits, 'FF'-padded to 8 bytes.
Bytes pin_value(std::string_view digits) {
  Bytes b(digits.begin(), digits.end());
  b.resize(8, 0xFF);
  return b;
}

// pinAttributes as SAIP profiles use them: 6 for a PIN that starts disabled
// (PIN1; the user may enable it), 3 for one always verified (PIN2, ADM1).
// maxNumOfAttemps-retryNumLeft: DEFAULT 3 / 3 (omitted).
void add_pin(PE_PINCodes_t& p, std::uint8_t ref, ByteView value, long attributes, std::optional<std::uint8_t> puk) {
  auto& c = asn1::add(p.pinCodes.choice.pinconfig.list);
  asn1::set_int64(c.keyReference, ref);
  asn1::set(c.pinValue, value);
  if (puk) c.unblockingPINReference = asn1::new_integer(*puk);
  if (attributes != 7) {  // DEFAULT 7
    c.pinAttributes = asn1::alloc<UInt8_t>();
    *c.pinAttributes = attributes;
  }
}

PE mf_pins(long id) {
  PE pe = make_pe(ProfileElement_PR_pinCodes);
  PE_PINCodes_t& p = pe->choice.pinCodes;
  pe_header(p.pin_Header, id);
  p.pinCodes.present = PE_PINCodes__pinCodes_PR_pinconfig;
  add_pin(p, kPin1, pin_value("0000"), 6, kPuk1);
  add_pin(p, kAdm1, Bytes{'8', '8', '8', '8', '8', '8', '8', '8'}, 3, std::nullopt);
  return pe;
}

PE usim_pins(long id) {
  PE pe = make_pe(ProfileElement_PR_pinCodes);
  PE_PINCodes_t& p = pe->choice.pinCodes;
  pe_header(p.pin_Header, id);
  p.pinCodes.present = PE_PINCodes__pinCodes_PR_pinconfig;
  add_pin(p, kPin2, pin_value("0000"), 3, kPuk2);
  return pe;
}

PE usim(long id, ByteView usim_aid) {
  PE pe = make_pe(ProfileElement_PR_usim);
  PE_USIM_t& u = pe->choice.usim;
  pe_header(u.usim_header, id);
  asn1::set_oid(u.templateID, kOidUsim);
  add_fcp(u.adf_usim, FcpSpec{{}, Bytes(std::begin(kAdfUsimTempFid), std::end(kAdfUsimTempFid)),
                              Bytes(usim_aid.begin(), usim_aid.end()), Bytes{kMfArrDf}, {},
                              Bytes{kPin1, kPin2, kAdm1}});
  ef(u.ef_imsi, kUsimArrPin1Adm, ef_imsi(kMinimalTemplateImsi));
  linear_fixed(u.ef_arr, kUsimArrReadAlw, kArrRecordLen, usim_arr());
  // Services: 19 SPN, 33 packet switched domain (TS 31.102: "shall be set
  // to 1"), 43 HPLMN selector with access technology (PE-OPT-USIM). 14 bytes
  // as the template sizes it.
  ef(u.ef_ust, kUsimArrPin1Adm, ef_ust({19, 33, 43}, 14));
  // EF SPN (4.2.12): display condition, then the name ('FF': none yet).
  Bytes spn(17, 0xFF);
  spn[0] = 0x01;
  ef(u.ef_spn, kUsimArrReadAlw, spn);
  ef(u.ef_est, kUsimArrPin1Pin2, Bytes{0x00});         // 4.2.47: no service enabled
  ef(u.ef_acc, kUsimArrPin1Adm, Bytes{0x00, 0x01});    // 4.2.15: access class 0
  u.ef_ad = new_file();
  ef(*u.ef_ad, kUsimArrReadAlw, Bytes{0x00, 0x00, 0x00, 0x02});  // 4.2.18: normal operation, MNC length 2
  ef(u.ef_ecc, kUsimArrReadAlw, Bytes{0xFF, 0xFF, 0xFF, 0xFF});  // 4.2.21: one empty record
  return pe;
}

PE opt_usim(long id) {
  PE pe = make_pe(ProfileElement_PR_opt_usim);
  PE_OPT_USIM_t& o = pe->choice.opt_usim;
  pe_header(o.optusim_header, id);
  asn1::set_oid(o.templateID, kOidOptUsim);
  // EF HPLMNwAcT (4.2.54): one entry, unused (PLMN FFFFFF, no access technology).
  o.ef_hplmnwact = new_file();
  ef(*o.ef_hplmnwact, kUsimArrPin1Adm, Bytes{0xFF, 0xFF, 0xFF, 0x00, 0x00});
  return pe;
}

PE aka(long id) {
  PE pe = make_pe(ProfileElement_PR_akaParameter);
  PE_AKAParameter_t& a = pe->choice.akaParameter;
  pe_header(a.aka_header, id);
  a.algoConfiguration.present = PE_AKAParameter__algoConfiguration_PR_algoParameter;
  AlgoParameter_t& p = a.algoConfiguration.choice.algoParameter;
  asn1::set_int64(p.algorithmID, AlgoParameter__algorithmID_milenage);
  asn1::set(p.algorithmOptions, Bytes{0x00});
  asn1::set(p.key, Bytes(16, 0x00));  // Ki placeholder
  asn1::set(p.opc, Bytes(16, 0x00));  // OPc placeholder
  // rotationConstants / xoringConstants: absent = their DEFAULT, the TS 35.206
  // constants r1..r5 = 64, 0, 32, 64, 96 and c1..c5 = 0, 1, 2, 4, 8; sqnOptions,
  // sqnDelta, sqnAgeLimit: DEFAULT; sqnInit: absent (all zero).
  return pe;
}

PE end(long id) {
  PE pe = make_pe(ProfileElement_PR_end);
  pe_header(pe->choice.end.end_header, id);
  return pe;
}

}  // namespace

Bytes minimal_profile_template() {
  static_assert(kMinimalTemplateIccid.size() == 19 && kMinimalTemplateImsi.size() == 15);
  const Bytes usim_aid = from_hex(std::string(kMinimalTemplateUsimAid));
  Bytes out;
  auto add = [&out](const PE& pe) { append(out, pe.encode_der()); };
  add(header());
  add(mf(1, usim_aid));
  add(puks(2));
  add(mf_pins(3));
  add(usim(4, usim_aid));
  add(opt_usim(5));
  add(usim_pins(6));
  add(aka(7));
  add(end(8));
  return out;
}

}  // namespace rsp::smdp
