#include "sipsite/sip/message/uri.hpp"

#include "charset.hpp"
#include "sipsite/sip/message/header_id.hpp"

namespace sipsite::sip {
namespace {

using detail::all_escaped;

ParseError uri_error(std::string reason) {
  return ParseError{ParseErrc::bad_uri, MessageKind::request, std::move(reason)};
}

// ";" separated name[=value] items whose characters satisfy pred (with
// escapes). Used for uri-parameters and tel parameters.
bool split_params(std::string_view text, Params& out) {
  if (text.empty()) return false;  // a ';' with nothing after it
  while (!text.empty()) {
    // text starts right after a ';'
    const auto end = text.find(';');
    const auto item = text.substr(0, end);
    const auto eq = item.find('=');
    Param p;
    p.name = item.substr(0, eq);
    if (p.name.empty() || !all_escaped(p.name, detail::is_param_char)) return false;
    if (eq != std::string_view::npos) {
      const auto v = item.substr(eq + 1);
      if (v.empty() || !all_escaped(v, detail::is_param_char)) return false;
      p.value = v;
    }
    out.push_back(p);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
    if (text.empty()) return false;  // trailing ';'
  }
  return true;
}

bool split_headers(std::string_view text, Params& out) {
  while (true) {
    const auto end = text.find('&');
    const auto item = text.substr(0, end);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return false;
    Param p;
    p.name = item.substr(0, eq);
    p.value = item.substr(eq + 1);
    if (p.name.empty() || !all_escaped(p.name, detail::is_hnv_char) || !all_escaped(*p.value, detail::is_hnv_char)) {
      return false;
    }
    out.push_back(p);
    if (end == std::string_view::npos) return true;
    text.remove_prefix(end + 1);
  }
}

Result<Uri> parse_sip(std::string_view text, std::string_view rest, bool secure) {
  SipUri u;
  u.secure = secure;
  // '@' cannot appear unescaped after the userinfo (not in host, params or
  // headers), so the first one ends the userinfo.
  const auto at = rest.find('@');
  if (at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    const auto colon = userinfo.find(':');
    u.user = userinfo.substr(0, colon);
    if (u.user.empty() || !all_escaped(u.user, detail::is_user_char)) {
      return uri_error("malformed user part");
    }
    if (colon != std::string_view::npos) {
      u.password = userinfo.substr(colon + 1);
      if (!all_escaped(*u.password, detail::is_password_char)) return uri_error("malformed password");
    }
    rest.remove_prefix(at + 1);
  }
  const auto hostport_end = rest.find_first_of(";?");
  auto hostport = rest.substr(0, hostport_end);
  rest = hostport_end == std::string_view::npos ? std::string_view{} : rest.substr(hostport_end);

  std::string_view port_text;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return uri_error("unterminated IPv6 reference");
    u.host = hostport.substr(0, close + 1);
    const auto after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return uri_error("text after IPv6 reference");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = hostport.find(':');
    u.host = hostport.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = hostport.substr(colon + 1);
      has_port = true;
    }
  }
  if (!detail::is_host(u.host)) return uri_error("malformed host");
  if (has_port) {
    const auto port = detail::parse_decimal(port_text, 65535);
    if (!port) return uri_error("malformed port");
    u.port = static_cast<std::uint16_t>(*port);
  }

  if (!rest.empty() && rest.front() == ';') {
    const auto q = rest.find('?');
    if (!split_params(rest.substr(1, q == std::string_view::npos ? q : q - 1), u.params)) {
      return uri_error("malformed uri-parameter");
    }
    rest = q == std::string_view::npos ? std::string_view{} : rest.substr(q);
  }
  if (!rest.empty()) {
    // rest starts with '?'
    if (!split_headers(rest.substr(1), u.headers)) return uri_error("malformed URI headers");
  }
  Uri out;
  out.text = text;
  out.kind = UriKind::sip;
  out.sip_uri = std::move(u);
  return out;
}

Result<Uri> parse_tel(std::string_view text, std::string_view rest) {
  TelUri t;
  const auto semi = rest.find(';');
  t.number = rest.substr(0, semi);
  if (t.number.empty()) return uri_error("empty telephone number");
  for (char c : t.number) {
    if (!detail::is_hex(c) && !detail::in(c, "*#+-.()")) return uri_error("malformed telephone number");
  }
  if (semi != std::string_view::npos) {
    if (!split_params(rest.substr(semi + 1), t.params)) return uri_error("malformed tel parameter");
  }
  Uri out;
  out.text = text;
  out.kind = UriKind::tel;
  out.tel_uri = std::move(t);
  return out;
}

}  // namespace

std::string_view Uri::scheme() const noexcept {
  if (const auto* s = sip()) return s->secure ? "sips" : "sip";
  if (tel() != nullptr) return "tel";
  return other_uri.scheme;
}

Result<Uri> parse_uri(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return uri_error("no scheme");
  const auto scheme = text.substr(0, colon);
  if (!detail::is_alpha(scheme.front())) return uri_error("malformed scheme");
  for (char c : scheme) {
    if (!detail::is_alnum(c) && !detail::in(c, "+-.")) return uri_error("malformed scheme");
  }
  const auto rest = text.substr(colon + 1);
  if (iequals(scheme, "sip")) return parse_sip(text, rest, false);
  if (iequals(scheme, "sips")) return parse_sip(text, rest, true);
  if (iequals(scheme, "tel")) return parse_tel(text, rest);
  if (rest.empty() || !all_escaped(rest, detail::is_uric_char)) return uri_error("malformed absolute URI");
  Uri out;
  out.text = text;
  out.kind = UriKind::other;
  out.other_uri = OtherUri{scheme, rest};
  return out;
}

std::optional<std::string> unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto hex = [](char c) { return detail::is_digit(c) ? c - '0' : (c >= 'a' ? c - 'a' + 10 : c - 'A' + 10); };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size() || !detail::is_hex(text[i + 1]) || !detail::is_hex(text[i + 2])) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
    i += 2;
  }
  return out;
}

}  // namespace sipsite::sip
