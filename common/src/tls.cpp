// mbedTLS 2.28 server configuration and the memory-buffer TLS engine behind
// rsp::tls::Stream. See rsp/tls.hpp and docs/http.md.
#include "rsp/tls.hpp"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <cstring>
#include <string>

namespace rsp::tls {

namespace {

std::string mbedtls_message(int ret) {
  char buf[256];
  mbedtls_strerror(ret, buf, sizeof buf);
  return std::string(buf) + " (-0x" + [&] {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%04X", static_cast<unsigned>(ret < 0 ? -ret : ret));
    return std::string(hex);
  }() + ")";
}

// boost::system::error_category has a non-virtual destructor by design
// (categories are never deleted through a base pointer).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class MbedtlsCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "mbedtls"; }
  std::string message(int ev) const override { return mbedtls_message(-ev); }
};
#pragma GCC diagnostic pop

[[noreturn]] void fail(const std::string& what, int ret) {
  throw http::TlsConfigError(what + ": " + mbedtls_message(ret));
}

// Extensions SGP.22 certificates carry that mbedTLS 2.28 does not interpret.
// certificatePolicies reaches the callback when it holds a policy other than
// anyPolicy (always, in SGP.22: 2.23.146.1.2.1.x), nameConstraints always.
constexpr unsigned char kOidCertificatePolicies[] = {0x55, 0x1D, 0x20};  // 2.5.29.32
constexpr unsigned char kOidNameConstraints[] = {0x55, 0x1D, 0x1E};      // 2.5.29.30
constexpr unsigned char kOidCrlDistribution[] = {0x55, 0x1D, 0x1F};      // 2.5.29.31
constexpr unsigned char kOidPolicyConstraints[] = {0x55, 0x1D, 0x24};    // 2.5.29.36
constexpr unsigned char kOidInhibitAnyPolicy[] = {0x55, 0x1D, 0x36};     // 2.5.29.54

template <std::size_t N>
bool oid_is(const mbedtls_x509_buf* oid, const unsigned char (&want)[N]) {
  return oid->len == N && std::memcmp(oid->p, want, N) == 0;
}

int sgp22_ext_cb(void*, mbedtls_x509_crt const*, mbedtls_x509_buf const* oid, int critical, const unsigned char*,
                 const unsigned char*) {
  if (!critical) return 0;  // unknown non-critical extensions are ignored
  if (oid_is(oid, kOidCertificatePolicies) || oid_is(oid, kOidNameConstraints) || oid_is(oid, kOidCrlDistribution) ||
      oid_is(oid, kOidPolicyConstraints) || oid_is(oid, kOidInhibitAnyPolicy)) {
    // Accepted for parsing; SGP.22 chain rules (policies, EID name
    // constraints) are the certificate layer's job, not TLS's.
    return 0;
  }
  return MBEDTLS_ERR_X509_INVALID_EXTENSIONS;
}

// Splits PEM CERTIFICATE blocks or concatenated DER into DER certificates.
std::vector<Bytes> split_chain(ByteView data) {
  std::vector<Bytes> out;
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  if (text.find(kBegin) != std::string_view::npos) {
    std::string z(text);  // mbedtls_pem_read_buffer wants a NUL-terminated buffer
    std::size_t pos = 0;
    while ((pos = z.find(kBegin, pos)) != std::string::npos) {
      mbedtls_pem_context pem;
      mbedtls_pem_init(&pem);
      std::size_t used = 0;
      int ret = mbedtls_pem_read_buffer(&pem, "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----",
                                        reinterpret_cast<const unsigned char*>(z.c_str() + pos), nullptr, 0, &used);
      if (ret != 0) {
        mbedtls_pem_free(&pem);
        fail("bad PEM certificate", ret);
      }
      out.emplace_back(pem.buf, pem.buf + pem.buflen);  // mbedTLS 2.x: no accessor
      mbedtls_pem_free(&pem);
      pos += used;
    }
    return out;
  }
  std::size_t i = 0;
  while (i < data.size()) {
    if (data.size() - i < 2 || data[i] != 0x30) throw http::TlsConfigError("certificate is neither PEM nor DER");
    std::size_t len = data[i + 1], hdr = 2;
    if (len & 0x80) {
      std::size_t nb = len & 0x7F;
      if (nb == 0 || nb > 4 || data.size() - i < 2 + nb) throw http::TlsConfigError("bad DER certificate length");
      len = 0;
      for (std::size_t k = 0; k < nb; ++k) len = (len << 8) | data[i + 2 + k];
      hdr += nb;
    }
    if (data.size() - i - hdr < len) throw http::TlsConfigError("truncated DER certificate");
    out.emplace_back(data.begin() + static_cast<std::ptrdiff_t>(i),
                     data.begin() + static_cast<std::ptrdiff_t>(i + hdr + len));
    i += hdr + len;
  }
  return out;
}

void load_chain(mbedtls_x509_crt* chain, ByteView data, const char* what) {
  auto ders = split_chain(data);
  if (ders.empty()) throw http::TlsConfigError(std::string(what) + ": no certificate");
  for (const auto& der : ders) {
    int ret = mbedtls_x509_crt_parse_der_with_ext_cb(chain, der.data(), der.size(), 1, sgp22_ext_cb, nullptr);
    if (ret != 0) fail(what, ret);
  }
}

std::string iana_name(int id) {
  const char* n = mbedtls_ssl_get_ciphersuite_name(id);
  std::string s = n ? n : "unknown";
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

int suite_id(const std::string& name) {
  std::string m = name;
  std::replace(m.begin(), m.end(), '_', '-');
  int id = mbedtls_ssl_get_ciphersuite_id(m.c_str());
  if (id == 0) throw http::TlsConfigError("cipher suite not available in mbedTLS: " + name);
  return id;
}

}  // namespace

const boost::system::error_category& mbedtls_category() {
  static const MbedtlsCategory cat;
  return cat;
}

std::vector<Bytes> parse_certificate_chain(ByteView pem_or_der) {
  mbedtls_x509_crt chain;
  mbedtls_x509_crt_init(&chain);
  try {
    load_chain(&chain, pem_or_der, "certificate chain");
  } catch (...) {
    mbedtls_x509_crt_free(&chain);
    throw;
  }
  std::vector<Bytes> out;
  for (const mbedtls_x509_crt* c = &chain; c != nullptr && c->raw.p != nullptr; c = c->next)
    out.emplace_back(c->raw.p, c->raw.p + c->raw.len);
  mbedtls_x509_crt_free(&chain);
  return out;
}

// ---------------------------------------------------------------------------
// ServerContext

struct ServerContext::Impl {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_ssl_config conf;
  mbedtls_x509_crt own_chain;
  mbedtls_pk_context own_key;
  mbedtls_x509_crt client_ca;
  std::vector<int> suites;                   // 0-terminated
  std::vector<mbedtls_ecp_group_id> curves;  // NONE-terminated
  std::function<std::optional<SecretBytes>(std::string_view)> psk_lookup;

