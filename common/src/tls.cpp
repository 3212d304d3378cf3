// The server's SSL_CTX on OpenSSL 3 (TLS 1.2, SGP.22 2.6.6), for
// boost::asio::ssl::stream. See rsp/tls.hpp and docs/http.md.
#include "rsp/tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "tls_signer_key.hpp"

namespace rsp::tls {

namespace {

// OpenSSL's error queue as one line (and emptied).
std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

[[noreturn]] void fail(const std::string& what) { throw http::TlsConfigError(what + ": " + openssl_errors()); }

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

bool is_pem(ByteView data, std::string_view marker) {
  return std::string_view(reinterpret_cast<const char*>(data.data()), data.size()).find(marker) !=
         std::string_view::npos;
}

// No passphrase prompts (an encrypted key file is a configuration error, not
// a question for whoever holds the terminal).
int no_password(char*, int, int, void*) { return -1; }

std::vector<X509Ptr> load_chain(ByteView data, const std::string& what) {
  std::vector<X509Ptr> out;
  ERR_clear_error();
  if (is_pem(data, "-----BEGIN CERTIFICATE-----")) {
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr)) out.emplace_back(x);
    // The loop ends on "no start line" after the last block; anything else
    // (a damaged block) is an error.
    unsigned long e = ERR_peek_last_error();
    if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) fail(what);
    ERR_clear_error();
  } else {
    const unsigned char* p = data.data();
    const unsigned char* end = data.data() + data.size();
    while (p < end) {
      X509* x = d2i_X509(nullptr, &p, end - p);
      if (x == nullptr) fail(what + ": neither PEM nor DER certificates");
      out.emplace_back(x);
    }
  }
  if (out.empty()) throw http::TlsConfigError(what + ": no certificate");
  return out;
}

Bytes der_of(X509* x) {
  int n = i2d_X509(x, nullptr);
  if (n <= 0) fail("certificate encoding");
  Bytes der(static_cast<std::size_t>(n));
  unsigned char* p = der.data();
  i2d_X509(x, &p);
  return der;
}

PkeyPtr load_private_key(const SecretBytes& key) {
  ERR_clear_error();
  EVP_PKEY* k = nullptr;
  if (is_pem(key, "-----BEGIN")) {  // SEC1 "EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY"
    BioPtr bio(BIO_new_mem_buf(key.data(), static_cast<int>(key.size())));
    k = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr);
  } else {
    const unsigned char* p = key.data();
    k = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(key.size()));
  }
  if (k == nullptr) fail("server private key");
  return PkeyPtr(k);
}

// SGP.22 2.6.6's suites, then the PSK suites GlobalPlatform Amd B (SCP81)
// uses with TLS 1.2.
constexpr const char* kCertificateSuites[] = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                              "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"};
constexpr const char* kPskSuites[] = {"TLS_PSK_WITH_AES_128_GCM_SHA256", "TLS_PSK_WITH_AES_128_CBC_SHA256",
                                      "TLS_PSK_WITH_AES_128_CCM"};

// Where an SSL_CTX keeps its ServerContext::Impl (for the PSK callback). Not
// the app data: boost::asio::ssl::context owns that slot (its password
// callback) and frees what it finds there.
int impl_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool signs_for(EVP_PKEY* key, X509* certificate) {
  static constexpr unsigned char kProbe[] = "rsp TLS key check: the signer belongs to this certificate";
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char sig[160];
  std::size_t len = sizeof sig;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(md.get(), sig, &len, kProbe, sizeof kProbe) != 1)
    return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> vd(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return vd && EVP_DigestVerifyInit(vd.get(), nullptr, EVP_sha256(), nullptr, X509_get0_pubkey(certificate)) == 1 &&
         EVP_DigestVerify(vd.get(), sig, len, kProbe, sizeof kProbe) == 1;
}

int accept_any_client_certificate(int, X509_STORE_CTX*) {
  // ClientAuth::Optional: the handshake goes on whatever the verification
  // says; SSL_get_verify_result keeps the verdict (verified_peer_certificate).
  return 1;
}

}  // namespace

std::vector<Bytes> parse_certificate_chain(ByteView pem_or_der) {
  std::vector<Bytes> out;
  for (const auto& x : load_chain(pem_or_der, "certificate chain")) out.push_back(der_of(x.get()));
  return out;
}

std::string openssl_suite_name(const std::string& iana) {
  const char* n = OPENSSL_cipher_name(iana.c_str());
  if (n == nullptr || std::strcmp(n, "(NONE)") == 0)
    throw http::TlsConfigError("cipher suite not available in OpenSSL: " + iana);
  return n;
}

// ---------------------------------------------------------------------------

struct ServerContext::Impl {
  SSL_CTX* ctx = nullptr;
  std::function<std::optional<SecretBytes>(std::string_view)> psk_lookup;

  Impl() = default;
  ~Impl() { SSL_CTX_free(ctx); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  static unsigned int psk_server_cb(SSL* ssl, const char* identity, unsigned char* psk, unsigned int max_len) {
    auto* self = static_cast<Impl*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), impl_index()));
    if (self == nullptr || !self->psk_lookup || identity == nullptr) return 0;
    std::optional<SecretBytes> key;
    try {
      key = self->psk_lookup(identity);
    } catch (...) {
      return 0;
    }
    if (!key || key->empty() || key->size() > max_len) return 0;  // unknown identity: handshake fails
    std::memcpy(psk, key->data(), key->size());
    return static_cast<unsigned int>(key->size());
  }
};

