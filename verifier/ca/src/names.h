// What may go into a certificate's names: node ids, DNS host names, SPIFFE
// trust domains and IP addresses, checked before they reach OpenSSL.
// Internal to attest_ca.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace attest::verifier::names {

// 64 lowercase hex digits (docs/protocol.md §2).
bool IsNodeId(std::string_view text);
// A host name of RFC 1123 labels: 1 to 63 letters, digits or '-', not
// starting or ending with '-', at most 253 characters, no trailing dot.
bool IsDnsName(std::string_view text);
// A SPIFFE trust domain name: 1 to 255 lowercase letters, digits, '.',
// '-' or '_'.
bool IsTrustDomain(std::string_view text);
// The 4 or 16 address bytes of a dotted IPv4 or an IPv6 address.
std::optional<std::string> ParseIpAddress(std::string_view text);

}  // namespace attest::verifier::names
