// Segmentation of a Bound Profile Package for ES10b.LoadBoundProfilePackage
// (SGP.22 v2.2.2 section 2.5.5). Each segment is sent as its own ES10 command
// (one STORE DATA chain):
//   1. tag and length of BoundProfilePackage (BF36) plus the whole
//      initialiseSecureChannelRequest TLV (BF23)
//   2. tag and length of firstSequenceOf87 (A0) plus its first '87' TLV
//      (ConfigureISDP); any further '87' TLVs follow, one segment each
//   3. tag and length of sequenceOf88 (A1)
//   4. each '88' TLV (StoreMetadata)
//   5. if present: tag and length of secondSequenceOf87 (A2) plus its first
//      '87' TLV (ReplaceSessionKeys); further '87' TLVs one segment each
//   6. tag and length of sequenceOf86 (A3)
//   7. each '86' TLV (profile package segments)
#pragma once
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::lpa {

// Throws rsp::DecodeError when `bpp` is not a BF36 TLV of that structure
// (missing BF23/A0/A1/A3, unexpected tags, trailing bytes, elements out of
// order, empty A0/A2).
std::vector<Bytes> segment_bpp(ByteView bpp);

}  // namespace rsp::lpa
