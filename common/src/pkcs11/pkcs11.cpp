// PKCS#11 v2.40 signer: dlopen of the token's module, RFC 7512 URIs parsed by
// p11-kit, CKM_ECDSA over a SHA-256 hash computed here (PKCS#11 2.40 section
// 2.3.6: the mechanism signs the hash as given; its output is r||s, each the
// size of the order, which is already SGP.22's encoding in 5F37).
#include "rsp/pkcs11.hpp"

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace rsp::pkcs11 {

namespace {

std::string rv_name(CK_RV rv) {
  switch (rv) {
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE";
    case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
    case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
    case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
    case CKR_KEY_HANDLE_INVALID: return "CKR_KEY_HANDLE_INVALID";
    case CKR_KEY_TYPE_INCONSISTENT: return "CKR_KEY_TYPE_INCONSISTENT";
    case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
    case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
    case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
    case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
    default: {
      char b[32];
      std::snprintf(b, sizeof b, "CKR 0x%lx", static_cast<unsigned long>(rv));
      return b;
    }
  }
}

void check(CK_RV rv, const std::string& what) {
  if (rv != CKR_OK) throw Pkcs11Error(what + " failed (" + rv_name(rv) + ")");
}

// A PKCS#11 module, loaded and initialized once per process and path (two
// C_Initialize calls on one module fail; the last user finalizes it).
class Module {
 public:
  static std::shared_ptr<Module> open(const std::string& path) {
    static std::mutex mu;
    static std::map<std::string, std::weak_ptr<Module>> modules;
    std::lock_guard l(mu);
    if (auto m = modules[path].lock()) return m;
    auto m = std::shared_ptr<Module>(new Module(path));
    modules[path] = m;
    return m;
  }
  ~Module() {
    if (initialized_) f->C_Finalize(nullptr);
    ::dlclose(handle_);
  }
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  CK_FUNCTION_LIST* f = nullptr;

 private:
  explicit Module(const std::string& path) {
    handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) throw Pkcs11Error("cannot load the PKCS#11 module " + path + ": " + ::dlerror());
    auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle_, "C_GetFunctionList"));
    if (!get_list || get_list(&f) != CKR_OK || !f) {
      ::dlclose(handle_);
      throw Pkcs11Error(path + " is not a PKCS#11 module (no C_GetFunctionList)");
    }
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;  // smdpd signs from several threads
    CK_RV rv = f->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      ::dlclose(handle_);
      throw Pkcs11Error("C_Initialize of " + path + " failed (" + rv_name(rv) + ")");
    }
    initialized_ = rv == CKR_OK;
  }
  void* handle_ = nullptr;
  bool initialized_ = false;
};

struct UriDeleter {
  void operator()(P11KitUri* u) const { p11_kit_uri_free(u); }
};
using UriPtr = std::unique_ptr<P11KitUri, UriDeleter>;

UriPtr parse(const std::string& text) {
  UriPtr u(p11_kit_uri_new());
  int rc = p11_kit_uri_parse(text.c_str(), P11_KIT_URI_FOR_ANY, u.get());
  // The message names the kind of error, not the text (which may hold a PIN).
  if (rc != P11_KIT_URI_OK) throw Pkcs11Error(std::string("not a valid PKCS#11 URI: ") + p11_kit_uri_message(rc));
  return u;
}

