#include "host_addresses.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>

namespace sipsite::app {

namespace {

struct InterfaceAddress {
  std::string text;
  bool loopback = false;
  bool ipv6 = false;
};

std::vector<InterfaceAddress> interface_addresses() {
  std::vector<InterfaceAddress> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) continue;
    const int family = i->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    std::array<char, INET6_ADDRSTRLEN> text{};
    const void* raw = family == AF_INET
                          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr)
                          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr);
    if (::inet_ntop(family, raw, text.data(), text.size()) == nullptr) continue;
    out.push_back({text.data(), (i->ifa_flags & IFF_LOOPBACK) != 0, family == AF_INET6});
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace

std::vector<std::string> machine_addresses(bool with_ipv6) {
  std::vector<std::string> out;
  for (auto& a : interface_addresses()) {
    if (a.ipv6 && !with_ipv6) continue;
    if (std::find(out.begin(), out.end(), a.text) == out.end()) out.push_back(std::move(a.text));
  }
  return out;
}

std::optional<std::string> first_non_loopback_ipv4() {
  for (auto& a : interface_addresses()) {
    if (!a.ipv6 && !a.loopback) return std::move(a.text);
  }
  return std::nullopt;
}

}  // namespace sipsite::app
