// asn1c helpers shared by es10.cpp and bpp.cpp (on top of rsp/asn1.hpp).
#pragma once
#include <string>

#include "euicc_impl.hpp"
#include "rsp/asn1.hpp"
#include "rsp/tlv.hpp"

#include <Certificate.h>
#include <NotificationMetadata.h>

namespace rsp::sim {

// NotificationEvent bit for an operation (SGP.22: install 0 .. delete 3).
unsigned op_bit(NotificationSummary::Op op);
// Fills a zeroed NotificationMetadata.
void fill_metadata(NotificationMetadata_t& m, long seq, NotificationSummary::Op op, const std::string& address,
                   const std::string& iccid);
// Decodes a certificate into an embedded (zeroed) Certificate_t member.
void put_certificate(Certificate_t& dst, ByteView der);
// subjectAltName registeredID of a certificate (dotted), "" if none.
std::string registered_id(ByteView cert_der);
// Raw r||s into the 5F37 TLV as the signed-data concatenations use it.
inline Bytes sig_tlv(ByteView raw_rs) { return tlv::make(0x5F37, raw_rs); }

}  // namespace rsp::sim
