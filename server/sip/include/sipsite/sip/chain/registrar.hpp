#pragma once
// REGISTER (RFC 3261 §10.3): only from the LAN and only for the site's own
// domain (403 otherwise); the registrar authenticates and answers.

#include "sipsite/sip/chain/request_chain.hpp"
#include "sipsite/sip/services.hpp"

namespace sipsite::sip {

class RegistrarStep final : public RequestProcessor {
 public:
  explicit RegistrarStep(RegistrationHandler& registrar) : registrar_(registrar) {}
  [[nodiscard]] std::string_view name() const override { return "registrar"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  RegistrationHandler& registrar_;
};

}  // namespace sipsite::sip
