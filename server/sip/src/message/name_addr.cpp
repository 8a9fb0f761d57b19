#include "sipsite/sip/message/name_addr.hpp"

#include "charset.hpp"
#include "param_scan.hpp"
#include "sipsite/sip/message/list.hpp"

namespace sipsite::sip {
namespace {

ParseError na_error(std::string reason) {
  return ParseError{ParseErrc::bad_name_addr, MessageKind::request, std::move(reason)};
}

}  // namespace

std::optional<std::string_view> NameAddr::tag() const noexcept {
  const auto* p = find_param(params, "tag");
  if (p == nullptr || !p->value) return std::nullopt;
  return p->value;
}

Result<NameAddr> parse_name_addr(std::string_view value) {
  value = detail::trim(value);
  detail::Scanner in(value);
  NameAddr na;

  if (in.peek() == '"') {
    const auto q = in.quoted_string();
    if (!q) return na_error("unterminated quoted display name");
    na.display_name = *q;
    in.skip_ws();
    if (in.peek() != '<') return na_error("display name not followed by <URI>");
  } else if (in.peek() != '<') {
    // display-name = *(token LWS): try it; fall back to addr-spec
    std::size_t end = 0;
    while (true) {
      const auto t = in.token();
      if (t.empty()) break;
      end = in.pos();
      in.skip_ws();
    }
    if (in.peek() == '<' && end > 0) {
      na.display_name = value.substr(0, end);
    } else {
      in.set_pos(0);
    }
  }

  if (in.consume('<')) {
    na.angle_brackets = true;
    const auto rest = in.rest();
    const auto close = rest.find('>');
    if (close == std::string_view::npos) return na_error("missing '>'");
    auto uri = parse_uri(rest.substr(0, close));
    if (!uri) return na_error("malformed URI in <>: " + uri.error().reason);
    na.uri = std::move(*uri);
    in.set_pos(in.pos() + close + 1);
  } else {
    const auto rest = in.rest();
    const auto semi = rest.find(';');
    const auto spec = detail::trim(rest.substr(0, semi));
    if (spec.find_first_of(",?") != std::string_view::npos) {
      return na_error("URI with ',' or '?' must be enclosed in <>");
    }
    auto uri = parse_uri(spec);
    if (!uri) return na_error("malformed addr-spec: " + uri.error().reason);
    na.uri = std::move(*uri);
    in.set_pos(in.pos() + (semi == std::string_view::npos ? rest.size() : semi));
  }

  if (!detail::scan_generic_params(in, na.params)) return na_error("malformed header parameter");
  in.skip_ws();
  if (!in.done()) return na_error("unexpected text after URI");
  return na;
}

Result<std::vector<NameAddr>> parse_name_addr_list(std::string_view value) {
  std::vector<NameAddr> out;
  for (const auto element : split_list(value)) {
    if (element.empty()) return na_error("empty list element");
    auto na = parse_name_addr(element);
    if (!na) return na.error();
    out.push_back(std::move(*na));
  }
  return out;
}

Result<ContactList> parse_contact_list(std::string_view value) {
  ContactList list;
  if (detail::trim(value) == "*") {
    list.star = true;
    return list;
  }
  auto contacts = parse_name_addr_list(value);
  if (!contacts) return contacts.error();
  list.contacts = std::move(*contacts);
  return list;
}

std::string aor_of(const NameAddr& na) {
  if (!na.uri.is_sip()) return std::string(na.uri.text);
  return unescape(na.uri.sip_uri.user).value_or("") + "@" + std::string(na.uri.sip_uri.host);
}

}  // namespace sipsite::sip
