#pragma once
// The confirmed INVITE dialogs the site record-routed, so that it can end
// them itself: on a clean shutdown (SIGTERM) both parties of every call get
// a BYE instead of talking into a relay that is gone, and calls ended that
// way are recorded. Sans-I/O, like the core that feeds it.
//
// A dialog is confirmed by a 2xx to an initial INVITE passing the proxy and
// ends with a BYE passing it. Each party's highest CSeq is followed so that
// a BYE the site sends on its behalf is above anything the other party has
// seen from it (RFC 3261 §12.2.1.1). Dialogs whose BYE never passed (a phone
// that died) are forgotten after `max_age`, and the set holds at most
// `max_dialogs` (the oldest go first): losing one only means no goodbye.

#include "sipsite/sip/io.hpp"
#include "sipsite/sip/message/message.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sipsite::sip {

struct DialogParty {
  std::string identity;  // its From/To header value, tag included
  std::string tag;
  std::string contact;      // its remote target (Contact URI)
  Destination destination;  // where the site reached it (source/flow or branch)
  std::uint32_t cseq = 0;   // highest CSeq of the requests it sent
};

struct Dialog {
  std::string call_id;
  DialogParty caller;
  DialogParty callee;
  TimePoint confirmed{};
};

struct DialogLimits {
  std::size_t max_dialogs = 200'000;
  Duration max_age = std::chrono::hours(24);
};

class DialogSet {
 public:
  explicit DialogSet(DialogLimits limits = {}) : limits_(limits) {}

  // A 2xx (our Via removed) to the initial `invite` (as received from the
  // caller at `caller_at`), from the callee reached at `callee_at`.
  // Repeats (a retransmitted 2xx) are ignored; so is a 2xx without a To
  // tag or Contact (not a dialog anyone could end).
  void confirm(const Message& invite, const Destination& caller_at, const Message& ok, const Destination& callee_at,
               TimePoint now);

  // An in-dialog request passing the proxy: its sender's CSeq is followed;
  // a BYE ends the dialog.
  void on_request(const Message& request);

  // Every dialog, removed from the set.
  [[nodiscard]] std::vector<Dialog> take_all();

  [[nodiscard]] std::size_t size() const { return count_; }
  // After a burst: the emptied bucket array goes back.
  void compact();

 private:
  void expire(TimePoint now);
  [[nodiscard]] std::vector<Dialog>::iterator find(std::vector<Dialog>& dialogs, std::string_view tag_a,
                                                   std::string_view tag_b);

  DialogLimits limits_;
  // By Call-ID: a forked INVITE answered twice makes two dialogs.
  std::unordered_map<std::string, std::vector<Dialog>> by_call_id_;
  // Call-IDs in order of confirmation, for expiry (entries may be stale).
  std::deque<std::pair<TimePoint, std::string>> order_;
  std::size_t count_ = 0;
};

// A BYE from the site to `to`, in `d`, on behalf of the other party, with a
// Reason header (RFC 3326) saying why. The caller adds the Via.
[[nodiscard]] Message make_goodbye(const Dialog& d, bool to_caller, std::string_view reason);

}  // namespace sipsite::sip
