#pragma once
// The machine's own IP addresses, read from its network interfaces
// (getifaddrs): what a listener on a wildcard address (0.0.0.0, ::)
// receives on, and the address a site advertises when nobody chose one.

#include <optional>
#include <string>
#include <vector>

namespace sipsite::app {

// Every address of the machine's interfaces that are up, loopback included,
// as text (IPv6 without brackets or scope): IPv4 ones, and IPv6 ones too
// when `with_ipv6`.
std::vector<std::string> machine_addresses(bool with_ipv6);

// The first IPv4 address of an interface that is up and not loopback;
// nullopt on a machine with none.
std::optional<std::string> first_non_loopback_ipv4();

}  // namespace sipsite::app
