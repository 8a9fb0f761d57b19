#pragma once
// Troubleshooting views of the SIP traffic, both off by default:
//  - the signaling log (setting privacy.signaling_log_enabled): INVITE, BYE,
//    CANCEL, ACK, PRACK and their responses, redacted (no bodies, no
//    credentials, no Call-ID), stored by SiteRecords and purged with their
//    own retention window;
//  - the trace of chosen AORs (config log.trace_aors): every message from or
//    to them, redacted the same way, one log line each (module "trace").
// The redaction is store::redact_signaling, one rule for both.
//
// Threading: the SIP strand.

#include <sipsite/sip/message/message.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::app {

class SiteRecords;

class SignalingTap {
 public:
  // `aors` are "user@domain", compared case-insensitively on the domain.
  SignalingTap(SiteRecords& records, const std::vector<std::string>& trace_aors);

  void set_log_enabled(bool on) { log_enabled_ = on; }
  [[nodiscard]] bool active() const { return log_enabled_ || !trace_.empty(); }

  // `direction` is "in" or "out" (as seen by this site).
  void observe(std::string_view direction, const sip::Message& m);
  // The same for bytes about to be sent (parsed only when active()).
  void observe(std::string_view direction, std::string_view bytes);

 private:
  SiteRecords& records_;
  std::set<std::string> trace_;  // lowercase
  bool log_enabled_ = false;
};

}  // namespace sipsite::app
