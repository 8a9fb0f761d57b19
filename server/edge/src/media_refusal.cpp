#include "sipsite/edge/media_refusal.hpp"

#include <sipsite/sip/message/accessors.hpp>
#include <sipsite/sip/message/response.hpp>

#include <algorithm>
#include <optional>

namespace sipsite::edge {

namespace {

std::string_view reason_phrase_of(int code) {
  switch (code) {
    case 488: return "Not Acceptable Here";
    case 503: return "Service Unavailable";
    default: return "Server Internal Error";
  }
}

// A warn-text is a quoted-string: the relay's reasons are plain sentences,
// but no quote or backslash may end it early.
std::string quoted_text(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) out += (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) ? '\'' : c;
  return out + "\"";
}

std::optional<std::string> top_branch(const sip::Message& m) {
  const auto vias = sip::via_headers(m);
  if (!vias || vias->empty()) return std::nullopt;
  const auto branch = vias->front().branch();
  return branch ? std::optional<std::string>(std::string(*branch)) : std::nullopt;
}

}  // namespace

sip::Message refusal_answer(const sip::Message& request, const media::MediaError& error, std::string_view agent) {
  const int code = error.sip_status();
  sip::Message answer =
      sip::make_response(request, code, std::string(reason_phrase_of(code)) + " (" + error.reason + ")");
  answer.add_header("Warning", "399 " + std::string(agent.empty() ? "-" : agent) + " " + quoted_text(error.reason));
  if (code == 503) answer.add_header("Retry-After", "5");
  return answer;
}

void RefusedInvites::remember(const sip::Message& request) {
  if (!request.is_request() || request.method() != "INVITE") return;
  auto branch = top_branch(request);
  if (!branch || std::find(branches_.begin(), branches_.end(), *branch) != branches_.end()) return;
  branches_.push_back(std::move(*branch));
  if (branches_.size() > kMax) branches_.pop_front();
}

bool RefusedInvites::is_ack_of_refused(const sip::Message& request) const {
  if (branches_.empty() || !request.is_request() || request.method() != "ACK") return false;
  const auto branch = top_branch(request);
  return branch && std::find(branches_.begin(), branches_.end(), *branch) != branches_.end();
}

}  // namespace sipsite::edge