ServerContext::ServerContext(const http::ServerTlsConfig& cfg) : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  ERR_clear_error();
  I.ctx = SSL_CTX_new(TLS_server_method());
  if (I.ctx == nullptr) fail("SSL_CTX_new");
  SSL_CTX* ctx = I.ctx;
  if (impl_index() < 0 || SSL_CTX_set_ex_data(ctx, impl_index(), &I) != 1) fail("SSL_CTX_set_ex_data");

  // TLS 1.2 only (SGP.22 2.6.6); no renegotiation, no compression; our
  // order of suites and groups.
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1)
    fail("TLS version");
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

  // Session resumption (RFC 5077 tickets, keys random per context, and the
  // server-side session cache for clients without tickets). The context id
  // lets sessions with a verified client certificate be resumed.
  static constexpr unsigned char kSessionContext[] = "rsp-http-server";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);

  const bool have_cert = !cfg.certificate_chain.empty();
  const bool have_psk = static_cast<bool>(cfg.psk_lookup);
  if (!have_cert && !have_psk) throw http::TlsConfigError("TLS needs a certificate chain or a PSK lookup");

  if (have_cert) {
    auto chain = load_chain(cfg.certificate_chain, "server certificate chain");
    if (SSL_CTX_use_certificate(ctx, chain[0].get()) != 1) fail("server certificate");
    for (std::size_t i = 1; i < chain.size(); ++i)
      if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) fail("server certificate chain");
    PkeyPtr key;
    if (cfg.key_signer) {
      key.reset(signer_private_key(cfg.key_signer, chain[0].get()));
    } else {
      if (cfg.private_key.empty()) throw http::TlsConfigError("server private key missing");
      key = load_private_key(cfg.private_key);
    }
    if (X509_check_private_key(chain[0].get(), key.get()) != 1)
      fail("server private key does not match the certificate");
    // A signer's key object carries the certificate's public key whatever
    // the signer holds: one signature, verified with the certificate, shows
    // whether they belong together (and that the signer answers).
    if (cfg.key_signer && !signs_for(key.get(), chain[0].get()))
      fail("server key signer does not sign for the certificate's key");
    if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
      fail("server private key");
  }

  std::vector<std::string> wanted;
  if (!cfg.cipher_suites.empty()) {
    wanted = cfg.cipher_suites;
  } else {
    if (have_cert) wanted.insert(wanted.end(), std::begin(kCertificateSuites), std::end(kCertificateSuites));
    if (have_psk) wanted.insert(wanted.end(), std::begin(kPskSuites), std::end(kPskSuites));
  }
  std::string list;
  for (const auto& iana : wanted) list += (list.empty() ? "" : ":") + openssl_suite_name(iana);
  if (SSL_CTX_set_cipher_list(ctx, list.c_str()) != 1 || SSL_CTX_set_ciphersuites(ctx, "") != 1)
    fail("cipher suites " + list);
  // set_cipher_list skips names this build leaves out: every one asked for
  // must be there.
  auto enabled = cipher_suites();
  for (const auto& iana : wanted)
    if (std::find(enabled.begin(), enabled.end(), iana) == enabled.end())
      throw http::TlsConfigError("cipher suite not enabled by OpenSSL: " + iana);

  // Named groups for ECDHE by their TLS registry names, which OpenSSL takes
  // as they are (secp256r1, brainpoolP256r1, secp384r1; P-256 too). Debian's
  // OpenSSL leaves brainpool out by default, so name them here.
  std::string groups;
  for (const auto& c : cfg.curves) {
    if (c.empty() || c.find(':') != std::string::npos || SSL_CTX_set1_groups_list(ctx, c.c_str()) != 1) {
      ERR_clear_error();
      throw http::TlsConfigError("unknown curve: " + c);
    }
    groups += (groups.empty() ? "" : ":") + c;
  }
  if (groups.empty()) throw http::TlsConfigError("no curves configured");
  if (SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1) fail("curves " + groups);

  switch (cfg.client_auth) {
    case http::ClientAuth::None:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case http::ClientAuth::Optional:
    case http::ClientAuth::Required: {
      if (cfg.client_ca_chain.empty()) throw http::TlsConfigError("client authentication needs client_ca_chain");
      X509_STORE* store = SSL_CTX_get_cert_store(ctx);
      for (const auto& ca : load_chain(cfg.client_ca_chain, "client CA chain")) {
        if (X509_STORE_add_cert(store, ca.get()) != 1 || SSL_CTX_add_client_CA(ctx, ca.get()) != 1)
          fail("client CA chain");
      }
      // Every certificate of client_ca_chain is a trust anchor, also an
      // intermediate given without its root (as with mbedTLS's ca_chain).
      X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
      if (cfg.client_auth == http::ClientAuth::Required)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      else
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_client_certificate);
      break;
    }
  }

  if (have_psk) {
    I.psk_lookup = cfg.psk_lookup;
    SSL_CTX_set_psk_server_callback(ctx, &Impl::psk_server_cb);
  }
}

ServerContext::~ServerContext() = default;

ssl_ctx_st* ServerContext::native_handle() const { return impl_->ctx; }

std::vector<std::string> ServerContext::cipher_suites() const {
  std::vector<std::string> out;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(impl_->ctx);
  for (int i = 0; ciphers != nullptr && i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    if (std::strcmp(SSL_CIPHER_get_version(c), "TLSv1.3") == 0) continue;  // none: set_ciphersuites("")
    if (const char* n = SSL_CIPHER_standard_name(c)) out.emplace_back(n);
  }
  return out;
}

std::optional<Bytes> verified_peer_certificate(ssl_st* ssl) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  return der_of(peer);
}

std::optional<std::string> psk_identity(ssl_st* ssl) {
  const char* id = SSL_get_psk_identity(ssl);
  if (id == nullptr) return std::nullopt;
  return std::string(id);
}

}  // namespace rsp::tls
