#include "sipsite/sip/chain/request_chain.hpp"

#include "sipsite/sip/message/accessors.hpp"

#include <utility>

namespace sipsite::sip {

RequestContext::RequestContext(ServerTransactionId id_, Inbound& in_) : id(id_), in(in_) {
  const auto to = to_header(in.message);
  in_dialog = to && to->tag();
}

RequestChain& RequestChain::then(std::unique_ptr<RequestProcessor> step) {
  steps_.push_back(std::move(step));
  return *this;
}

RequestProcessor::Verdict RequestChain::run(RequestContext& ctx, RequestActions& actions) const {
  for (const auto& step : steps_) {
    if (step->process(ctx, actions) == RequestProcessor::Verdict::done) return RequestProcessor::Verdict::done;
  }
  return RequestProcessor::Verdict::next;
}

std::vector<std::string_view> RequestChain::names() const {
  std::vector<std::string_view> out;
  out.reserve(steps_.size());
  for (const auto& step : steps_) out.push_back(step->name());
  return out;
}

}  // namespace sipsite::sip
