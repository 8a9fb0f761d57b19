#include "sipsite/sip/message/header_id.hpp"

#include <array>
#include <cstdint>

namespace sipsite::sip {
namespace {

struct Entry {
  HeaderId id;
  std::string_view name;
  char compact;
  bool list;
};

// Ordered as the enum so canonical_name() can index directly.
constexpr std::array kTable{
    Entry{HeaderId::unknown, "", '\0', false},
    Entry{HeaderId::accept, "Accept", '\0', true},
    Entry{HeaderId::accept_contact, "Accept-Contact", 'a', true},
    Entry{HeaderId::accept_encoding, "Accept-Encoding", '\0', true},
    Entry{HeaderId::accept_language, "Accept-Language", '\0', true},
    Entry{HeaderId::alert_info, "Alert-Info", '\0', true},
    Entry{HeaderId::allow, "Allow", '\0', true},
    Entry{HeaderId::allow_events, "Allow-Events", 'u', true},
    Entry{HeaderId::authentication_info, "Authentication-Info", '\0', false},
    Entry{HeaderId::authorization, "Authorization", '\0', false},
    Entry{HeaderId::call_id, "Call-ID", 'i', false},
    Entry{HeaderId::call_info, "Call-Info", '\0', true},
    Entry{HeaderId::contact, "Contact", 'm', true},
    Entry{HeaderId::content_disposition, "Content-Disposition", '\0', false},
    Entry{HeaderId::content_encoding, "Content-Encoding", 'e', true},
    Entry{HeaderId::content_language, "Content-Language", '\0', true},
    Entry{HeaderId::content_length, "Content-Length", 'l', false},
    Entry{HeaderId::content_type, "Content-Type", 'c', false},
    Entry{HeaderId::cseq, "CSeq", '\0', false},
    Entry{HeaderId::date, "Date", '\0', false},
    Entry{HeaderId::error_info, "Error-Info", '\0', true},
    Entry{HeaderId::event, "Event", 'o', false},
    Entry{HeaderId::expires, "Expires", '\0', false},
    Entry{HeaderId::from, "From", 'f', false},
    Entry{HeaderId::identity, "Identity", 'y', false},
    Entry{HeaderId::in_reply_to, "In-Reply-To", '\0', true},
    Entry{HeaderId::max_forwards, "Max-Forwards", '\0', false},
    Entry{HeaderId::min_expires, "Min-Expires", '\0', false},
    Entry{HeaderId::min_se, "Min-SE", '\0', false},
    Entry{HeaderId::mime_version, "MIME-Version", '\0', false},
    Entry{HeaderId::organization, "Organization", '\0', false},
    Entry{HeaderId::p_asserted_identity, "P-Asserted-Identity", '\0', true},
    Entry{HeaderId::p_preferred_identity, "P-Preferred-Identity", '\0', true},
    Entry{HeaderId::path, "Path", '\0', true},
    Entry{HeaderId::priority, "Priority", '\0', false},
    Entry{HeaderId::privacy, "Privacy", '\0', false},
    Entry{HeaderId::proxy_authenticate, "Proxy-Authenticate", '\0', false},
    Entry{HeaderId::proxy_authorization, "Proxy-Authorization", '\0', false},
    Entry{HeaderId::proxy_require, "Proxy-Require", '\0', true},
    Entry{HeaderId::rack, "RAck", '\0', false},
    Entry{HeaderId::reason, "Reason", '\0', true},
    Entry{HeaderId::record_route, "Record-Route", '\0', true},
    Entry{HeaderId::refer_to, "Refer-To", 'r', false},
    Entry{HeaderId::referred_by, "Referred-By", 'b', false},
    Entry{HeaderId::reject_contact, "Reject-Contact", 'j', true},
    Entry{HeaderId::replaces, "Replaces", '\0', false},
    Entry{HeaderId::reply_to, "Reply-To", '\0', false},
    Entry{HeaderId::request_disposition, "Request-Disposition", 'd', true},
    Entry{HeaderId::require, "Require", '\0', true},
    Entry{HeaderId::retry_after, "Retry-After", '\0', false},
    Entry{HeaderId::route, "Route", '\0', true},
    Entry{HeaderId::rseq, "RSeq", '\0', false},
    Entry{HeaderId::server, "Server", '\0', false},
    Entry{HeaderId::service_route, "Service-Route", '\0', true},
    Entry{HeaderId::session_expires, "Session-Expires", 'x', false},
    Entry{HeaderId::subject, "Subject", 's', false},
    Entry{HeaderId::subscription_state, "Subscription-State", '\0', false},
    Entry{HeaderId::supported, "Supported", 'k', true},
    Entry{HeaderId::timestamp, "Timestamp", '\0', false},
    Entry{HeaderId::to, "To", 't', false},
    Entry{HeaderId::unsupported, "Unsupported", '\0', true},
    Entry{HeaderId::user_agent, "User-Agent", '\0', false},
    Entry{HeaderId::via, "Via", 'v', true},
    Entry{HeaderId::warning, "Warning", '\0', true},
    Entry{HeaderId::www_authenticate, "WWW-Authenticate", '\0', false},
};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<std::size_t>(kTable[i].id) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order());

using common::ascii_lower;

// header_id() runs for every header of every message parsed: instead of a
// scan of the table, a name's length and first and last letters pick a slot
// of a small open-addressing index built at compile time (64 names in 256
// slots), and one case-insensitive compare confirms it.
constexpr std::size_t kSlots = 256;
constexpr std::size_t slot_of(std::size_t length, char first, char last) noexcept {
  return (length * 31U + static_cast<unsigned char>(ascii_lower(first)) * 7U +
          static_cast<unsigned char>(ascii_lower(last))) %
         kSlots;
}

constexpr auto kIndex = [] {
  std::array<std::uint8_t, kSlots> index{};  // a kTable position, 0 = empty
  for (std::size_t i = 1; i < kTable.size(); ++i) {
    const std::string_view n = kTable[i].name;
    std::size_t slot = slot_of(n.size(), n.front(), n.back());
    while (index[slot] != 0) slot = (slot + 1) % kSlots;
    index[slot] = static_cast<std::uint8_t>(i);
  }
  return index;
}();

// Compact forms by lowercase letter.
constexpr auto kCompact = [] {
  std::array<HeaderId, 128> by_letter{};
  for (const auto& e : kTable) {
    if (e.compact != '\0') by_letter[static_cast<unsigned char>(e.compact)] = e.id;
  }
  return by_letter;
}();

const Entry& entry(HeaderId id) noexcept {
  const auto i = static_cast<std::size_t>(id);
  return i < kTable.size() ? kTable[i] : kTable[0];
}

}  // namespace

HeaderId header_id(std::string_view name) noexcept {
  if (name.empty()) return HeaderId::unknown;
  if (name.size() == 1) {
    const auto c = static_cast<unsigned char>(ascii_lower(name[0]));
    return c < kCompact.size() ? kCompact[c] : HeaderId::unknown;
  }
  for (std::size_t slot = slot_of(name.size(), name.front(), name.back()); kIndex[slot] != 0;
       slot = (slot + 1) % kSlots) {
    const Entry& e = kTable[kIndex[slot]];
    if (iequals(e.name, name)) return e.id;
  }
  return HeaderId::unknown;
}

std::string_view canonical_name(HeaderId id) noexcept { return entry(id).name; }

char compact_form(HeaderId id) noexcept { return entry(id).compact; }

bool is_list_header(HeaderId id) noexcept { return entry(id).list; }

}  // namespace sipsite::sip
