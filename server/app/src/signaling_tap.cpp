#include "signaling_tap.hpp"

#include "logging.hpp"
#include "site_records.hpp"

#include <sipsite/sip/message/accessors.hpp>
#include <sipsite/sip/message/parser.hpp>
#include <sipsite/sip/message/serializer.hpp>
#include <sipsite/sip/message/uri.hpp>
#include <sipsite/store/cdr_repository.hpp>
#include <sipsite/store/signaling_log_repository.hpp>
#include "sipsite/common/ascii.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace sipsite::app {

namespace {

std::string aor_of(const sip::Result<sip::NameAddr>& na) {
  return na ? common::ascii_lower(sip::aor_of(*na)) : std::string();
}

bool is_logged_method(std::string_view method) {
  return method == "INVITE" || method == "BYE" || method == "CANCEL" || method == "ACK" || method == "PRACK";
}

// One log line: the message's lines joined.
std::string one_line(std::string text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') continue;
    if (text[i] == '\n') {
      if (i + 1 < text.size()) out += " | ";
      continue;
    }
    out += text[i];
  }
  return out;
}

}  // namespace

SignalingTap::SignalingTap(SiteRecords& records, const std::vector<std::string>& trace_aors) : records_(records) {
  for (const auto& a : trace_aors) trace_.insert(common::ascii_lower(a));
}

void SignalingTap::observe(std::string_view direction, std::string_view bytes) {
  if (!active()) return;
  if (auto m = sip::parse_datagram(bytes)) observe(direction, *m);
}

void SignalingTap::observe(std::string_view direction, const sip::Message& m) {
  if (!active()) return;
  const auto cseq = sip::cseq_header(m);
  const std::string summary = m.is_request() ? std::string(m.method()) : std::to_string(m.status_code());
  std::string text;
  if (!trace_.empty()) {
    const std::string from = aor_of(sip::from_header(m));
    const std::string to = aor_of(sip::to_header(m));
    if (trace_.count(from) != 0 || trace_.count(to) != 0) {
      text = sip::serialize(m);
      logger("trace")->info("{} {} {}", direction, summary, one_line(store::redact_signaling(text)));
    }
  }
  if (!log_enabled_ || !cseq || !is_logged_method(cseq->method)) return;
  if (text.empty()) text = sip::serialize(m);
  const auto call_id = sip::call_id_header(m);
  records_.log_signaling(std::string(direction), summary, call_id ? store::call_ref_of(*call_id) : std::string(),
                         std::move(text));
}

}  // namespace sipsite::app
