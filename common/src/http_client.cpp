// rsp::http::Client on libcurl. See rsp/http_client.hpp.
#include "rsp/http_client.hpp"

#include <curl/curl.h>

#include <mutex>

namespace rsp::http {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) throw HttpError(std::string("curl_global_init: ") + curl_easy_strerror(rc), rc);
  });
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

struct SlistGuard {
  curl_slist* list = nullptr;
  ~SlistGuard() { curl_slist_free_all(list); }
  void add(const std::string& line) {
    curl_slist* n = curl_slist_append(list, line.c_str());
    if (n == nullptr) throw HttpError("out of memory building headers", CURLE_OUT_OF_MEMORY);
    list = n;
  }
};

size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
  static_cast<std::string*>(user)->append(data, size * nmemb);
  return size * nmemb;
}

size_t on_header(char* data, size_t size, size_t nmemb, void* user) {
  auto* h = static_cast<Headers*>(user);
  std::string_view line(data, size * nmemb);
  if (line.starts_with("HTTP/")) {
    *h = Headers{};  // a new response (after 100 Continue or a redirect)
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    h->add(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return size * nmemb;
}

}  // namespace

struct Client::Impl {
  ClientConfig config;
  CURL* curl = nullptr;
  std::mutex mutex;
  char error[CURL_ERROR_SIZE] = {};

  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }

  void check(CURLcode rc, const char* what) {
    if (rc != CURLE_OK) throw HttpError(std::string(what) + ": " + curl_easy_strerror(rc), rc);
  }

  void set_blob(CURLoption opt, const std::uint8_t* data, std::size_t len, const char* what) {
    curl_blob blob{const_cast<std::uint8_t*>(data), len, CURL_BLOB_COPY};
    check(curl_easy_setopt(curl, opt, &blob), what);
  }

  // Everything that does not change between requests. Re-applied after each
  // curl_easy_reset (which keeps the connection and TLS session caches).
  void base_options() {
    const auto& c = config;
    check(curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L), "NOSIGNAL");
    check(curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error), "ERRORBUFFER");
    check(curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(c.connect_timeout.count())),
          "CONNECTTIMEOUT");
    check(curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(c.timeout.count())), "TIMEOUT");
    check(curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, c.verify_peer ? 1L : 0L), "SSL_VERIFYPEER");
    check(curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, c.verify_host ? 2L : 0L), "SSL_VERIFYHOST");
    if (!c.local_address.empty()) {
      std::string iface = "host!" + c.local_address;
      check(curl_easy_setopt(curl, CURLOPT_INTERFACE, iface.c_str()), "INTERFACE");  // curl copies it
    }
    if (c.ca_file) check(curl_easy_setopt(curl, CURLOPT_CAINFO, c.ca_file->c_str()), "CAINFO");
    if (c.ca_pem) set_blob(CURLOPT_CAINFO_BLOB, c.ca_pem->data(), c.ca_pem->size(), "CAINFO_BLOB");
    if (c.client_cert_file) check(curl_easy_setopt(curl, CURLOPT_SSLCERT, c.client_cert_file->c_str()), "SSLCERT");
    if (c.client_key_file) check(curl_easy_setopt(curl, CURLOPT_SSLKEY, c.client_key_file->c_str()), "SSLKEY");
    if (c.client_cert_pem) {
      set_blob(CURLOPT_SSLCERT_BLOB, c.client_cert_pem->data(), c.client_cert_pem->size(), "SSLCERT_BLOB");
      check(curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM"), "SSLCERTTYPE");
    }
    if (c.client_key_pem) {
      set_blob(CURLOPT_SSLKEY_BLOB, c.client_key_pem->data(), c.client_key_pem->size(), "SSLKEY_BLOB");
      check(curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM"), "SSLKEYTYPE");
    }
    if (c.tls12_only)
      check(curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2) |
                                                               static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_2)),
            "SSLVERSION");
    if (!c.cipher_list.empty())
      check(curl_easy_setopt(curl, CURLOPT_SSL_CIPHER_LIST, c.cipher_list.c_str()), "SSL_CIPHER_LIST");
    if (!c.curves.empty()) check(curl_easy_setopt(curl, CURLOPT_SSL_EC_CURVES, c.curves.c_str()), "SSL_EC_CURVES");
    if (!c.user_agent.empty()) check(curl_easy_setopt(curl, CURLOPT_USERAGENT, c.user_agent.c_str()), "USERAGENT");
    check(curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L), "FOLLOWLOCATION");
  }
};

Client::Client(ClientConfig config) : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->config = std::move(config);
  impl_->curl = curl_easy_init();
  if (impl_->curl == nullptr) throw HttpError("curl_easy_init failed", CURLE_FAILED_INIT);
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const ClientConfig& Client::config() const { return impl_->config; }

Response Client::request(std::string_view method, const std::string& url, const Headers& headers,
                         std::string_view body) {
  auto& I = *impl_;
  std::lock_guard lock(I.mutex);
  CURL* curl = I.curl;
  curl_easy_reset(curl);
  I.error[0] = '\0';
  I.base_options();

  Response res;
  std::string method_s(method);
  I.check(curl_easy_setopt(curl, CURLOPT_URL, url.c_str()), "URL");
  const bool with_body = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  if (method == "GET" && !with_body) {
    I.check(curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L), "HTTPGET");
  } else if (method == "HEAD") {
    I.check(curl_easy_setopt(curl, CURLOPT_NOBODY, 1L), "NOBODY");
  } else {
    if (with_body) {
      I.check(curl_easy_setopt(curl, CURLOPT_POST, 1L), "POST");
      I.check(curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size())),
              "POSTFIELDSIZE");
      // Never NULL: with CURLOPT_POST and no POSTFIELDS curl would read stdin.
      I.check(curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data()), "POSTFIELDS");
    }
    if (method != "POST") I.check(curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method_s.c_str()), "CUSTOMREQUEST");
  }

  SlistGuard list;
  bool has_expect = false, has_content_type = false;
  for (const auto& [k, v] : headers.fields()) {
    has_expect |= iequals(k, "Expect");
    has_content_type |= iequals(k, "Content-Type");
    list.add(v.empty() ? k + ";" : k + ": " + v);
  }
  if (!has_expect) list.add("Expect:");  // no 100-continue round trip
  if (with_body && !has_content_type) list.add("Content-Type:");  // not x-www-form-urlencoded
  I.check(curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list.list), "HTTPHEADER");

  I.check(curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body), "WRITEFUNCTION");
  I.check(curl_easy_setopt(curl, CURLOPT_WRITEDATA, &res.body), "WRITEDATA");
  I.check(curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header), "HEADERFUNCTION");
  I.check(curl_easy_setopt(curl, CURLOPT_HEADERDATA, &res.headers), "HEADERDATA");

  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    std::string msg = I.error[0] != '\0' ? std::string(I.error) : std::string(curl_easy_strerror(rc));
    throw HttpError(method_s + " " + url + ": " + msg, rc);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  res.status = static_cast<int>(status);
  return res;
}

}  // namespace rsp::http
