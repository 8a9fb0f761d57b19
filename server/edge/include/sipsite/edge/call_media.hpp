#pragma once
// What a SIP message means for the relayed media of its call: the one rule
// both places that anchor media follow (PeerGateway for calls with other
// sites, LocalMediaAnchor for local calls). Sans-I/O.

#include <sipsite/sip/message/message.hpp>

#include <string_view>

namespace sipsite::edge {

enum class MediaEvent { none, answered, ended };

// `cseq_method` is the message's CSeq method; `answered` says whether a 2xx
// to the call's INVITE was already seen. A BYE ends the media; so do a
// CANCEL and a failed INVITE, but only before the answer: after it a CANCEL
// is for other branches of a forked call and a failed re-INVITE leaves the
// session as it was (RFC 3261 §14.1). A 2xx to INVITE answers the call.
[[nodiscard]] MediaEvent media_event(const sip::Message& m, std::string_view cseq_method, bool answered);

// The body is SDP (Content-Type application/sdp, parameters aside).
[[nodiscard]] bool carries_sdp(const sip::Message& m);

}  // namespace sipsite::edge