// DER of the namedCurve OID in CKA_EC_PARAMS (PKCS#11 2.40 2.3.3).
Bytes ec_params(crypto::Curve c) {
  if (c == crypto::Curve::P256) return {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
  if (c == crypto::Curve::BrainpoolP256r1) return {0x06, 0x09, 0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07};
  return {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x0A};  // secp256k1
}

class TokenSigner final : public crypto::Signer {
 public:
  TokenSigner(std::shared_ptr<Module> m, CK_SLOT_ID slot, CK_SESSION_HANDLE login_session, CK_OBJECT_HANDLE key,
              crypto::Curve curve)
      : m_(std::move(m)), slot_(slot), login_session_(login_session), key_(key), curve_(curve) {}
  ~TokenSigner() override {
    for (auto s : idle_) m_->f->C_CloseSession(s);
    m_->f->C_CloseSession(login_session_);  // the last session of the token logs it out
  }
  crypto::Curve curve() const override { return curve_; }

  Bytes sign(ByteView message) const override { return sign_digest(crypto::sha256(message)); }

  // CKM_ECDSA signs whatever digest it is given (PKCS#11 2.40 2.3.6).
  Bytes sign_digest(ByteView hash) const override {
    CK_SESSION_HANDLE s = take();
    CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
    Bytes sig(64);
    CK_ULONG len = sig.size();
    CK_RV rv = m_->f->C_SignInit(s, &mech, key_);
    if (rv == CKR_OK) rv = m_->f->C_Sign(s, const_cast<CK_BYTE*>(hash.data()), hash.size(), sig.data(), &len);
    if (rv != CKR_OK) {
      m_->f->C_CloseSession(s);  // it may still hold the operation
      throw Pkcs11Error("C_Sign (CKM_ECDSA) failed (" + rv_name(rv) + ")");
    }
    give_back(s);
    if (len != 64) throw Pkcs11Error("the token returned a " + std::to_string(len) + "-byte ECDSA signature, not 64");
    return sig;
  }

 private:
  // One signing operation per session at a time (PKCS#11 2.40 5.1): a small
  // pool of sessions, opened on demand. They share the login.
  CK_SESSION_HANDLE take() const {
    {
      std::lock_guard l(mu_);
      if (!idle_.empty()) {
        auto s = idle_.back();
        idle_.pop_back();
        return s;
      }
    }
    CK_SESSION_HANDLE s = 0;
    check(m_->f->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, &s), "C_OpenSession");
    return s;
  }
  void give_back(CK_SESSION_HANDLE s) const {
    std::lock_guard l(mu_);
    idle_.push_back(s);
  }

  std::shared_ptr<Module> m_;
  CK_SLOT_ID slot_;
  CK_SESSION_HANDLE login_session_;
  CK_OBJECT_HANDLE key_;
  crypto::Curve curve_;
  mutable std::mutex mu_;
  mutable std::vector<CK_SESSION_HANDLE> idle_;
};

}  // namespace

bool is_uri(std::string_view s) { return s.substr(0, 7) == "pkcs11:"; }

KeyUri parse_key_uri(const std::string& text) {
  if (!is_uri(text)) throw Pkcs11Error("a PKCS#11 URI starts with pkcs11:");
  UriPtr u = parse(text);
  if (p11_kit_uri_get_pin_value(u.get()))
    throw Pkcs11Error("pin-value is not accepted in the URI: give the PIN with pin-source");
  KeyUri k;
  k.uri = text;
  if (const char* p = p11_kit_uri_get_module_path(u.get())) k.module_path = p;
  if (const char* p = p11_kit_uri_get_pin_source(u.get())) k.pin_source = p;
  if (k.module_path.empty()) throw Pkcs11Error("the URI names no module-path (the PKCS#11 library)");
  if (!p11_kit_uri_get_attribute(u.get(), CKA_LABEL) && !p11_kit_uri_get_attribute(u.get(), CKA_ID))
    throw Pkcs11Error("the URI names no key (object= or id=)");
  if (const CK_ATTRIBUTE* cls = p11_kit_uri_get_attribute(u.get(), CKA_CLASS)) {
    CK_OBJECT_CLASS c = CKO_PRIVATE_KEY;
    if (cls->ulValueLen == sizeof c) std::memcpy(&c, cls->pValue, sizeof c);
    if (c != CKO_PRIVATE_KEY) throw Pkcs11Error("the URI must name a private key (type=private)");
  }
  return k;
}

