#pragma once
// What the core tells the site about calls and messages, for the records
// the site keeps (CDRs, stored messages). Implemented in server/app over the
// database, off the SIP strand: the core never waits for a disk.
// Same threading rule as io.hpp: called on the SIP strand.

#include <functional>
#include <string>
#include <string_view>

namespace sipsite::sip {

// One call attempt: an initial INVITE this site accepted to route, or one
// it refused (call_refused).
struct CallStart {
  enum class Direction { local, outgoing, incoming };
  std::string call_id;  // as this site's core sees it (never sent anywhere)
  std::string caller;   // AOR, "user@domain"
  std::string callee;   // AOR, "user@domain"
  Direction direction = Direction::local;
  std::string peer_domain;  // outgoing/incoming: the peer site
  std::string source_ip;    // the caller's phone or the peer's link
};

class CallObserver {
 public:
  virtual ~CallObserver() = default;
  virtual void call_started(const CallStart& call) = 0;
  virtual void call_answered(std::string_view call_id) = 0;
  // A final failure (status >= 300) of the attempt.
  virtual void call_failed(std::string_view call_id, int status, std::string_view reason) = 0;
  // An initial INVITE the site itself refused (bad route, unknown user,
  // failed authentication, ...) before it started routing it: the attempt
  // and its end in one event. Not called for digest challenges (401/407).
  virtual void call_refused(const CallStart& call, int status, std::string_view reason) = 0;
  // A BYE in the call's dialog, sent by `by` (an AOR: caller or callee).
  virtual void call_hung_up(std::string_view call_id, std::string_view by) = 0;
};

// A MESSAGE (RFC 3428) for a local user with no registered phone.
struct OfflineMessage {
  std::string recipient;  // local username
  std::string sender;     // AOR, "user@domain"
  std::string content_type;
  std::string body;
};

class MessageStore {
 public:
  virtual ~MessageStore() = default;
  // Keeps `message` for delivery when its recipient registers. `done` is
  // called later, on the SIP strand, with the status to answer: 202 when
  // stored, else an error (480 when the recipient's or the site's store is
  // full, 513 when the message is too large) and its reason phrase.
  virtual void store(OfflineMessage message, std::function<void(int status, std::string reason)> done) = 0;
};

}  // namespace sipsite::sip
