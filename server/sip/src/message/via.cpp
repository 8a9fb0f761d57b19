#include "sipsite/sip/message/via.hpp"

#include "charset.hpp"
#include "param_scan.hpp"
#include "sipsite/sip/message/list.hpp"

namespace sipsite::sip {
namespace {

constexpr std::string_view kMagicCookie = "z9hG4bK";

ParseError via_error(std::string reason) {
  return ParseError{ParseErrc::bad_via, MessageKind::request, std::move(reason)};
}

Result<Via> parse_via_parm(std::string_view text) {
  detail::Scanner in(text);
  Via v;
  v.protocol_name = in.token();
  in.skip_ws();
  if (v.protocol_name.empty() || !in.consume('/')) return via_error("malformed sent-protocol");
  in.skip_ws();
  v.protocol_version = in.token();
  in.skip_ws();
  if (v.protocol_version.empty() || !in.consume('/')) return via_error("malformed sent-protocol");
  in.skip_ws();
  v.transport = in.token();
  if (v.transport.empty()) return via_error("missing transport");
  const std::size_t before_ws = in.pos();
  in.skip_ws();
  if (in.pos() == before_ws) return via_error("no LWS before sent-by");

  if (in.peek() == '[') {
    const auto h = in.take_while([](char c) { return c != ']'; });
    if (!in.consume(']')) return via_error("unterminated IPv6 reference");
    v.host = std::string_view(h.data(), h.size() + 1);
  } else {
    v.host = in.take_while(detail::is_host_char);
  }
  if (!detail::is_host(v.host)) return via_error("malformed sent-by host");
  const std::size_t after_host = in.pos();
  in.skip_ws();
  if (in.consume(':')) {
    in.skip_ws();
    const auto port = detail::parse_decimal(in.take_while(detail::is_digit), 65535);
    if (!port) return via_error("malformed sent-by port");
    v.port = static_cast<std::uint16_t>(*port);
  } else {
    in.set_pos(after_host);
  }

  if (!detail::scan_generic_params(in, v.params)) return via_error("malformed Via parameter");
  in.skip_ws();
  if (!in.done()) return via_error("unexpected text in Via");

  if (const auto* r = find_param(v.params, "received")) {
    if (!r->value || !detail::is_host(*r->value)) return via_error("malformed received");
  }
  if (const auto* r = find_param(v.params, "rport")) {
    if (r->value && !detail::parse_decimal(*r->value, 65535)) return via_error("malformed rport");
  }
  if (const auto* b = find_param(v.params, "branch")) {
    if (!b->value) return via_error("branch without value");
  }
  return v;
}

}  // namespace

std::optional<std::string_view> Via::branch() const noexcept {
  const auto* p = find_param(params, "branch");
  return p != nullptr ? p->value : std::nullopt;
}

std::optional<std::string_view> Via::received() const noexcept {
  const auto* p = find_param(params, "received");
  return p != nullptr ? p->value : std::nullopt;
}

bool Via::has_rport() const noexcept { return find_param(params, "rport") != nullptr; }

std::optional<std::uint16_t> Via::rport() const noexcept {
  const auto* p = find_param(params, "rport");
  if (p == nullptr || !p->value) return std::nullopt;
  const auto v = detail::parse_decimal(*p->value, 65535);
  if (!v) return std::nullopt;
  return static_cast<std::uint16_t>(*v);
}

bool Via::has_rfc3261_branch() const noexcept {
  const auto b = branch();
  return b && b->size() > kMagicCookie.size() && b->substr(0, kMagicCookie.size()) == kMagicCookie;
}

Result<std::vector<Via>> parse_via_list(std::string_view value) {
  std::vector<Via> out;
  for (const auto element : split_list(value)) {
    if (element.empty()) return via_error("empty Via element");
    auto v = parse_via_parm(element);
    if (!v) return v.error();
    out.push_back(std::move(*v));
  }
  return out;
}

}  // namespace sipsite::sip
