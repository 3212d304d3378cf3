// The GlobalPlatform card management commands (GP Card Specification 2.3.1
// chapter 11), built as plain apdu::Commands and parsed from plain responses.
// Transport-free on purpose: the same commands go through an SCP02/SCP03
// Session (session.hpp) or into an OTA command script (SCP80/SCP81, ETSI TS
// 102 226), where the OTA security replaces the secure channel.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"

namespace rsp::gp {

// GP 2.3.1 11.1.4: CLA 80 (proprietary, no secure messaging indicated).
inline constexpr std::uint8_t kClaGp = 0x80;
namespace ins {
inline constexpr std::uint8_t kDelete = 0xE4, kGetData = 0xCA, kGetStatus = 0xF2, kInstall = 0xE6, kLoad = 0xE8,
                              kPutKey = 0xD8, kSelect = 0xA4, kSetStatus = 0xF0, kStoreData = 0xE2,
                              kInitializeUpdate = 0x50, kExternalAuthenticate = 0x82, kGetResponse = 0xC0;
}

// "INSTALL", "DELETE"... for messages (GP 2.3.1 Table 11-10).
std::string command_name(std::uint8_t ins);

// ---- SELECT (11.9) ----
apdu::Command select(ByteView aid);

// ---- GET STATUS (11.4) ----
// P1: 80 ISD, 40 applications and SDs, 20 executable load files, 10 ELFs and their modules.
enum class StatusScope : std::uint8_t { Isd = 0x80, Applications = 0x40, LoadFiles = 0x20, LoadFilesAndModules = 0x10 };
// P2 02 (TLV response, 11.4.2.2), 03 for the next occurrence after 6310.
apdu::Command get_status(StatusScope scope, bool next = false, ByteView aid_filter = {});

// One E3 entry of the GET STATUS response (Table 11-36).
struct RegistryEntry {
  StatusScope scope = StatusScope::Applications;
  Bytes aid;
  std::uint8_t life_cycle = 0;
  Bytes privileges;             // C5, 3 bytes (Table 11-7)
  Bytes load_file_aid;          // C4, for applications
  Bytes associated_sd;          // CC
  Bytes version;                // CE, for load files
  std::vector<Bytes> modules;   // 84, for P1=10
};
std::vector<RegistryEntry> parse_get_status(StatusScope scope, ByteView response_data);

// Names of life cycle states (11.1.1, Tables 11-3..11-5) and privileges (11.1.2, Table 6-1).
std::string life_cycle_name(StatusScope scope, std::uint8_t lc, bool is_security_domain = false);
std::vector<std::string> privilege_names(ByteView privileges);
// "SecurityDomain,CardLock" -> 3 bytes; throws DecodeError on an unknown name.
Bytes privileges_from_names(const std::vector<std::string>& names);
namespace privilege {  // bits of byte 1 (Table 6-1); DAP Verification, Delegated Management and Mandated DAP also need b8
inline constexpr std::uint8_t kSecurityDomain = 0x80, kDapVerification = 0x40, kDelegatedManagement = 0x20,
                              kCardLock = 0x10, kCardTerminate = 0x08, kCardReset = 0x04, kCvmManagement = 0x02,
                              kMandatedDap = 0x01;
}

// ---- GET DATA (11.3) ----
apdu::Command get_data(std::uint16_t tag);
inline constexpr std::uint16_t kTagCplc = 0x9F7F, kTagCardData = 0x0066, kTagKeyInformation = 0x00E0,
                               kTagIin = 0x0042, kTagCin = 0x0045, kTagSequenceCounter = 0x00C1;
struct KeyInfo {
  std::uint8_t id = 0, version = 0, type = 0;
  std::size_t length = 0;
};
// E0 { C0 { id version (type length)+ } ... } (11.3.3.1).
std::vector<KeyInfo> parse_key_information(ByteView e0_response);
// Card recognition data (GP 2.3.1 H.2, inside GET DATA 66 / the ISD's FCI):
// the GP version and the secure channel protocols with their "i".
struct CardRecognition {
  std::string gp_version;                              // "2.3.1"
  std::vector<std::pair<int, std::uint8_t>> scps;      // (2, 0x15), (3, 0x70)
};
CardRecognition parse_card_data(ByteView response);  // 66 {73 {...}} or 73 {...}; throws DecodeError
// CPLC fields (GP 2.3.1 Table H-3) as name -> hex, in order.
std::vector<std::pair<std::string, std::string>> parse_cplc(ByteView cplc_response);

// ---- INSTALL (11.5) ----
namespace install_p1 {
inline constexpr std::uint8_t kForLoad = 0x02, kForInstall = 0x04, kForMakeSelectable = 0x08,
                              kForInstallAndMakeSelectable = 0x0C, kForExtradition = 0x10,
                              kForPersonalization = 0x20, kForRegistryUpdate = 0x40;
}
apdu::Command install_for_load(ByteView load_file_aid, ByteView sd_aid = {}, ByteView load_file_hash = {},
                               ByteView load_parameters = {}, ByteView token = {});
// `params`: the application specific parameters, sent inside C9; empty gives C9 00.
apdu::Command install_for_install(ByteView load_file_aid, ByteView module_aid, ByteView application_aid,
                                  ByteView privileges, ByteView params = {}, bool make_selectable = true,
                                  ByteView token = {});
apdu::Command install_for_make_selectable(ByteView application_aid, ByteView privileges = {});
apdu::Command install_for_personalization(ByteView application_aid);

// The fields of an INSTALL command's data (for the card side).
struct InstallData {
  std::uint8_t p1 = 0;
  Bytes load_file_aid, module_aid, application_aid, sd_aid, hash, privileges, params, token;
  static InstallData parse(std::uint8_t p1, ByteView data);  // throws DecodeError
};

// ---- LOAD (11.6) ----
// The load file wrapped in C4 (11.6.2.3) and cut into blocks of `block_size`
// bytes (P2 counts them from 00; P1 80 on the last).
std::vector<apdu::Command> load_blocks(ByteView load_file_data_block, std::size_t block_size = 240,
                                       ByteView dap_block = {});

// ---- DELETE (11.2) ----
apdu::Command delete_object(ByteView aid, bool related_objects = false);

// ---- PUT KEY (11.8) ----
// A key of a key set: its type (Table 11-16: 80 DES, 88 AES) and value.
struct KeyComponent {
  std::uint8_t type = 0x88;
  SecretBytes value;
};
// Key check value (11.8.2.3.2 / Amd D 7.3.2): DES: 3DES-ECB of 8 x 00; AES: AES-ECB of 16 x 01; 3 bytes.
Bytes key_check_value(std::uint8_t type, ByteView key);
// Adds (old_version 0) or replaces a key set; keys enciphered with `kek`
// (SCP02: the session DEK; SCP03: the static DEK) and sent with their KCVs.
apdu::Command put_key(std::uint8_t old_version, std::uint8_t new_version, std::uint8_t first_key_id,
                      const std::vector<KeyComponent>& keys, ByteView kek);
// Card side: deciphers the key data of PUT KEY and checks each KCV; throws DecodeError.
struct PutKeyData {
  std::uint8_t new_version = 0;
  std::vector<KeyComponent> keys;
  static PutKeyData parse(ByteView data, ByteView kek);
};

// ---- STORE DATA (11.11) ----
// Blocks of at most `block_size` bytes; P1 b8 set on the last, `p1_structure` the other bits.
std::vector<apdu::Command> store_data(ByteView data, std::uint8_t p1_structure = 0x00, std::size_t block_size = 240);

// ---- SET STATUS (11.10) ----
namespace set_status_p1 {
inline constexpr std::uint8_t kIsd = 0x80, kApplication = 0x40, kSdAndApplications = 0x60;
}
apdu::Command set_status(std::uint8_t p1, std::uint8_t new_state, ByteView aid = {});
inline apdu::Command lock_application(ByteView aid) { return set_status(set_status_p1::kApplication, 0x80, aid); }
inline apdu::Command unlock_application(ByteView aid) { return set_status(set_status_p1::kApplication, 0x00, aid); }
inline apdu::Command lock_card() { return set_status(set_status_p1::kIsd, 0x7F); }
inline apdu::Command unlock_card() { return set_status(set_status_p1::kIsd, 0x0F); }

}  // namespace rsp::gp
