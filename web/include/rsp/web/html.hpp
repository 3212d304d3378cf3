// The web application's text helpers: the one HTML-escaping function every
// value goes through before it reaches a page, and the decoding of
// application/x-www-form-urlencoded bodies and query strings (WHATWG URL
// standard, "application/x-www-form-urlencoded parsing").
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rsp::web {

// Escapes & < > " ' (the five characters that can end a text node or a quoted
// attribute value, HTML 5 13.1.2.6): safe in element content and in quoted
// attribute values. Never put a value into an unquoted attribute, a <script>
// or a style.
std::string html_escape(std::string_view text);

// Percent-decoding with '+' as space. Malformed escapes ("%G1", "%4") and
// bytes that decode to NUL are refused (std::invalid_argument).
std::string form_decode(std::string_view text);
// Percent-encoding of everything but unreserved characters (RFC 3986 2.3).
std::string url_encode(std::string_view text);

// A decoded form (or query): each name with its values in order (a name may
// repeat: checkboxes).
class Form {
 public:
  Form() = default;
  // Throws std::invalid_argument on a malformed body.
  static Form parse(std::string_view body);
  // The first value, or "" when absent.
  std::string get(const std::string& name) const;
  const std::vector<std::string>& all(const std::string& name) const;
  bool has(const std::string& name) const { return fields_.count(name) != 0; }

 private:
  std::map<std::string, std::vector<std::string>> fields_;
};

// One CSV field (RFC 4180): quoted when it holds a comma, quote or line
// break; a text field that starts with = + - @ (a spreadsheet formula) gets a
// leading apostrophe (OWASP "CSV injection").
std::string csv_field(std::string_view text);

}  // namespace rsp::web
