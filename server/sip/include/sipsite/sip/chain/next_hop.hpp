#pragma once
// Where a request the site routes by its Request-URI or a Route goes: the
// registered flow of the local binding whose Contact the URI is (so NATed
// and TCP phones are reached on the connection they registered from), the
// link to the peer site a domain names, else the URI's own address when it
// is an IP literal. No DNS here.

#include "sipsite/sip/io.hpp"
#include "sipsite/sip/proxy/proxy.hpp"
#include "sipsite/sip/services.hpp"

#include <optional>
#include <string_view>

namespace sipsite::sip {

class NextHopResolver {
 public:
  // Both must outlive the resolver.
  NextHopResolver(const Location& location, PeerRouter& peers) : location_(location), peers_(peers) {}

  // `to_user`: the local user the request is for (its To), whose bindings
  // are searched for the URI; empty to skip them.
  [[nodiscard]] std::optional<Destination> resolve(std::string_view uri, std::string_view to_user) const;

 private:
  const Location& location_;
  PeerRouter& peers_;
};

}  // namespace sipsite::sip
