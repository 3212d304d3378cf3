#include "rsp/web/html.hpp"

#include <stdexcept>

namespace rsp::web {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) throw std::invalid_argument("malformed percent escape");
      int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) throw std::invalid_argument("malformed percent escape");
      char d = static_cast<char>(hi * 16 + lo);
      if (d == '\0') throw std::invalid_argument("NUL in form field");
      out += d;
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Form Form::parse(std::string_view body) {
  Form f;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t amp = body.find('&', pos);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view pair = body.substr(pos, amp - pos);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      std::string name = form_decode(pair.substr(0, eq));
      std::string value = eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
      f.fields_[name].push_back(std::move(value));
    }
    pos = amp + 1;
  }
  return f;
}

std::string Form::get(const std::string& name) const {
  auto it = fields_.find(name);
  return it == fields_.end() || it->second.empty() ? std::string() : it->second.front();
}

const std::vector<std::string>& Form::all(const std::string& name) const {
  static const std::vector<std::string> none;
  auto it = fields_.find(name);
  return it == fields_.end() ? none : it->second;
}

std::string csv_field(std::string_view text) {
  std::string v(text);
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '@' || (v[0] == '-' && v.find_first_not_of("-0123456789.") != std::string::npos)))
    v.insert(v.begin(), '\'');
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace rsp::web
