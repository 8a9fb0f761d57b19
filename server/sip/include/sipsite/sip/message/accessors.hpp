#pragma once
// Typed access to the headers of a Message, with RFC 3261 cardinality:
// single-value headers that appear more than once are errors
// (duplicate_header, RFC 4475 multi01), required ones that are missing are
// missing_* errors, malformed ones bad_* errors. Views in the results point
// into the Message and live as long as it does.

#include "sipsite/sip/message/cseq.hpp"
#include "sipsite/sip/message/message.hpp"
#include "sipsite/sip/message/name_addr.hpp"
#include "sipsite/sip/message/parse_error.hpp"
#include "sipsite/sip/message/via.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sipsite::sip {

// Every Via, across repeated header lines and comma lists, topmost first.
[[nodiscard]] Result<std::vector<Via>> via_headers(const Message& m);
[[nodiscard]] Result<NameAddr> from_header(const Message& m);
[[nodiscard]] Result<NameAddr> to_header(const Message& m);
[[nodiscard]] Result<std::string_view> call_id_header(const Message& m);
[[nodiscard]] Result<CSeq> cseq_header(const Message& m);
// nullopt when absent (a proxy then uses 70, RFC 3261 16.6 step 3).
[[nodiscard]] Result<std::optional<std::uint32_t>> max_forwards_header(const Message& m);
// nullopt when absent.
[[nodiscard]] Result<std::optional<std::uint32_t>> expires_header(const Message& m);
// All Contact headers merged; "*" must stand alone (RFC 3261 10.2.2).
[[nodiscard]] Result<ContactList> contact_headers(const Message& m);

// Conveniences over the above for code past validation (validate.hpp):
// the Call-ID, empty when absent;
[[nodiscard]] std::string_view call_id_of(const Message& m);
// the unescaped user part of a SIP URI, nullopt when it has none;
[[nodiscard]] std::optional<std::string> user_of(const Uri& uri);
// the Max-Forwards a forwarded copy carries (RFC 3261 §16.6 step 3: one
// less, 70 when absent, never above 70), nullopt when it reached 0 (483).
[[nodiscard]] std::optional<std::uint32_t> forwarded_max_forwards(const Message& m);

// Removes the first value of the first `id` header (Via, Route), keeping
// the rest of a comma-separated line.
void pop_first_value(Message& m, HeaderId id);

}  // namespace sipsite::sip
