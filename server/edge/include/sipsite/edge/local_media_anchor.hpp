#pragma once
// Media anchoring of local calls (a phone of this site calling another one),
// when `media.anchor_local_calls` is on. The core sends every message through
// SipService::send(); those for the LAN pass through filter() first, which
// rewrites the SDP of local calls to the relay (media::Scope::local: both
// legs on the LAN address) and frees the relay's streams when the call ends.
//
// Cheap on the hot path: a message's headers are looked at only when it may
// carry SDP (a body starting "v="), may end a call (BYE, CANCEL, a 3xx-6xx
// response; only while local calls are anchored), may confirm one (a 2xx,
// only while a local call is unanswered), or is the ACK of a refused INVITE.
//
// A call is local when From and To are both AORs of this site (its domain,
// or a SIP listener's address). A call from a peer site has a peer-domain
// From (the core enforces it); a call to a peer site leaves on a federation
// flow and never comes here. Relay key: "local/" + the Call-ID (a proxy
// keeps it on both legs; the prefix keeps a phone that learnt a federated
// call's Call-ID from ever reaching that call's streams). Side: the party
// whose From tag the call's first SDP-carrying request had is Side::lan,
// the other one Side::peer (a request's sender is its From tag, a
// response's its To tag).
//
// The call's streams end on BYE, on CANCEL or a 3xx-6xx response to INVITE
// before any 2xx to INVITE was sent (after one, a CANCEL is for the other
// branches of a forked call, and a failed re-INVITE leaves the session as
// it was, RFC 3261 §14.1), or by the relay's own inactivity and setup
// timeouts (the bookkeeping here follows every 10 s).
//
// When the relay refuses an SDP (488 bad SDP, 503 no ports): a request does
// not leave, and filter() returns the response the core should be given in
// its place, as if the phone had sent it (the core then answers the caller
// with it at once, instead of a timeout; media_refusal.hpp); the ACK the core then sends for it
// is dropped here. A response does not leave either (as at the federation
// gateway): the phone that sent it retransmits it and gives up.
//
// Sans-I/O (the relay behind media::SdpAnchor, time behind sip::Timers).
// Threading: the SIP strand, like the core and the relay.

#include "sipsite/edge/edge_observer.hpp"
#include "sipsite/edge/media_refusal.hpp"

#include <sipsite/media/media_relay.hpp>
#include <sipsite/sip/io.hpp>
#include <sipsite/sip/message/message.hpp>
#include <sipsite/sip/proxy/site_names.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::edge {

struct LocalMediaCounters {
  std::uint64_t anchored = 0;  // SDP bodies rewritten to the relay
  std::uint64_t refused = 0;   // messages stopped because the relay refused their SDP
  std::uint64_t ended = 0;     // calls whose streams were freed by BYE, CANCEL or failure
};

class LocalMediaAnchor {
 public:
  // `site`: the names and addresses that make an AOR the site's (the
  // core's, so both agree on what is local). `relay` and `timers` must
  // outlive this object.
  LocalMediaAnchor(media::SdpAnchor& relay, sip::Timers& timers, sip::SiteNames site);
  ~LocalMediaAnchor();
  LocalMediaAnchor(const LocalMediaAnchor&) = delete;
  LocalMediaAnchor& operator=(const LocalMediaAnchor&) = delete;

  // A message the core sends to a LAN destination: its SDP is rewritten
  // (out.edit()) when anchored; a message that must not leave is stopped
  // (out.stop()). For a stopped request, the result is the response to give
  // the core in its place (its top Via is the core's own).
  [[nodiscard]] std::optional<sip::Message> filter(sip::Outgoing& out);

  // Who hears of refused SDP (must outlive this object).
  void set_observer(EdgeObserver& observer) { observer_ = &observer; }

  // Local calls with streams in the relay, as far as the bookkeeping knows.
  [[nodiscard]] std::size_t calls() const { return calls_.size(); }
  [[nodiscard]] const LocalMediaCounters& counters() const { return counters_; }

 private:
  struct Call {
    std::string caller_tag;  // From tag of the first SDP-carrying request (or response's From)
    bool confirmed = false;  // a 2xx to INVITE went to the caller
  };

  [[nodiscard]] bool is_local_call(const sip::Message& m) const;
  void end(std::map<std::string, Call, std::less<>>::iterator it);
  std::optional<sip::Message> refuse(sip::Outgoing& out, const sip::Message& m, const media::MediaError& error);
  void schedule_sweep();
  void sweep();

  media::SdpAnchor& relay_;
  sip::Timers& timers_;
  sip::SiteNames site_;
  std::map<std::string, Call, std::less<>> calls_;  // by relay key
  std::size_t unconfirmed_ = 0;
  RefusedInvites refused_;  // INVITEs answered here: their ACKs stay home
  sip::TimerId sweep_timer_ = 0;
  EdgeObserver default_observer_;
  EdgeObserver* observer_ = &default_observer_;
  LocalMediaCounters counters_;
};

}  // namespace sipsite::edge
