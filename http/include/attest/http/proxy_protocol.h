// The PROXY protocol, version 2 (HAProxy's proxy-protocol.txt, section 2.2):
// the binary header a TCP load balancer sends before the client's own bytes
// to say whose connection it relays. The server reads one only from the
// addresses the operator lists (ServerOptions::trusted_proxies): anyone
// else could name any address.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/error.h"

namespace attest::http {

// The signature, the version and command, the family and transport, and the
// big-endian length of the rest.
inline constexpr std::size_t kProxyHeaderFixedBytes = 16;
// The most the rest may hold: the longest address block (216 bytes, UNIX)
// and TLVs a balancer adds (AWS's endpoint id, TLS facts, a unique id).
inline constexpr std::size_t kMaxProxyHeaderRest = 1024;

struct ProxyHeader {
  // PROXY over TCP: the client's address, IPv4 dotted (IPv4-mapped IPv6
  // too) or IPv6 text, as the server writes a peer's. LOCAL (the balancer's
  // own connection, a health check): nullopt, the peer is the client.
  std::optional<std::string> client_address;
};

// How many bytes follow these 16, or kInvalidArgument when they are not a
// version 2 header (a TLS ClientHello from a client that bypassed the
// balancer, a version 1 text header) or announce more than
// kMaxProxyHeaderRest.
Result<std::size_t> ProxyHeaderRestLength(ByteView fixed);

// The whole header: the 16 bytes and exactly the length they announce.
// PROXY must relay TCP over IPv4 or IPv6; LOCAL may carry anything, which
// is ignored. TLVs are skipped unread.
Result<ProxyHeader> ParseProxyHeader(ByteView header);

// An address or a CIDR prefix: "10.0.0.7", "10.0.0.0/24", "fd00::/64".
struct AddressPrefix {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4
  bool is_v6 = false;
  unsigned bits = 0;  // 0..32 or 0..128
};

// kInvalidArgument naming the text when it is not an address or a prefix
// with host bits clear ("10.0.0.1/24" is refused: the operator meant
// either 10.0.0.1 or 10.0.0.0/24), when it is every address (/0), or when
// it is link-local (no interface named). An IPv4-mapped IPv6 prefix is read
// as the IPv4 one, as peers are written.
Result<AddressPrefix> ParseAddressPrefix(std::string_view text);

// Whether `address` (as the server writes a peer's: IPv4 dotted, IPv6 text)
// is inside `prefix`. An IPv4 address is never inside an IPv6 prefix, nor
// a link-local one with its zone inside any.
bool PrefixContains(const AddressPrefix& prefix, std::string_view address);

}  // namespace attest::http
