#include "sipsite/sip/proxy/dialog_set.hpp"

#include "sipsite/common/hash_map.hpp"
#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/message/name_addr.hpp"

#include <algorithm>

namespace sipsite::sip {
namespace {

// The first Contact's URI, or nothing.
std::string contact_of(const Message& m) {
  const auto contacts = contact_headers(m);
  if (!contacts || contacts->star || contacts->contacts.empty()) return {};
  return std::string(contacts->contacts.front().uri.text);
}

std::string tag_of(const Result<NameAddr>& na) {
  if (!na) return {};
  const auto tag = na->tag();
  return tag ? std::string(*tag) : std::string();
}

}  // namespace

std::vector<Dialog>::iterator DialogSet::find(std::vector<Dialog>& dialogs, std::string_view tag_a,
                                              std::string_view tag_b) {
  return std::find_if(dialogs.begin(), dialogs.end(), [&](const Dialog& d) {
    return (d.caller.tag == tag_a && d.callee.tag == tag_b) || (d.caller.tag == tag_b && d.callee.tag == tag_a);
  });
}

void DialogSet::confirm(const Message& invite, const Destination& caller_at, const Message& ok,
                        const Destination& callee_at, TimePoint now) {
  const auto call_id = call_id_header(invite);
  const auto from = from_header(invite);
  const auto to = to_header(ok);
  const auto cseq = cseq_header(invite);
  if (!call_id || !from || !to || !cseq) return;
  Dialog d;
  d.call_id = std::string(*call_id);
  d.caller = DialogParty{std::string(*invite.value(HeaderId::from)), tag_of(from), contact_of(invite), caller_at,
                         cseq->number};
  d.callee = DialogParty{std::string(*ok.value(HeaderId::to)), tag_of(to), contact_of(ok), callee_at, 0};
  d.confirmed = now;
  if (d.caller.tag.empty() || d.callee.tag.empty() || d.caller.contact.empty() || d.callee.contact.empty()) return;

  expire(now);
  auto& dialogs = by_call_id_[d.call_id];
  if (find(dialogs, d.caller.tag, d.callee.tag) != dialogs.end()) return;
  order_.emplace_back(now, d.call_id);
  dialogs.push_back(std::move(d));
  ++count_;
}

void DialogSet::on_request(const Message& request) {
  if (count_ == 0) return;
  const auto call_id = call_id_header(request);
  if (!call_id) return;
  const auto it = by_call_id_.find(std::string(*call_id));
  if (it == by_call_id_.end()) return;
  const std::string from = tag_of(from_header(request));
  const std::string to = tag_of(to_header(request));
  auto& dialogs = it->second;
  const auto d = find(dialogs, from, to);
  if (d == dialogs.end()) return;
  if (request.method() == "BYE") {
    dialogs.erase(d);
    --count_;
    if (dialogs.empty()) by_call_id_.erase(it);
    return;
  }
  if (const auto cseq = cseq_header(request)) {
    DialogParty& sender = d->caller.tag == from ? d->caller : d->callee;
    sender.cseq = std::max(sender.cseq, cseq->number);
  }
}

std::vector<Dialog> DialogSet::take_all() {
  std::vector<Dialog> out;
  out.reserve(count_);
  for (auto& [id, dialogs] : by_call_id_) {
    for (auto& d : dialogs) out.push_back(std::move(d));
  }
  by_call_id_.clear();
  order_.clear();
  count_ = 0;
  return out;
}

// Amortised: each confirmation looks at the oldest entries only.
void DialogSet::expire(TimePoint now) {
  while (!order_.empty() && (count_ >= limits_.max_dialogs || now - order_.front().first >= limits_.max_age)) {
    const TimePoint when = order_.front().first;
    const std::string call_id = std::move(order_.front().second);
    order_.pop_front();
    const auto it = by_call_id_.find(call_id);
    if (it == by_call_id_.end()) continue;  // ended by BYE since
    auto& dialogs = it->second;
    const auto before = dialogs.size();
    std::erase_if(dialogs, [cutoff = when](const Dialog& d) { return d.confirmed <= cutoff; });
    count_ -= before - dialogs.size();
    if (dialogs.empty()) by_call_id_.erase(it);
  }
  // Stale entries (dialogs that ended by BYE) would otherwise pile up.
  if (order_.size() > 2 * count_ + 1024) {
    std::erase_if(order_, [this](const auto& e) { return by_call_id_.count(e.second) == 0; });
  }
}

Message make_goodbye(const Dialog& d, bool to_caller, std::string_view reason) {
  const DialogParty& to = to_caller ? d.caller : d.callee;
  const DialogParty& from = to_caller ? d.callee : d.caller;
  Message bye = Message::make_request("BYE", to.contact);
  bye.add_header("Max-Forwards", "70");
  bye.add_header("From", from.identity);
  bye.add_header("To", to.identity);
  bye.add_header("Call-ID", d.call_id);
  bye.add_header("CSeq", std::to_string(from.cseq + 1) + " BYE");
  std::string text;
  for (const char c : reason) {
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) text += c;
  }
  bye.add_header("Reason", "SIP;cause=503;text=\"" + text + "\"");
  bye.set_body("");
  return bye;
}

void DialogSet::compact() { common::shrink_if_sparse(by_call_id_); }

}  // namespace sipsite::sip
