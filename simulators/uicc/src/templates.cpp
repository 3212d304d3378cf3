// The template table. Sizes, SFIs and default values follow the Interoperable
// Profile template annex, v2.3.1 (TS 102 221 / TS 31.102 / TS 31.103 file
// ids), checked entry by entry against pySim's transcription of it
// (pySim/esim/saip/templates.py): MF, CD, TELECOM, USIM and OPT-USIM,
// PHONEBOOK, GSM-ACCESS, DF-5GS, DF-SAIP, DF-SNPN, DF-5GPROSE, ISIM and
// OPT-ISIM, EAP. Where the two disagree the TS 102 221 / TS 31.102 file id
// is kept: EF.ICCID 2FE2 (pySim 2F02), EF.MMSSMODE 4F22 (4F21, EF.MSPL's),
// EF.EXT7 6FCC (6FCB, EF.CFIS's), DF.5GS 5FC0 and DF.SAIP 5FD0 (6FC0,
// 6FD0); EF.ICCID SFI 02 and the MF's EF.ARR SFI 06 are TS 102 221 13.2 /
// 13.4's (pySim: none). Families with one member name for a range of file
// ids (EF.ICON, EF.IIDF, the phonebook's EF.ADN..EF.CCP1) always come with
// an FCP naming the file id, so they are not listed. CSIM's template (3GPP2
// C.S0065 files) is not listed: there is no transcription of it to check
// against, so a CSIM PE's files without a size get the size of their
// contents.
#include "templates.hpp"

#include <array>

