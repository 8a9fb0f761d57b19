#pragma once
// Well-known header field names, their compact forms (RFC 3261 7.3.3 and
// later RFCs) and which of them carry comma-separated lists.

#include <cstdint>
#include <string_view>

#include "sipsite/common/ascii.hpp"

namespace sipsite::sip {

enum class HeaderId : std::uint8_t {
  unknown,  // any extension header: matched by name, case-insensitively
  accept,
  accept_contact,
  accept_encoding,
  accept_language,
  alert_info,
  allow,
  allow_events,
  authentication_info,
  authorization,
  call_id,
  call_info,
  contact,
  content_disposition,
  content_encoding,
  content_language,
  content_length,
  content_type,
  cseq,
  date,
  error_info,
  event,
  expires,
  from,
  identity,
  in_reply_to,
  max_forwards,
  min_expires,
  min_se,
  mime_version,
  organization,
  p_asserted_identity,
  p_preferred_identity,
  path,
  priority,
  privacy,
  proxy_authenticate,
  proxy_authorization,
  proxy_require,
  rack,
  reason,
  record_route,
  refer_to,
  referred_by,
  reject_contact,
  replaces,
  reply_to,
  request_disposition,
  require,
  retry_after,
  route,
  rseq,
  server,
  service_route,
  session_expires,
  subject,
  subscription_state,
  supported,
  timestamp,
  to,
  unsupported,
  user_agent,
  via,
  warning,
  www_authenticate,
};

// Case-insensitive; compact forms ("v", "i", ...) map to their header.
[[nodiscard]] HeaderId header_id(std::string_view name) noexcept;

// The canonical long name ("Call-ID"); empty for HeaderId::unknown.
[[nodiscard]] std::string_view canonical_name(HeaderId id) noexcept;

// The compact form ('v' for Via), or '\0' if the header has none.
[[nodiscard]] char compact_form(HeaderId id) noexcept;

// True when the header's grammar is a comma-separated list (Via, Contact,
// Route, Allow, ...), so that several values may share one header line and
// one value may be split on top-level commas. Headers whose values contain
// bare commas (Date, WWW-Authenticate, User-Agent, unknown ones) are not.
[[nodiscard]] bool is_list_header(HeaderId id) noexcept;

// ASCII case-insensitive equality, as SIP header names and tokens compare.
using common::iequals;

}  // namespace sipsite::sip
