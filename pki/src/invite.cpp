#include <sipsite/pki/domain_name.hpp>
#include <sipsite/pki/invite.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace sipsite::pki {

namespace {

constexpr std::string_view kPrefix = "sipsite:invite?";

Error bad(std::string what) { return Error{Errc::bad_invite, "invalid invite: " + std::move(what)}; }

}  // namespace

std::string Invite::to_string() const {
  return std::string(kPrefix) + "v=1&domain=" + domain + "&address=" + address.to_string() +
         "&fp=" + fingerprint.to_string();
}

Result<Invite> Invite::parse(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  if (text.substr(0, kPrefix.size()) != kPrefix) return bad("it must start with 'sipsite:invite?'");
  text.remove_prefix(kPrefix.size());

  std::optional<std::string_view> version, domain, address, fp;
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return bad("parameter without '='");
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = pair.substr(eq + 1);
    std::optional<std::string_view>* slot = key == "v"         ? &version
                                            : key == "domain"  ? &domain
                                            : key == "address" ? &address
                                            : key == "fp"      ? &fp
                                                               : nullptr;
    if (slot == nullptr) continue;  // later versions may add parameters
    if (slot->has_value()) return bad("parameter '" + std::string(key) + "' given twice");
    *slot = value;
  }
  if (!version || *version != "1") return bad("unsupported version (expected v=1)");
  if (!domain || !is_valid_domain_name(*domain)) return bad("missing or invalid domain");
  if (!address) return bad("missing address");
  if (!fp) return bad("missing fingerprint");

  Invite invite;
  invite.domain = lowercase_domain(*domain);
  auto parsed_address = parse_host_port(*address);
  if (!parsed_address) return bad("address " + parsed_address.error().message);
  invite.address = std::move(*parsed_address);
  auto parsed_fp = Fingerprint::parse(*fp);
  if (!parsed_fp) return bad("the fingerprint is malformed");
  invite.fingerprint = *parsed_fp;
  return invite;
}

}  // namespace sipsite::pki
