#pragma once
// When the relay cannot anchor the SDP of a request the core is sending
// (bad SDP: 488; no relay ports: 503), the request must not leave, and the
// caller should hear why at once rather than after a transaction timeout.
// Both places that anchor media on the way out (PeerGateway for calls with
// other sites, LocalMediaAnchor for local calls) answer the same way:
//   - refusal_answer(): the response the core is handed in place of the
//     callee's: the reason in the phrase and in a Warning whose agent is
//     the site (which tells the core the answer is the site's own, so a
//     503 reaches the caller as 503 rather than §16.7's 500), Retry-After
//     with a 503;
//   - RefusedInvites: the core then ACKs that non-2xx answer hop by hop;
//     the ACK is for an INVITE nobody downstream got, so it stays home too.
// Sans-I/O; SIP strand.

#include <sipsite/media/media_error.hpp>
#include <sipsite/sip/message/message.hpp>

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

namespace sipsite::edge {

// The answer to `request` for `error`; `agent` names this site in Warning.
[[nodiscard]] sip::Message refusal_answer(const sip::Message& request, const media::MediaError& error,
                                          std::string_view agent);

class RefusedInvites {
 public:
  // An INVITE answered with refusal_answer() (others are ignored).
  void remember(const sip::Message& request);
  // An ACK for one of them.
  [[nodiscard]] bool is_ack_of_refused(const sip::Message& request) const;
  [[nodiscard]] bool empty() const { return branches_.empty(); }
  void clear() { branches_.clear(); }

 private:
  static constexpr std::size_t kMax = 64;  // the ACK follows within milliseconds
  std::deque<std::string> branches_;       // top Via branches
};

}  // namespace sipsite::edge
