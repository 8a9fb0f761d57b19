// libFuzzer target for what an admin pastes as a peer's identity text:
// pki::Invite::parse (the one-line invite), and the pieces it is made of,
// parse_host_port, Fingerprint::parse and the domain-name checks. Whatever
// parses must print back into text that parses to the same value. Any crash,
// sanitizer report or broken invariant (abort) is a bug.

#include <sipsite/pki/domain_name.hpp>
#include <sipsite/pki/fingerprint.hpp>
#include <sipsite/pki/host_port.hpp>
#include <sipsite/pki/invite.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace sipsite::pki;

void check(bool invariant) {
  if (!invariant) std::abort();
}

void host_port(std::string_view text, bool allow_zero) {
  const auto hp = parse_host_port(text, allow_zero);
  if (!hp) return;
  check(allow_zero || hp->port != 0);
  const auto again = parse_host_port(hp->to_string(), allow_zero);
  check(again.has_value());
  check(again->host == hp->host && again->port == hp->port);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (const auto invite = Invite::parse(text)) {
    check(is_valid_domain_name(invite->domain));
    const std::string line = invite->to_string();
    const auto again = Invite::parse(line);
    check(again.has_value());
    check(again->domain == invite->domain);
    check(again->address.host == invite->address.host && again->address.port == invite->address.port);
    check(again->fingerprint == invite->fingerprint);
    check(again->to_string() == line);
  }

  host_port(text, false);
  host_port(text, true);

  if (const auto fp = Fingerprint::parse(text)) {
    const auto again = Fingerprint::parse(fp->to_string());
    check(again.has_value() && *again == *fp);
  }

  if (is_valid_domain_name(text)) {
    check(is_valid_domain_name(lowercase_domain(text)));
  }
  return 0;
}
