#pragma once
// RTCP leaving the site: what a phone puts in its RTCP that identifies it
// or its user is replaced before the packet crosses to a peer site (DESIGN.md
// threat model 5; seed sip-privacy-threats.txt). In a compound RTCP packet
// (RFC 3550 §6):
//   - SDES (PT 202): every chunk keeps its SSRC and gets one CNAME item, the
//     call's opaque value; NAME, EMAIL, PHONE, LOC, TOOL, NOTE and PRIV go;
//   - BYE (PT 203): the optional reason text goes;
//   - APP (PT 204): dropped (application-defined content);
//   - SR, RR and the rest are kept as they are.
// Only a well-formed compound packet of plain RTCP is touched: the packets'
// lengths must add up to the datagram exactly. Anything else (SRTCP, whose
// encrypted part and trailer never add up; not RTCP at all) is left
// unchanged, since it carries nothing readable to rewrite.
//
// Pure function on a buffer: thread-compatible, never throws.

#include <cstddef>
#include <string_view>

namespace sipsite::media {

// The longest CNAME value rewritten into packets (an SDES item holds 255).
inline constexpr std::size_t kMaxOpaqueCname = 64;

// Rewrites the datagram data[0, n) in place; `capacity` is the room at
// `data` (the result may be longer than `n` when `cname` is longer than the
// phone's). Returns the new length; 0 when the datagram must not be sent
// (it would not fit in `capacity`, or nothing of it remains). Precondition:
// cname.size() <= kMaxOpaqueCname.
[[nodiscard]] std::size_t anonymize_rtcp(unsigned char* data, std::size_t n, std::size_t capacity,
                                         std::string_view cname);

}  // namespace sipsite::media
