// The visited network simulator: an HSS holding the subscribers the visited
// operator issued (IMSI -> Ki, OPc, SQN; Ki and OPc encrypted at rest), an
// attach procedure that authenticates the UE's USIM with Milenage (3GPP TS
// 33.102 6.3: RAND/AUTN to the USIM, RES compared with XRES), and usage
// records for attached subscribers. An attach that fails authentication is
// refused and reported as such: it activates nothing.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"
#include "rsp/store.hpp"

namespace rsp::sim {

// The subscriber database of the visited operator (its HSS/UDM).
class Hss {
 public:
  // `storage_key`: 32 bytes; Ki and OPc are stored AES-256-GCM encrypted (AAD = IMSI).
  Hss(store::Db& db, ByteView storage_key);
  void provision(const std::string& imsi, const std::string& iccid, ByteView ki, ByteView opc);
  bool known(const std::string& imsi);
  std::optional<std::string> iccid_of(const std::string& imsi);

  struct Vector {  // one authentication vector (TS 33.102 6.3.2)
    Bytes rand, autn;
    SecretBytes xres, ck, ik;
  };
  // Next SQN (stored), fresh RAND; nullopt for an unknown IMSI.
  std::optional<Vector> authentication_vector(const std::string& imsi);

 private:
  store::Db& db_;
  SecretBytes key_;
};

// The UE side: what a handset does with its UICC over APDUs.
namespace ue {
// Reads EF DIR's first application (the USIM), selects it and reads EF IMSI
// (TS 31.102 4.2.2); returns the IMSI digits.
std::string read_imsi(apdu::Transport& card);
// AUTHENTICATE in the 3G context (TS 31.102 7.1.2) on the selected USIM.
// Returns RES, or nullopt when the card refuses (e.g. MAC failure 9862).
std::optional<Bytes> authenticate(apdu::Transport& card, ByteView rand, ByteView autn);
}  // namespace ue

struct AttachResult {
  bool accepted = false;
  std::string imsi;
  std::string iccid;
  std::string cause;  // why refused: "unknown IMSI", "authentication failed (RES != XRES)", ...
};

struct UsageRecord {  // what the network meters for one attached subscriber
  std::string imsi;
  std::string record_id;  // unique: "<PLMN>-<16 hex>", random (1..32 printable ASCII, a ledger record id)
  // [start, end), Unix seconds: a subscriber's records follow each other from
  // its first attach, without overlap (each starts where the last ended).
  std::int64_t period_start = 0, period_end = 0;
  std::int64_t data_mb = 0, voice_minutes = 0, sms = 0;
};

class VisitedNetwork {
 public:
  VisitedNetwork(Hss& hss, std::string plmn);
  const std::string& plmn() const { return plmn_; }

  // Attach (TS 24.301 5.5.1 with TS 33.401 EPS-AKA, simplified): identity,
  // authentication vector, AUTHENTICATE on the USIM, RES == XRES.
  AttachResult attach(apdu::Transport& ue_card);
  // Called once per IMSI on its first accepted attach (the start of metering).
  std::function<void(const AttachResult&)> on_first_attach;

  // Meters traffic for an attached subscriber since its last record (or its
  // attach); nullopt if not attached.
  std::optional<UsageRecord> meter(const std::string& imsi, std::int64_t data_mb, std::int64_t voice_minutes,
                                   std::int64_t sms);

 private:
  Hss& hss_;
  std::string plmn_;
  std::vector<std::string> attached_;
  std::vector<std::string> ever_attached_;
  std::map<std::string, std::int64_t> metered_until_;  // IMSI -> end of its last record
};

}  // namespace rsp::sim
