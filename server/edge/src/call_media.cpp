#include "sipsite/edge/call_media.hpp"

#include <sipsite/sip/message/header_id.hpp>

namespace sipsite::edge {

MediaEvent media_event(const sip::Message& m, std::string_view cseq_method, bool answered) {
  const bool invite_response = m.is_response() && cseq_method == "INVITE";
  if (m.is_request() && m.method() == "BYE") return MediaEvent::ended;
  if (!answered && ((m.is_request() && m.method() == "CANCEL") || (invite_response && m.status_code() >= 300))) {
    return MediaEvent::ended;
  }
  if (invite_response && m.status_code() / 100 == 2) return MediaEvent::answered;
  return MediaEvent::none;
}

bool carries_sdp(const sip::Message& m) {
  const auto type = m.value(sip::HeaderId::content_type);
  return !m.body().empty() && type && sip::iequals(type->substr(0, type->find(';')), "application/sdp");
}

}  // namespace sipsite::edge
