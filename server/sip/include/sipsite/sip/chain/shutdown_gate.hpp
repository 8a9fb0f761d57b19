#pragma once
// While the site shuts down, a request that would start something new (no
// To tag) is answered 503 with Retry-After: 30; requests inside dialogs
// still pass, so that calls being ended can be ended.

#include "sipsite/sip/chain/request_chain.hpp"

#include <string>

namespace sipsite::sip {

struct ShutdownState {
  bool active = false;
  std::string reason;  // in the 503's phrase
};

class ShutdownGate final : public RequestProcessor {
 public:
  // The daemon sets it when it stops (Core::end_calls).
  explicit ShutdownGate(const ShutdownState& state) : state_(state) {}
  [[nodiscard]] std::string_view name() const override { return "shutdown_gate"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  const ShutdownState& state_;
};

}  // namespace sipsite::sip