namespace rsp::uicc::detail {
namespace {

using F = FileType;
constexpr F TR = F::Transparent, LF = F::LinearFixed, CY = F::Cyclic, BT = F::BerTlv, DF = F::Df;

constexpr std::array kTemplates = {
    // PE-MF
    Template{"mf", "mf", 0x3F00, F::Mf, 0, 0, 0, ""},
    Template{"mf", "ef-pl", 0x2F05, TR, 0, 2, 0x05, "FF...FF"},
    Template{"mf", "ef-iccid", 0x2FE2, TR, 0, 10, 0x02, ""},  // SFI 02: TS 102 221 13.2
    Template{"mf", "ef-dir", 0x2F00, LF, 0, 0, 0x1E, ""},
    Template{"mf", "ef-arr", 0x2F06, LF, 0, 0, 0x06, ""},
    Template{"mf", "ef-umpc", 0x2F08, TR, 0, 5, 0x08, ""},
    // PE-CD
    Template{"cd", "df-cd", 0x7F11, DF, 0, 0, 0, ""},
    Template{"cd", "ef-launchpad", 0x6F01, TR, 0, 0, 0, ""},
    // PE-TELECOM (DF.TELECOM and its sub-DFs)
    Template{"telecom", "df-telecom", 0x7F10, DF, 0, 0, 0, ""},
    Template{"telecom", "ef-arr", 0x6F06, LF, 0, 0, 0, ""},
    Template{"telecom", "ef-rma", 0x6F53, LF, 0, 0, 0, ""},
    Template{"telecom", "ef-sume", 0x6F54, TR, 0, 22, 0, ""},
    Template{"telecom", "ef-ice-dn", 0x6FE0, LF, 50, 24, 0, "FF...FF"},
    Template{"telecom", "ef-ice-ff", 0x6FE1, LF, 0, 0, 0, "FF...FF"},
    Template{"telecom", "ef-psismsc", 0x6FE5, LF, 0, 0, 0, ""},
    Template{"telecom", "df-graphics", 0x5F50, DF, 0, 0, 0, ""},
    Template{"telecom", "ef-img", 0x4F20, LF, 0, 0, 0, "00FF...FF"},
    Template{"telecom", "ef-ice-graphics", 0x4F21, BT, 0, 0, 0, ""},
    Template{"telecom", "ef-launch-scws", 0x4F01, TR, 0, 0, 0, ""},
    Template{"telecom", "df-phonebook", 0x5F3A, DF, 0, 0, 0, ""},
    Template{"telecom", "ef-pbr", 0x4F30, LF, 0, 0, 0, ""},
    Template{"telecom", "ef-psc", 0x4F22, TR, 0, 4, 0, "00000000"},
    Template{"telecom", "ef-cc", 0x4F23, TR, 0, 2, 0, "0000"},
    Template{"telecom", "ef-puid", 0x4F24, TR, 0, 2, 0, "0000"},
    Template{"telecom", "df-multimedia", 0x5F3B, DF, 0, 0, 0, ""},
    Template{"telecom", "ef-mml", 0x4F47, BT, 0, 0, 0, ""},
    Template{"telecom", "ef-mmdf", 0x4F48, BT, 0, 0, 0, ""},
    Template{"telecom", "df-mmss", 0x5F3C, DF, 0, 0, 0, ""},
    Template{"telecom", "ef-mlpl", 0x4F20, TR, 0, 0, 0x01, ""},
    Template{"telecom", "ef-mspl", 0x4F21, TR, 0, 0, 0x02, ""},
    Template{"telecom", "ef-mmssmode", 0x4F22, TR, 0, 1, 0x03, ""},
    Template{"telecom", "df-mcs", 0x5F3D, DF, 0, 0, 0, ""},
    Template{"telecom", "df-v2x", 0x5F3E, DF, 0, 0, 0, ""},
    // PE-USIM (ADF.USIM, created by default)
    Template{"usim", "adf-usim", 0x7FF0, F::Adf, 0, 0, 0, ""},
    Template{"usim", "ef-imsi", 0x6F07, TR, 0, 9, 0x07, ""},
    Template{"usim", "ef-arr", 0x6F06, LF, 0, 0, 0x17, ""},
    Template{"usim", "ef-keys", 0x6F08, TR, 0, 33, 0x08, "07FF...FF"},
    Template{"usim", "ef-keysPS", 0x6F09, TR, 0, 33, 0x09, "07FF...FF"},
    Template{"usim", "ef-hpplmn", 0x6F31, TR, 0, 1, 0x12, "0A"},
    Template{"usim", "ef-ust", 0x6F38, TR, 0, 14, 0x04, ""},
    Template{"usim", "ef-fdn", 0x6F3B, LF, 20, 26, 0, "FF...FF"},
    Template{"usim", "ef-sms", 0x6F3C, LF, 10, 176, 0, "00FF...FF"},
    Template{"usim", "ef-smsp", 0x6F42, LF, 1, 38, 0, "FF...FF"},
    Template{"usim", "ef-smss", 0x6F43, TR, 0, 2, 0, "FFFF"},
    Template{"usim", "ef-spn", 0x6F46, TR, 0, 17, 0, ""},
    Template{"usim", "ef-est", 0x6F56, TR, 0, 1, 0x05, ""},
    Template{"usim", "ef-start-hfn", 0x6F5B, TR, 0, 6, 0x0F, "F00000F00000"},
    Template{"usim", "ef-threshold", 0x6F5C, TR, 0, 3, 0x10, "FFFFFF"},
    Template{"usim", "ef-psloci", 0x6F73, TR, 0, 14, 0x0C, "FFFFFFFFFFFFFFFFFFFF0000FF01"},
    Template{"usim", "ef-acc", 0x6F78, TR, 0, 2, 0x06, ""},
    Template{"usim", "ef-fplmn", 0x6F7B, TR, 0, 12, 0x0D, "FF...FF"},
    Template{"usim", "ef-loci", 0x6F7E, TR, 0, 11, 0x0B, "FFFFFFFFFFFFFF0000FF01"},
    Template{"usim", "ef-ad", 0x6FAD, TR, 0, 4, 0x03, "00000002"},
    Template{"usim", "ef-ecc", 0x6FB7, LF, 1, 4, 0x01, ""},
    Template{"usim", "ef-netpar", 0x6FC4, TR, 0, 128, 0, "FF...FF"},
    Template{"usim", "ef-epsloci", 0x6FE3, TR, 0, 18, 0x1E, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF000001"},
    Template{"usim", "ef-epsnsc", 0x6FE4, LF, 1, 80, 0x18, "FF...FF"},
    // PE-OPT-USIM (files in ADF.USIM, created only when listed)
    Template{"opt-usim", "ef-li", 0x6F05, TR, 0, 6, 0x02, "FF...FF"},
    Template{"opt-usim", "ef-acmax", 0x6F37, TR, 0, 3, 0, "000000"},
    Template{"opt-usim", "ef-acm", 0x6F39, CY, 1, 3, 0, "000000"},
    Template{"opt-usim", "ef-gid1", 0x6F3E, TR, 0, 8, 0, ""},
    Template{"opt-usim", "ef-gid2", 0x6F3F, TR, 0, 8, 0, ""},
    Template{"opt-usim", "ef-msisdn", 0x6F40, LF, 1, 24, 0, "FF...FF"},
    Template{"opt-usim", "ef-puct", 0x6F41, TR, 0, 5, 0, "FFFFFF0000"},
    Template{"opt-usim", "ef-cbmi", 0x6F45, TR, 0, 10, 0, "FF...FF"},
    Template{"opt-usim", "ef-cbmid", 0x6F48, TR, 0, 10, 0x0E, "FF...FF"},
    Template{"opt-usim", "ef-sdn", 0x6F49, LF, 10, 24, 0, "FF...FF"},
    Template{"opt-usim", "ef-ext2", 0x6F4B, LF, 10, 13, 0, "00FF...FF"},
    Template{"opt-usim", "ef-ext3", 0x6F4C, LF, 10, 13, 0, "00FF...FF"},
    Template{"opt-usim", "ef-cbmir", 0x6F50, TR, 0, 20, 0, "FF...FF"},
    Template{"opt-usim", "ef-plmnwact", 0x6F60, TR, 0, 40, 0x0A, "FFFFFF0000"},
    Template{"opt-usim", "ef-oplmnwact", 0x6F61, TR, 0, 40, 0x11, "FFFFFF0000"},
    Template{"opt-usim", "ef-hplmnwact", 0x6F62, TR, 0, 5, 0x13, "FFFFFF0000"},
    Template{"opt-usim", "ef-dck", 0x6F2C, TR, 0, 16, 0, "FF...FF"},
    Template{"opt-usim", "ef-cnl", 0x6F32, TR, 0, 30, 0, "FF...FF"},
    Template{"opt-usim", "ef-smsr", 0x6F47, LF, 10, 30, 0, "00FF...FF"},
    Template{"opt-usim", "ef-bdn", 0x6F4D, LF, 10, 25, 0, "FF...FF"},
    Template{"opt-usim", "ef-ext5", 0x6F4E, LF, 10, 13, 0, "00FF...FF"},
    Template{"opt-usim", "ef-ccp2", 0x6F4F, LF, 5, 15, 0x16, "FF...FF"},
    Template{"opt-usim", "ef-ext4", 0x6F55, LF, 10, 13, 0, "00FF...FF"},
    Template{"opt-usim", "ef-acl", 0x6F57, TR, 0, 101, 0, "00FF...FF"},
    Template{"opt-usim", "ef-cmi", 0x6F58, LF, 10, 11, 0, "FF...FF"},
    Template{"opt-usim", "ef-ici", 0x6F80, CY, 20, 38, 0x14, "FF...FF0000000001FFFF"},
    Template{"opt-usim", "ef-oci", 0x6F81, CY, 20, 37, 0x15, "FF...FF00000001FFFF"},
    Template{"opt-usim", "ef-ict", 0x6F82, CY, 1, 3, 0, "000000"},
    Template{"opt-usim", "ef-oct", 0x6F83, CY, 1, 3, 0, "000000"},
    Template{"opt-usim", "ef-vgcs", 0x6FB1, TR, 0, 20, 0, ""},
    Template{"opt-usim", "ef-vgcss", 0x6FB2, TR, 0, 7, 0, ""},
    Template{"opt-usim", "ef-vbs", 0x6FB3, TR, 0, 20, 0, ""},
    Template{"opt-usim", "ef-vbss", 0x6FB4, TR, 0, 7, 0, ""},
    Template{"opt-usim", "ef-emlpp", 0x6FB5, TR, 0, 2, 0, ""},
    Template{"opt-usim", "ef-aaem", 0x6FB6, TR, 0, 1, 0, "00"},
    Template{"opt-usim", "ef-hiddenkey", 0x6FC3, TR, 0, 4, 0, "FF...FF"},
    Template{"opt-usim", "ef-pnn", 0x6FC5, LF, 10, 16, 0x19, ""},
    Template{"opt-usim", "ef-opl", 0x6FC6, LF, 5, 8, 0x1A, ""},
    Template{"opt-usim", "ef-mbdn", 0x6FC7, LF, 3, 24, 0, ""},
    Template{"opt-usim", "ef-ext6", 0x6FC8, LF, 10, 13, 0, "00FF...FF"},
    Template{"opt-usim", "ef-mbi", 0x6FC9, LF, 10, 5, 0, ""},
    Template{"opt-usim", "ef-mwis", 0x6FCA, LF, 10, 6, 0, "00...00"},
    Template{"opt-usim", "ef-cfis", 0x6FCB, LF, 10, 16, 0, "0100FF...FF"},
    Template{"opt-usim", "ef-ext7", 0x6FCC, LF, 10, 13, 0, "00FF...FF"},
    Template{"opt-usim", "ef-spdi", 0x6FCD, TR, 0, 17, 0x1B, ""},
    Template{"opt-usim", "ef-mmsn", 0x6FCE, LF, 10, 6, 0, "000000FF...FF"},
    Template{"opt-usim", "ef-ext8", 0x6FCF, LF, 10, 13, 0, "00FF...FF"},
    Template{"opt-usim", "ef-mmsicp", 0x6FD0, TR, 0, 100, 0, "FF...FF"},
    Template{"opt-usim", "ef-mmsup", 0x6FD1, LF, 0, 0, 0, "FF...FF"},
    Template{"opt-usim", "ef-mmsucp", 0x6FD2, TR, 0, 100, 0, "FF...FF"},
    Template{"opt-usim", "ef-nia", 0x6FD3, LF, 5, 11, 0, "FF...FF"},
    Template{"opt-usim", "ef-vgcsca", 0x6FD4, TR, 0, 0, 0, "00...00"},
    Template{"opt-usim", "ef-vbsca", 0x6FD5, TR, 0, 0, 0, "00...00"},
    Template{"opt-usim", "ef-gbabp", 0x6FD6, TR, 0, 0, 0, "FF...FF"},
    Template{"opt-usim", "ef-msk", 0x6FD7, LF, 0, 0, 0, "FF...FF"},
    Template{"opt-usim", "ef-muk", 0x6FD8, LF, 0, 0, 0, "FF...FF"},
    Template{"opt-usim", "ef-ehplmn", 0x6FD9, TR, 0, 15, 0x1D, "FF...FF"},
    Template{"opt-usim", "ef-gbanl", 0x6FDA, LF, 0, 0, 0, "FF...FF"},
    Template{"opt-usim", "ef-ehplmnpi", 0x6FDB, TR, 0, 1, 0, "00"},
    Template{"opt-usim", "ef-lrplmnsi", 0x6FDC, TR, 0, 1, 0, "00"},
    Template{"opt-usim", "ef-nafkca", 0x6FDD, LF, 0, 0, 0, "FF...FF"},
    Template{"opt-usim", "ef-spni", 0x6FDE, TR, 0, 0, 0, "00FF...FF"},
    Template{"opt-usim", "ef-pnni", 0x6FDF, LF, 0, 0, 0, "00FF...FF"},
    Template{"opt-usim", "ef-ncp-ip", 0x6FE2, LF, 0, 0, 0, ""},
    Template{"opt-usim", "ef-nasconfig", 0x6FE8, TR, 0, 18, 0, ""},
    Template{"opt-usim", "ef-uicciari", 0x6FE7, LF, 0, 0, 0, ""},
    Template{"opt-usim", "ef-fdnuri", 0x6FED, LF, 0, 0, 0, "FF...FF"},
    Template{"opt-usim", "ef-bdnuri", 0x6FEE, LF, 0, 0, 0, "FF...FF"},
    Template{"opt-usim", "ef-sdnuri", 0x6FEF, LF, 0, 0, 0, "FF...FF"},
    Template{"opt-usim", "ef-ufc", 0x6FE6, TR, 0, 30, 0, "801E60C01E900080040000000000000000F0000000004000000000000080"},
    Template{"opt-usim", "ef-pws", 0x6FEC, TR, 0, 0, 0, ""},
    Template{"opt-usim", "ef-ips", 0x6FF1, CY, 0, 4, 0, "FF...FF"},
    Template{"opt-usim", "ef-ipd", 0x6FF2, LF, 0, 0, 0, "FF...FF"},
    Template{"opt-usim", "ef-eaka", 0x6F01, TR, 0, 1, 0, ""},
    // PE-PHONEBOOK (DF.PHONEBOOK in ADF.USIM)
    Template{"phonebook", "df-phonebook", 0x5F3A, DF, 0, 0, 0, ""},
    Template{"phonebook", "ef-pbr", 0x4F30, LF, 0, 0, 0, ""},
    Template{"phonebook", "ef-psc", 0x4F22, TR, 0, 4, 0, "00000000"},
    Template{"phonebook", "ef-cc", 0x4F23, TR, 0, 2, 0, "0000"},
    Template{"phonebook", "ef-puid", 0x4F24, TR, 0, 2, 0, "0000"},
    // PE-GSM-ACCESS (DF.GSM-ACCESS in ADF.USIM)
    Template{"gsm-access", "df-gsm-access", 0x5F3B, DF, 0, 0, 0, ""},
    Template{"gsm-access", "ef-kc", 0x4F20, TR, 0, 9, 0x01, "FF...FF07"},
    Template{"gsm-access", "ef-kcgprs", 0x4F52, TR, 0, 9, 0x02, "FF...FF07"},
    Template{"gsm-access", "ef-cpbcch", 0x4F63, TR, 0, 10, 0, "FF...FF"},
    Template{"gsm-access", "ef-invscan", 0x4F64, TR, 0, 1, 0, "00"},
    // PE-DF-5GS (DF.5GS in ADF.USIM, TS 31.102 4.4.11)
    Template{"df-5gs", "df-df-5gs", 0x5FC0, DF, 0, 0, 0, ""},
    Template{"df-5gs", "ef-5gs3gpploci", 0x4F01, TR, 0, 20, 0x01, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000001"},
    Template{"df-5gs", "ef-5gsn3gpploci", 0x4F02, TR, 0, 20, 0x02, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000001"},
    // 1 record of 57 bytes in the v2.3.1 annex (DF-5GS template OID v1); the
    // later template versions (v2-v4, SAIP 3.x) have 2 of 62. The version is
    // not told apart here: the TS.48 packages (SAIP 2.1/2.3) give both sizes.
    Template{"df-5gs", "ef-5gs3gppnsc", 0x4F03, LF, 1, 57, 0x03, "FF...FF"},
    Template{"df-5gs", "ef-5gsn3gppnsc", 0x4F04, LF, 1, 57, 0x04, "FF...FF"},
    Template{"df-5gs", "ef-5gauthkeys", 0x4F05, TR, 0, 110, 0x05, ""},
    Template{"df-5gs", "ef-uac-aic", 0x4F06, TR, 0, 4, 0x06, ""},
    Template{"df-5gs", "ef-suci-calc-info", 0x4F07, TR, 0, 0, 0x07, "FF...FF"},
    Template{"df-5gs", "ef-opl5g", 0x4F08, LF, 0, 10, 0x08, "FF...FF"},
    Template{"df-5gs", "ef-supinai", 0x4F09, TR, 0, 0, 0x09, ""},
    Template{"df-5gs", "ef-routing-indicator", 0x4F0A, TR, 0, 4, 0x0A, "F0FFFFFF"},
    Template{"df-5gs", "ef-ursp", 0x4F0B, BT, 0, 0, 0, ""},
    Template{"df-5gs", "ef-tn3gppsnn", 0x4F0C, TR, 0, 1, 0x0C, "00"},
    // PE-DF-SAIP (DF.SAIP in ADF.USIM)
    Template{"df-saip", "df-df-saip", 0x5FD0, DF, 0, 0, 0, ""},
    Template{"df-saip", "ef-suci-calc-info-usim", 0x4F01, TR, 0, 0, 0, "FF...FF"},
    // PE-DF-SNPN, PE-DF-5GPROSE (in ADF.USIM; annex 9.5.13, 9.5.14)
    Template{"df-snpn", "df-df-snpn", 0x5FE0, DF, 0, 0, 0, ""},
    Template{"df-snpn", "ef-pws-snpn", 0x4F01, TR, 0, 1, 0, ""},
    Template{"df-5gprose", "df-df-5g-prose", 0x5FF0, DF, 0, 0, 0, ""},
    Template{"df-5gprose", "ef-5g-prose-st", 0x4F01, TR, 0, 1, 0x01, ""},
    Template{"df-5gprose", "ef-5g-prose-dd", 0x4F02, TR, 0, 26, 0x02, ""},
    Template{"df-5gprose", "ef-5g-prose-dc", 0x4F03, TR, 0, 12, 0x03, ""},
    Template{"df-5gprose", "ef-5g-prose-u2nru", 0x4F04, TR, 0, 32, 0x04, ""},
    Template{"df-5gprose", "ef-5g-prose-ru", 0x4F05, TR, 0, 29, 0x05, ""},
    Template{"df-5gprose", "ef-5g-prose-uir", 0x4F06, TR, 0, 32, 0x06, ""},
    // PE-ISIM (ADF.ISIM, created by default; TS 31.103)
    Template{"isim", "adf-isim", 0x7FF0, F::Adf, 0, 0, 0, ""},
    Template{"isim", "ef-impi", 0x6F02, TR, 0, 0, 0x02, ""},
    Template{"isim", "ef-impu", 0x6F04, LF, 1, 0, 0x04, ""},
    Template{"isim", "ef-domain", 0x6F03, TR, 0, 0, 0x05, ""},
    Template{"isim", "ef-ist", 0x6F07, TR, 0, 14, 0x07, ""},
    Template{"isim", "ef-ad", 0x6FAD, TR, 0, 3, 0x03, "000000"},
    Template{"isim", "ef-arr", 0x6F06, LF, 0, 0, 0x06, ""},
    // PE-OPT-ISIM
    Template{"opt-isim", "ef-pcscf", 0x6F09, LF, 1, 0, 0, ""},
    Template{"opt-isim", "ef-sms", 0x6F3C, LF, 10, 176, 0, "00FF...FF"},
    Template{"opt-isim", "ef-smsp", 0x6F42, LF, 1, 38, 0, "FF...FF"},
    Template{"opt-isim", "ef-smss", 0x6F43, TR, 0, 2, 0, "FFFF"},
    Template{"opt-isim", "ef-smsr", 0x6F47, LF, 10, 30, 0, "00FF...FF"},
    Template{"opt-isim", "ef-gbabp", 0x6FD5, TR, 0, 0, 0, "FF...FF"},
    Template{"opt-isim", "ef-gbanl", 0x6FD7, LF, 0, 0, 0, "FF...FF"},
    Template{"opt-isim", "ef-nafkca", 0x6FDD, LF, 0, 0, 0, "FF...FF"},
    Template{"opt-isim", "ef-uicciari", 0x6FE7, LF, 0, 0, 0, ""},
    // PE-EAP
    Template{"eap", "df-eap", 0x5F40, DF, 0, 0, 0, ""},
    Template{"eap", "ef-eapkeys", 0x4F01, TR, 0, 0, 0, ""},
    Template{"eap", "ef-eapstatus", 0x4F02, TR, 0, 1, 0, "00"},
    Template{"eap", "ef-puid", 0x4F03, TR, 0, 0, 0, ""},
    Template{"eap", "ef-ps", 0x4F04, TR, 0, 0, 0, "FF...FF"},
    Template{"eap", "ef-curid", 0x4F20, TR, 0, 0, 0, "FF...FF"},
    Template{"eap", "ef-reid", 0x4F21, TR, 0, 0, 0, ""},  // EF.RelID
    Template{"eap", "ef-realm", 0x4F22, TR, 0, 0, 0, ""},
    // PE-CSIM / PE-OPT-CSIM: the ADF only (see above)
    Template{"csim", "adf-csim", 0x7FF0, F::Adf, 0, 0, 0, ""},
    // PE-IoT (minimal profiles)
    Template{"iot", "mf", 0x3F00, F::Mf, 0, 0, 0, ""},
    Template{"iot", "adf-usim", 0x7FF0, F::Adf, 0, 0, 0, ""},
    Template{"iot", "ef-imsi", 0x6F07, TR, 0, 9, 0x07, ""},
    Template{"iot", "ef-acc", 0x6F78, TR, 0, 2, 0x06, ""},
};

int hex_nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return c - 'a' + 10;
}

Bytes hex_bytes(std::string_view s) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(hex_nibble(s[i]) << 4 | hex_nibble(s[i + 1])));
  return out;
}

}  // namespace

const Template* find_template(std::string_view pe, std::string_view member) {
  for (const auto& t : kTemplates)
    if (t.pe == pe && t.member == member) return &t;
  return nullptr;
}

Bytes expand_default(std::string_view pattern, std::size_t len) {
  auto dots = pattern.find("...");
  if (dots == std::string_view::npos) {
    Bytes b = hex_bytes(pattern);
    b.resize(len, 0xFF);
    return b;
  }
  Bytes prefix = hex_bytes(pattern.substr(0, dots));
  Bytes suffix = hex_bytes(pattern.substr(dots + 3));
  Bytes out = prefix;
  std::uint8_t pad = prefix.empty() ? 0xFF : prefix.back();
  while (out.size() + suffix.size() < len) out.push_back(pad);
  append(out, suffix);
  out.resize(len, pad);
  return out;
}

}  // namespace rsp::uicc::detail
