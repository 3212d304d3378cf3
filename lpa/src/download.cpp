#include "rsp/lpa/download.hpp"

#include <algorithm>

#include "rsp/asn1.hpp"
#include "rsp/certs.hpp"
#include "rsp/crypto.hpp"
#include "rsp/log.hpp"
#include "rsp/tlv.hpp"


namespace rsp::lpa {
namespace {

bool same_bytes(ByteView a, ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class Session {
 public:
  Session(Es10Client& euicc, const ActivationCode& ac, const DownloadOptions& options)
      : euicc_(euicc), ac_(ac), opt_(options), es9_(ac.smdp_address, options.es9) {}

  DownloadResult run();

 private:
  void stage(std::string_view s) {
    stage_ = std::string(s);
    log::info("lpa.download", stage_);
    if (opt_.progress) opt_.progress(s);
  }

  // Throws DownloadError for the current stage, cancelling first when asked.
  [[noreturn]] void fail(const std::string& what, std::optional<CancelSessionReason> cancel,
                         std::exception_ptr cause = nullptr) {
    if (cancel) cancel_session(*cancel);
    DownloadError err("download failed at " + stage_ + ": " + what, stage_);
    err.cancelled = cancel;
    err.cause = cause;
    throw err;
  }

  // Runs `f`; any exception becomes a DownloadError (cancelling with `reason`
  // when set; a timeout cancels with `timeout`).
  template <class F>
  auto guarded(std::optional<CancelSessionReason> reason, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const DownloadError&) {
      throw;
    } catch (const Es9Error& e) {
      auto r = reason;
      if (r && e.timeout) r = CancelSessionReason::Timeout;
      fail(e.what(), r, std::current_exception());
    } catch (const std::exception& e) {
      fail(e.what(), reason, std::current_exception());
    }
  }

  void cancel_session(CancelSessionReason reason) {
    if (transaction_id_.empty()) return;
    try {
      log::info("lpa.download", "CancelSession(" + std::string(to_string(reason)) + ")");
      CancelSessionResult cs = euicc_.cancel_session(transaction_id_, reason);
      if (!cs.ok) {
        log::warn("lpa.download", "eUICC CancelSession error: " + cs.error_name);
        return;
      }
      es9_.cancel_session(transaction_id_, cs.raw);
    } catch (const std::exception& e) {
      log::warn("lpa.download", std::string("cancelSession failed: ") + e.what());
    }
  }

  Es10Client& euicc_;
  const ActivationCode& ac_;
  const DownloadOptions& opt_;
  Es9Client es9_;
  std::string stage_ = "start";
  Bytes transaction_id_;
};

DownloadResult Session::run() {
  DownloadResult result;
  result.smdp_address = ac_.smdp_address;

  stage("GetEuiccChallenge");
  // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
  const auto challenge_info1 = guarded(std::nullopt, [&] {
    Bytes ch = euicc_.get_euicc_challenge();
    return std::make_pair(ch, euicc_.get_euicc_info1());
  });
  const Bytes& challenge = challenge_info1.first;
  const EuiccInfo1& info1 = challenge_info1.second;

  stage("initiateAuthentication");
  InitiateAuthenticationResponse init =
      guarded(std::nullopt, [&] { return es9_.initiate_authentication(challenge, info1.raw); });

  if (ac_.smdp_oid) {
    std::optional<std::string> oid;
    try {
      oid = certs::parse(init.server_certificate).registered_id;  // SGP.22 4.5.2.1.0.3
    } catch (const DecodeError& e) {
      fail(std::string("serverCertificate does not decode: ") + e.what(), std::nullopt);
    }
    if (!oid) log::warn("lpa.download", "serverCertificate carries no SM-DP+ OID to compare with the activation code");
    else if (*oid != *ac_.smdp_oid)
      fail("SM-DP+ OID " + *oid + " in serverCertificate differs from the activation code's " + *ac_.smdp_oid,
           std::nullopt);
  }

  stage("AuthenticateServer");
  AuthenticateServerInput asi;
  asi.server_signed1 = init.server_signed1;
  asi.server_signature1 = init.server_signature1;
  asi.euicc_ci_pkid_to_be_used = init.euicc_ci_pkid_to_be_used;
  asi.server_certificate = init.server_certificate;
  asi.matching_id = opt_.matching_id ? opt_.matching_id : std::optional<std::string>(ac_.matching_id);
  asi.device_info = opt_.device_info;
  AuthenticateServerResult auth = guarded(std::nullopt, [&] { return euicc_.authenticate_server(asi); });
  transaction_id_ = init.transaction_id;  // the eUICC now holds a session for it
  result.transaction_id = transaction_id_;
  if (auth.ok && !same_bytes(auth.transaction_id, transaction_id_))
    fail("eUICC transactionId " + to_hex(auth.transaction_id, true) + " differs from the SM-DP+'s",
         CancelSessionReason::UndefinedReason);

  stage("authenticateClient");
  if (!auth.ok) {
    // The SM-DP+ learns of the failure from the eUICC's signed error response.
    try {
      es9_.authenticate_client(transaction_id_, auth.raw);
    } catch (const std::exception& e) {
      log::debug("lpa.download", std::string("authenticateClient after eUICC error: ") + e.what());
    }
    stage_ = "AuthenticateServer";
    fail("eUICC refused the SM-DP+: " + auth.error_name + " (" + std::to_string(auth.error_code) + ")", std::nullopt);
  }
  AuthenticateClientResponse acr = guarded(CancelSessionReason::UndefinedReason,
                                           [&] { return es9_.authenticate_client(transaction_id_, auth.raw); });
  result.offer.iccid = acr.iccid;
  result.offer.service_provider_name = acr.service_provider_name;
  result.offer.profile_name = acr.profile_name;
  result.offer.profile_class = acr.profile_class;
  result.offer.confirmation_code_required = acr.cc_required;
  result.offer.policy_rules = acr.policy_rules;
  if (ac_.confirmation_code_required != acr.cc_required)
    log::warn("lpa.download", std::string("activation code says confirmation code ") +
                                  (ac_.confirmation_code_required ? "required" : "not required") +
                                  ", the SM-DP+ says otherwise; following the SM-DP+");

  // SGP.22 3.1.3.1 / 3.1.3.2: the end user sees the profile's metadata and
  // consents first; only then is the Confirmation Code asked for (a user who
  // declines is never asked for a code, and a code is never typed in for a
  // profile the user has not seen).
  if (opt_.confirm && !opt_.confirm(result.offer)) fail("the user declined the profile", CancelSessionReason::EndUserRejection);
  stage("ConfirmationCode");
  std::optional<std::string> cc;
  if (acr.cc_required) {
    cc = opt_.confirmation_code;
    if (!cc && opt_.ask_confirmation_code) cc = opt_.ask_confirmation_code();
    if (!cc || cc->empty()) fail("a confirmation code is required", CancelSessionReason::EndUserRejection);
  }

  // SGP.22 3.1.3: a wrong confirmation code (8.2.7/3.8) leaves the RSP
  // session open; the LPA asks for the code again and repeats PrepareDownload
  // and getBoundProfilePackage on the same transactionId. The SM-DP+ ends
  // the session when the retries are exhausted (8.2.7/6.4, 8.8.5/6.4).
  Bytes bpp;
  for (;;) {
    std::optional<Bytes> hash_cc;
    if (cc) hash_cc = hash_confirmation_code(*cc, transaction_id_);

    stage("PrepareDownload");
    PrepareDownloadInput pdi{acr.smdp_signed2, acr.smdp_signature2, acr.smdp_certificate, hash_cc};
    PrepareDownloadResult pd =
        guarded(CancelSessionReason::UndefinedReason, [&] { return euicc_.prepare_download(pdi); });

    stage("getBoundProfilePackage");
    if (!pd.ok) {
      try {
        es9_.get_bound_profile_package(transaction_id_, pd.raw);
      } catch (const std::exception& e) {
        log::debug("lpa.download", std::string("getBoundProfilePackage after eUICC error: ") + e.what());
      }
      stage_ = "PrepareDownload";
      fail("eUICC refused PrepareDownload: " + pd.error_name + " (" + std::to_string(pd.error_code) + ")", std::nullopt);
    }
    if (!same_bytes(pd.transaction_id, transaction_id_))
      fail("PrepareDownload transactionId differs", CancelSessionReason::UndefinedReason);
    std::exception_ptr refused_cc;
    std::optional<Bytes> got = guarded(CancelSessionReason::UndefinedReason, [&]() -> std::optional<Bytes> {
      try {
        return es9_.get_bound_profile_package(transaction_id_, pd.raw);
      } catch (const Es9Error& e) {
        if (!cc || !opt_.ask_confirmation_code || e.subject_code != "8.2.7" || e.reason_code != "3.8") throw;
        refused_cc = std::current_exception();
        return std::nullopt;
      }
    });
    if (got) {
      bpp = std::move(*got);
      break;
    }
    log::info("lpa.download", "confirmation code refused (8.2.7/3.8); asking for it again");
    stage("ConfirmationCode");
    cc = opt_.ask_confirmation_code();
    if (!cc || cc->empty())
      fail("confirmation code refused by the SM-DP+ and no other code given", CancelSessionReason::EndUserRejection,
           refused_cc);
  }

  stage("LoadBoundProfilePackage");
  result.installation = guarded(CancelSessionReason::LoadBppExecutionError,
                                [&] { return euicc_.load_bound_profile_package(bpp); });
  log::info("lpa.download", "ProfileInstallationResult: " + result.installation.describe());

  if (opt_.notifications != DownloadOptions::Notifications::None) {
    stage("handleNotification");
    const NotificationMetadata& md = result.installation.notification;
    try {
      if (lower(md.address) == lower(ac_.smdp_address)) {
        es9_.handle_notification(result.installation.raw);
      } else {
        Es9Client other(md.address, opt_.es9);
        other.handle_notification(result.installation.raw);
      }
      Es10Result sent = euicc_.notification_sent(md.seq_number);
      if (!sent.ok()) log::warn("lpa.download", "NotificationSent: " + sent.name);
      result.notification_sent = true;
    } catch (const std::exception& e) {
      result.notification_error = e.what();
      log::warn("lpa.download", std::string("ProfileInstallationResult not delivered: ") + e.what());
    }
    if (opt_.notifications == DownloadOptions::Notifications::All) {
      NotificationOptions no;
      no.es9 = opt_.es9;
      for (const auto& o : process_notifications(euicc_, no))
        if (!o.delivered) log::warn("lpa.download", "notification " + std::to_string(o.metadata.seq_number) + ": " + o.error);
    }
  }
  return result;
}

}  // namespace

Bytes hash_confirmation_code(std::string_view code, ByteView transaction_id) {
  return crypto::sha256(concat(crypto::sha256(to_bytes(code)), transaction_id));
}

DownloadResult download(Es10Client& euicc, const ActivationCode& ac, const DownloadOptions& options) {
  Session s(euicc, ac, options);
  return s.run();
}

DownloadResult download(apdu::Transport& transport, const ActivationCode& ac, const DownloadOptions& options,
                        ChannelOptions channel) {
  Es10Client euicc(transport, std::move(channel));
  return download(euicc, ac, options);
}

std::vector<NotificationOutcome> process_notifications(Es10Client& euicc, const NotificationOptions& options) {
  std::vector<NotificationOutcome> out;
  for (const NotificationMetadata& md : euicc.list_notifications()) {
    if (options.only_seq_number && md.seq_number != *options.only_seq_number) continue;
    NotificationOutcome o;
    o.metadata = md;
    try {
      auto pending = euicc.retrieve_notifications(md.seq_number);
      if (pending.empty()) throw std::runtime_error("RetrieveNotificationsList returned nothing");
      Es9Client es9(md.address, options.es9);
      es9.handle_notification(pending.front().raw);
      o.delivered = true;
      if (options.remove) {
        Es10Result r = euicc.notification_sent(md.seq_number);
        o.removed = r.ok();
        if (!r.ok()) o.error = "NotificationSent: " + r.name;
      }
    } catch (const std::exception& e) {
      o.error = e.what();
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace rsp::lpa