  Impl() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&own_chain);
    mbedtls_pk_init(&own_key);
    mbedtls_x509_crt_init(&client_ca);
  }
  ~Impl() {
    mbedtls_x509_crt_free(&client_ca);
    mbedtls_pk_free(&own_key);
    mbedtls_x509_crt_free(&own_chain);
    mbedtls_ssl_config_free(&conf);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

struct Engine::Impl {
  mbedtls_ssl_context ssl;
  std::shared_ptr<const ServerContext> ctx;
  std::vector<std::uint8_t> in;  // received ciphertext, consumed from in_pos
  std::size_t in_pos = 0;
  std::size_t in_fill = 0;        // bytes of `in` holding data
  std::vector<std::uint8_t> out;  // ciphertext to send, from out_pos
  std::size_t out_pos = 0;
  std::optional<std::string> psk_identity;
  bool done = false;

  static int bio_send(void* p, const unsigned char* buf, std::size_t len) {
    auto* self = static_cast<Impl*>(p);
    self->out.insert(self->out.end(), buf, buf + len);
    return static_cast<int>(len);
  }
  static int bio_recv(void* p, unsigned char* buf, std::size_t len) {
    auto* self = static_cast<Impl*>(p);
    std::size_t avail = self->in_fill - self->in_pos;
    if (avail == 0) return MBEDTLS_ERR_SSL_WANT_READ;
    std::size_t n = std::min(len, avail);
    std::memcpy(buf, self->in.data() + self->in_pos, n);
    self->in_pos += n;
    if (self->in_pos == self->in_fill) self->in_pos = self->in_fill = 0;
    return static_cast<int>(n);
  }
};

namespace {
int psk_callback(void* p, mbedtls_ssl_context* ssl, const unsigned char* id, std::size_t id_len) {
  auto* ctx = static_cast<ServerContext::Impl*>(p);
  // The bio context is the Engine::Impl that owns this ssl context.
  auto* engine = static_cast<Engine::Impl*>(ssl->p_bio);
  std::string identity(reinterpret_cast<const char*>(id), id_len);
  std::optional<SecretBytes> key;
  try {
    key = ctx->psk_lookup(identity);
  } catch (...) {
    return -1;
  }
  if (!key || key->empty()) return -1;
  if (mbedtls_ssl_set_hs_psk(ssl, key->data(), key->size()) != 0) return -1;
  engine->psk_identity = std::move(identity);
  return 0;
}
}  // namespace

ServerContext::ServerContext(const http::ServerTlsConfig& cfg) : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  static constexpr char kPers[] = "rsp-tls-server";
  int ret = mbedtls_ctr_drbg_seed(&I.drbg, mbedtls_entropy_func, &I.entropy,
                                  reinterpret_cast<const unsigned char*>(kPers), sizeof kPers - 1);
  if (ret != 0) fail("DRBG seed", ret);
  ret = mbedtls_ssl_config_defaults(&I.conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) fail("ssl config", ret);
  mbedtls_ssl_conf_rng(&I.conf, mbedtls_ctr_drbg_random, &I.drbg);
  // TLS 1.2 only.
  mbedtls_ssl_conf_min_version(&I.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(&I.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_renegotiation(&I.conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);

  const bool have_cert = !cfg.certificate_chain.empty();
  const bool have_psk = static_cast<bool>(cfg.psk_lookup);
  if (!have_cert && !have_psk) throw http::TlsConfigError("TLS needs a certificate chain or a PSK lookup");

  if (have_cert) {
    load_chain(&I.own_chain, cfg.certificate_chain, "server certificate chain");
    if (cfg.private_key.empty()) throw http::TlsConfigError("server private key missing");
    // mbedtls_pk_parse_key wants PEM NUL-terminated (length including the NUL).
    SecretBytes key(cfg.private_key);
    bool pem = std::string_view(reinterpret_cast<const char*>(key.data()), key.size()).find("-----BEGIN") !=
               std::string_view::npos;
    if (pem && (key.empty() || key.back() != 0)) key.push_back(0);
    ret = mbedtls_pk_parse_key(&I.own_key, key.data(), key.size(), nullptr, 0);
    if (ret != 0) fail("server private key", ret);
    ret = mbedtls_pk_check_pair(&I.own_chain.pk, &I.own_key);
    if (ret != 0) fail("server private key does not match the certificate", ret);
    ret = mbedtls_ssl_conf_own_cert(&I.conf, &I.own_chain, &I.own_key);
    if (ret != 0) fail("own certificate", ret);
  }

  if (!cfg.cipher_suites.empty()) {
    for (const auto& n : cfg.cipher_suites) I.suites.push_back(suite_id(n));
  } else {
    if (have_cert) {
      I.suites.push_back(MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
      I.suites.push_back(MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256);
    }
    if (have_psk) {
      I.suites.push_back(MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256);
      I.suites.push_back(MBEDTLS_TLS_PSK_WITH_AES_128_CBC_SHA256);
      I.suites.push_back(MBEDTLS_TLS_PSK_WITH_AES_128_CCM);
    }
  }
  for (int id : I.suites)
    if (mbedtls_ssl_ciphersuite_from_id(id) == nullptr)
      throw http::TlsConfigError("cipher suite not compiled into mbedTLS: " + iana_name(id));
  I.suites.push_back(0);
  mbedtls_ssl_conf_ciphersuites(&I.conf, I.suites.data());

  for (const auto& c : cfg.curves) {
    const mbedtls_ecp_curve_info* info = mbedtls_ecp_curve_info_from_name(c.c_str());
    if (info == nullptr) throw http::TlsConfigError("unknown curve: " + c);
    I.curves.push_back(info->grp_id);
  }
  if (I.curves.empty()) throw http::TlsConfigError("no curves configured");
  I.curves.push_back(MBEDTLS_ECP_DP_NONE);
  mbedtls_ssl_conf_curves(&I.conf, I.curves.data());

  switch (cfg.client_auth) {
    case http::ClientAuth::None:
      mbedtls_ssl_conf_authmode(&I.conf, MBEDTLS_SSL_VERIFY_NONE);
      break;
    case http::ClientAuth::Optional:
    case http::ClientAuth::Required:
      if (cfg.client_ca_chain.empty()) throw http::TlsConfigError("client authentication needs client_ca_chain");
      load_chain(&I.client_ca, cfg.client_ca_chain, "client CA chain");
      mbedtls_ssl_conf_ca_chain(&I.conf, &I.client_ca, nullptr);
      mbedtls_ssl_conf_authmode(&I.conf, cfg.client_auth == http::ClientAuth::Required ? MBEDTLS_SSL_VERIFY_REQUIRED
                                                                                        : MBEDTLS_SSL_VERIFY_OPTIONAL);
      break;
  }

  if (have_psk) {
    I.psk_lookup = cfg.psk_lookup;
    mbedtls_ssl_conf_psk_cb(&I.conf, psk_callback, &I);
  }
}

ServerContext::~ServerContext() = default;

const void* ServerContext::native_config() const { return &impl_->conf; }

std::vector<std::string> ServerContext::cipher_suites() const {
  std::vector<std::string> out;
  for (int id : impl_->suites)
    if (id != 0) out.push_back(iana_name(id));
  return out;
}

// ---------------------------------------------------------------------------
// Engine

Engine::Engine(std::shared_ptr<const ServerContext> ctx) : impl_(std::make_unique<Impl>()) {
  mbedtls_ssl_init(&impl_->ssl);
  impl_->ctx = std::move(ctx);
  int ret = mbedtls_ssl_setup(&impl_->ssl, static_cast<const mbedtls_ssl_config*>(impl_->ctx->native_config()));
  if (ret != 0) {
    mbedtls_ssl_free(&impl_->ssl);
    throw boost::system::system_error(make_error(ret), "mbedtls_ssl_setup");
  }
  mbedtls_ssl_set_bio(&impl_->ssl, impl_.get(), &Impl::bio_send, &Impl::bio_recv, nullptr);
}

Engine::~Engine() { mbedtls_ssl_free(&impl_->ssl); }

Engine::Want Engine::handshake(boost::system::error_code& ec) {
  int ret = mbedtls_ssl_handshake(&impl_->ssl);
  if (ret == 0) {
    impl_->done = true;
    return Want::Nothing;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) return Want::Input;
  ec = make_error(ret);
  return Want::Nothing;
}

Engine::Want Engine::read(void* data, std::size_t size, std::size_t& n, boost::system::error_code& ec) {
  n = 0;
  if (size == 0) return Want::Nothing;
  int ret = mbedtls_ssl_read(&impl_->ssl, static_cast<unsigned char*>(data), size);
  if (ret > 0) {
    n = static_cast<std::size_t>(ret);
    return Want::Nothing;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) return Want::Input;
  if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
    ec = boost::asio::error::eof;
    return Want::Nothing;
  }
  ec = make_error(ret);
  return Want::Nothing;
}

Engine::Want Engine::write(const void* data, std::size_t size, std::size_t& n, boost::system::error_code& ec) {
  n = 0;
  if (size == 0) return Want::Nothing;
  int ret = mbedtls_ssl_write(&impl_->ssl, static_cast<const unsigned char*>(data), size);
  if (ret > 0) {
    n = static_cast<std::size_t>(ret);
    return Want::Nothing;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) return Want::Input;
  ec = make_error(ret);
  return Want::Nothing;
}

Engine::Want Engine::shutdown(boost::system::error_code& ec) {
  int ret = mbedtls_ssl_close_notify(&impl_->ssl);
  if (ret != 0 && ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) ec = make_error(ret);
  return Want::Nothing;
}

bool Engine::has_output() const { return impl_->out_pos < impl_->out.size(); }

boost::asio::const_buffer Engine::output() const {
  return {impl_->out.data() + impl_->out_pos, impl_->out.size() - impl_->out_pos};
}

void Engine::consume_output(std::size_t n) {
  impl_->out_pos += std::min(n, impl_->out.size() - impl_->out_pos);
  if (impl_->out_pos == impl_->out.size()) {
    impl_->out.clear();
    impl_->out_pos = 0;
  }
}

boost::asio::mutable_buffer Engine::input_space() {
  constexpr std::size_t kChunk = 17 * 1024;  // a full TLS record and then some
  auto& I = *impl_;
  if (I.in_pos > 0 && I.in_pos == I.in_fill) I.in_pos = I.in_fill = 0;
  if (I.in.size() < I.in_fill + kChunk) {
    if (I.in_pos > 0) {  // compact before growing
      std::memmove(I.in.data(), I.in.data() + I.in_pos, I.in_fill - I.in_pos);
      I.in_fill -= I.in_pos;
      I.in_pos = 0;
    }
    if (I.in.size() < I.in_fill + kChunk) I.in.resize(I.in_fill + kChunk);
  }
  return {I.in.data() + I.in_fill, kChunk};
}

void Engine::commit_input(std::size_t n) { impl_->in_fill += n; }

bool Engine::handshake_done() const { return impl_->done; }

std::optional<Bytes> Engine::peer_certificate() const {
  if (!impl_->done) return std::nullopt;
  const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(&impl_->ssl);
  if (peer == nullptr || peer->raw.p == nullptr) return std::nullopt;
  if (mbedtls_ssl_get_verify_result(&impl_->ssl) != 0) return std::nullopt;
  return Bytes(peer->raw.p, peer->raw.p + peer->raw.len);
}

std::optional<std::string> Engine::psk_identity() const { return impl_->psk_identity; }

std::string Engine::cipher_suite() const {
  const char* n = mbedtls_ssl_get_ciphersuite(&impl_->ssl);
  if (n == nullptr) return {};
  std::string s = n;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

}  // namespace rsp::tls