std::shared_ptr<const crypto::Signer> open_signer(const KeyUri& key, const SecretBytes& pin, crypto::Curve curve) {
  UriPtr u = parse(key.uri);
  auto m = Module::open(key.module_path);
  auto* f = m->f;

  // The token: the one present token whose CK_TOKEN_INFO matches the URI.
  CK_ULONG n = 0;
  check(f->C_GetSlotList(CK_TRUE, nullptr, &n), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(n);
  check(f->C_GetSlotList(CK_TRUE, slots.data(), &n), "C_GetSlotList");
  slots.resize(n);
  std::vector<CK_SLOT_ID> matching;
  for (CK_SLOT_ID s : slots) {
    CK_TOKEN_INFO ti{};
    if (f->C_GetTokenInfo(s, &ti) == CKR_OK && p11_kit_uri_match_token_info(u.get(), &ti) == 1) matching.push_back(s);
  }
  if (matching.empty()) throw Pkcs11Error("no token in " + key.module_path + " matches the URI");
  if (matching.size() > 1) throw Pkcs11Error("several tokens in " + key.module_path + " match the URI: name one (token=)");
  CK_SLOT_ID slot = matching.front();

  CK_SESSION_HANDLE session = 0;
  check(f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &session), "C_OpenSession");
  auto fail = [&](const std::string& why) {
    f->C_CloseSession(session);
    throw Pkcs11Error(why);
  };
  if (!pin.empty()) {
    CK_RV rv = f->C_Login(session, CKU_USER, const_cast<unsigned char*>(pin.data()), pin.size());
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) fail("C_Login failed (" + rv_name(rv) + ")");
  }

  // The key: exactly one private key with the URI's label / id.
  CK_ULONG count = 0;
  CK_ATTRIBUTE* attrs = p11_kit_uri_get_attributes(u.get(), &count);
  std::vector<CK_ATTRIBUTE> tmpl(attrs, attrs + count);
  CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
  if (!p11_kit_uri_get_attribute(u.get(), CKA_CLASS)) tmpl.push_back({CKA_CLASS, &priv, sizeof priv});
  CK_OBJECT_HANDLE found[2];
  CK_ULONG nfound = 0;
  CK_RV rv = f->C_FindObjectsInit(session, tmpl.data(), tmpl.size());
  if (rv == CKR_OK) rv = f->C_FindObjects(session, found, 2, &nfound);
  f->C_FindObjectsFinal(session);
  if (rv != CKR_OK) fail("C_FindObjects failed (" + rv_name(rv) + ")");
  if (nfound == 0)
    fail(std::string("no private key in the token matches the URI") + (pin.empty() ? " (no PIN given: not logged in)" : ""));
  if (nfound > 1) fail("several private keys in the token match the URI");
  CK_OBJECT_HANDLE k = found[0];

  // It must stay in the token, sign, and be on the curve of its certificate.
  CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE, can_sign = CK_FALSE;
  CK_KEY_TYPE type = 0;
  CK_ATTRIBUTE get[] = {{CKA_SENSITIVE, &sensitive, sizeof sensitive},
                        {CKA_EXTRACTABLE, &extractable, sizeof extractable},
                        {CKA_SIGN, &can_sign, sizeof can_sign},
                        {CKA_KEY_TYPE, &type, sizeof type}};
  if (f->C_GetAttributeValue(session, k, get, 4) != CKR_OK) fail("the token does not tell the key's attributes");
  if (type != CKK_EC) fail("the key is not an EC key");
  if (!can_sign) fail("the key may not sign (CKA_SIGN false)");
  if (!sensitive || extractable)
    fail("the key could leave the token (CKA_SENSITIVE false or CKA_EXTRACTABLE true): import it as sensitive, "
         "not extractable");
  Bytes params(64);
  CK_ATTRIBUTE p{CKA_EC_PARAMS, params.data(), params.size()};
  if (f->C_GetAttributeValue(session, k, &p, 1) == CKR_OK) {
    params.resize(p.ulValueLen);
    if (params != ec_params(curve))
      fail("the key is not on " + std::string(crypto::curve_name(curve)) + ", the curve of its certificate");
  }
  return std::make_shared<TokenSigner>(std::move(m), slot, session, k, curve);
}

}  // namespace rsp::pkcs11
