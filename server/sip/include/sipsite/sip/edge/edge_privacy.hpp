#pragma once
// Edge privacy: the topology hider at the federation boundary (DESIGN.md,
// threat model 5; seed sip-privacy-threats.txt). Every message the core
// sends to a peer site passes outbound(); every message from a peer site
// passes inbound(), before the core sees it.
//
// Towards the peer, a message carries:
//   - a Call-ID of its own (random, not derived from the phone's), and fresh
//     tags for this site's parties, mapped back on the way in;
//   - one Via, with the site's domain as sent-by (the phones' and the LAN
//     listeners' Vias are kept here, by branch, and put back on responses);
//   - no Record-Route or Route: the site is the peer's next hop for the
//     dialog through its Contact, <sip:TOKEN@domain;transport=tls>, where the
//     opaque TOKEN stands for the phone's real Contact and the route set
//     through this site's proxy, both kept here;
//   - none of the identifying headers in the strip list (User-Agent, Server,
//     Organization, Warning, X-*, P-*, ... — EdgePrivacySettings).
// A dialog is a B2BUA-style mapping kept by this class; the transactions
// stay the core's. SDP is left alone here (media anchoring rewrites it).
//
// Only the local party of a dialog is remapped: the peer's tags and Call-ID
// come already hidden by the peer, and are used as they are.
//
// Sans-I/O, single-threaded (the SIP strand), like the core.

#include "sipsite/sip/io.hpp"
#include "sipsite/sip/message/message.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sipsite::sip {

struct EdgePrivacySettings {
  // The site's domain: the host of the Via and Contact the peer sees.
  std::string local_domain;
  // Header names removed from everything sent to a peer; a trailing '*'
  // matches a prefix ("X-*"). Case-insensitive.
  std::vector<std::string> strip_headers = default_strip_headers();
  // How long mappings live without traffic: a dialog being set up (INVITE
  // ringing: Timer C is 3 minutes), an established dialog, and a dialog or
  // transaction that ended (kept for retransmissions, 64*T1).
  Duration setup_ttl{std::chrono::minutes(4)};
  Duration dialog_ttl{std::chrono::hours(12)};
  Duration linger{std::chrono::seconds(32)};
  // Mappings held at once; a new dialog beyond it is refused (503).
  std::size_t max_dialogs = 200000;

  static std::vector<std::string> default_strip_headers();
};

// Why inbound() refused a message: a request is answered with `code`; a
// response is dropped (code 0).
struct EdgeRefusal {
  int code = 0;
  std::string_view reason;
};

class EdgePrivacy {
 public:
  EdgePrivacy(EdgePrivacySettings settings, Clock& clock, Random& random);
  ~EdgePrivacy();
  EdgePrivacy(const EdgePrivacy&) = delete;
  EdgePrivacy& operator=(const EdgePrivacy&) = delete;

  // A message the core sends to the peer site `peer` (its domain),
  // rewritten in place. False: do not send it (it belongs to no mapping of
  // that peer, or the table is full).
  [[nodiscard]] bool outbound(Message& m, std::string_view peer);
  // A message from the peer site `peer`, rewritten in place for the core.
  [[nodiscard]] std::optional<EdgeRefusal> inbound(Message& m, std::string_view peer);

  // Ends every mapping with `peer` and returns, for each established dialog,
  // a BYE to send to the local party as if from the peer (revocation).
  [[nodiscard]] std::vector<Message> end_dialogs(std::string_view peer);

  // Drops expired mappings; call every second or so. Costs what is due,
  // not the number of mappings.
  void sweep();

  [[nodiscard]] std::size_t dialog_count() const;
  [[nodiscard]] std::size_t established_dialogs(std::string_view peer) const;
  // Entries in all the tables (dialogs by either Call-ID, Contact tokens,
  // remembered Vias): 0 once every mapping has expired and been swept. For
  // tests and fuzzing.
  [[nodiscard]] std::size_t entries() const;

  struct Dialog;

 private:
  Dialog* create(std::string_view peer, std::string local_call_id, std::string fed_call_id);
  void erase(const std::shared_ptr<Dialog>& d);
  void touch(Dialog& d);
  // The dialog ended: kept `linger` for retransmissions, then swept.
  void end_soon(Dialog& d);
  void remember_vias(std::string key, std::vector<std::string> vias, Duration ttl);
  [[nodiscard]] bool strip(std::string_view header_name) const;
  void strip_headers(Message& m) const;

  EdgePrivacySettings settings_;
  Clock& clock_;
  Random& random_;
  std::unordered_map<std::string, std::shared_ptr<Dialog>> by_local_;  // local Call-ID
  std::unordered_map<std::string, std::shared_ptr<Dialog>> by_fed_;    // Call-ID on the link
  std::unordered_map<std::string, std::shared_ptr<Dialog>> by_token_;  // Contact token
  // Each peer's dialogs: a revocation touches that peer's, not all of them.
  std::unordered_map<std::string, std::unordered_set<const Dialog*>> by_peer_;
  struct ViaMemo {
    std::vector<std::string> vias;
    TimePoint expires;
  };
  // The Vias taken off requests sent to peers: "branch method" -> Vias.
  std::unordered_map<std::string, ViaMemo> vias_;
  // When to look at each dialog and remembered Via again (sweep()).
  struct DialogDue {
    TimePoint at;
    std::weak_ptr<Dialog> dialog;
    bool operator>(const DialogDue& o) const { return at > o.at; }
  };
  struct ViaDue {
    TimePoint at;
    std::string key;
    bool operator>(const ViaDue& o) const { return at > o.at; }
  };
  std::priority_queue<DialogDue, std::vector<DialogDue>, std::greater<>> dialogs_due_;
  std::priority_queue<ViaDue, std::vector<ViaDue>, std::greater<>> vias_due_;
};

}  // namespace sipsite::sip
