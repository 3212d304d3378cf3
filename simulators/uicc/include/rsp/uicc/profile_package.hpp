// A profile package (SIMalliance/TCA eUICC Profile Package: Interoperable
// Format, PEDefinitions, v2.3.1 and later) turned into what a UICC holds: the
// file system (templates' default files, fill and repeat patterns, linked
// files, ADFs by AID), the PINs and PUKs with their retry counters, and the
// AKA parameters of each application.
#pragma once
#include <map>
#include <memory>

#include "rsp/bytes.hpp"
#include "rsp/uicc/file_system.hpp"

namespace rsp::uicc {

struct Pin {
  std::uint8_t key_reference = 0;     // TS 102 221 9.5.1 (01..08 application, 81..88 local, 0A.. ADM)
  Bytes value;                        // 8 bytes, FF padded
  std::uint8_t max_attempts = 3;
  std::uint8_t attempts_left = 3;
  std::optional<std::uint8_t> unblock_reference;  // PUK key reference, if any
  std::uint8_t attributes = 7;        // PINConfiguration.pinAttributes
  bool enabled = true;                // from the PS_DO of the DF's PIN status template
};

struct Puk {
  std::uint8_t key_reference = 0;
  Bytes value;
  std::uint8_t max_attempts = 10;
  std::uint8_t attempts_left = 10;
};

// An application's authentication algorithm (PE-AKAParameter.algoParameter).
struct AkaParameters {
  enum class Algorithm { Milenage = 1, Tuak = 2, TestXor = 3 } algorithm = Algorithm::Milenage;
  Bytes algorithm_options;
  Bytes key;
  Bytes opc;                          // OPc (Milenage) or TOPc (TUAK)
  unsigned keccak_iterations = 1;     // TUAK: numberOfKeccak
  // TUAK RES length in bytes. algorithmOptions is not read for it (no
  // independent statement of its coding for TUAK): 64 bits, as the AUTN's MAC.
  std::size_t tuak_res_len = 8;
  // TUAK and the test algorithm: the highest SQN accepted (SQNms, TS 33.102
  // 6.3.3), starting at the highest sqnInit (the Milenage hook keeps its own).
  std::uint64_t sqn_ms = 0;
  Bytes der;                          // the whole ProfileElement DER, for the Milenage hook
};

struct CardImage {
  Bytes header_iccid;                 // ProfileHeader.iccid as coded
  FileSystem fs;
  std::map<std::uint8_t, Pin> pins;   // by key reference
  std::map<std::uint8_t, Puk> puks;
  // AKA parameters of the application they follow in the package, by AID
  // (the USIM's for a PE after PE-USIM, the ISIM's after PE-ISIM).
  std::vector<std::pair<Bytes, AkaParameters>> aka;
  Bytes first_usim_aid;               // AID of the first ADF.USIM, empty if none
};

// Throws DecodeError when the package does not decode or lacks a header/end.
std::unique_ptr<CardImage> build_card_image(ByteView profile_elements);

// A file as a TS 102 222 CREATE FILE FCP (the value of tag 62) describes it,
// built the way genericFileManagement's createFCP is: descriptor, file id,
// AID, size, SFI (the file id's low five bits unless tag 88 says otherwise),
// security attributes, fill/repeat pattern. Not placed in any tree. Throws
// DecodeError without a file descriptor (82) or file identifier (83).
std::unique_ptr<File> file_from_fcp(ByteView fcp);

}  // namespace rsp::uicc
