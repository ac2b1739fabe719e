#include "attest/http/proxy_protocol.h"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>

#include "attest/byte_reader.h"

namespace attest::http {
namespace {

constexpr std::array<std::uint8_t, 12> kSignature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                     0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::uint8_t kVersion2 = 0x2;
constexpr std::uint8_t kCommandLocal = 0x0;
constexpr std::uint8_t kCommandProxy = 0x1;
constexpr std::uint8_t kFamilyInet = 0x1;
constexpr std::uint8_t kFamilyInet6 = 0x2;
constexpr std::uint8_t kTransportStream = 0x1;
// Source and destination addresses, then source and destination ports.
constexpr std::size_t kInetBlockBytes = 4 + 4 + 2 + 2;
constexpr std::size_t kInet6BlockBytes = 16 + 16 + 2 + 2;

// The first 12 of 16 bytes of an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
bool IsIpv4Mapped(const std::uint8_t* address) {
  static constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0,    0,
                                                                 0, 0, 0, 0, 0xff, 0xff};
  return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), address);
}

Error Refused(const std::string& why) {
  return MakeError(ErrorCode::kInvalidArgument, "PROXY protocol header: " + why);
}

// As the server writes a peer's address: IPv4-mapped IPv6 as IPv4.
std::string AddressText(ByteView address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.size() == 16) {
    if (!IsIpv4Mapped(address.data())) {
      ::inet_ntop(AF_INET6, address.data(), text, sizeof(text));
      return text;
    }
    address = address.subspan(12);
  }
  ::inet_ntop(AF_INET, address.data(), text, sizeof(text));
  return text;
}

}  // namespace

Result<std::size_t> ProxyHeaderRestLength(ByteView fixed) {
  if (fixed.size() != kProxyHeaderFixedBytes) {
    return Refused("the fixed part is " + std::to_string(kProxyHeaderFixedBytes) + " bytes, not " +
                   std::to_string(fixed.size()));
  }
  if (!std::equal(kSignature.begin(), kSignature.end(), fixed.begin())) {
    return Refused("no version 2 signature (a client that bypassed the balancer, or version 1)");
  }
  const std::uint8_t version = fixed[12] >> 4;
  if (version != kVersion2) return Refused("version " + std::to_string(version) + ", not 2");
  const std::size_t rest = (std::size_t{fixed[14]} << 8) | fixed[15];
  if (rest > kMaxProxyHeaderRest) {
    return Refused(std::to_string(rest) + " bytes of addresses and TLVs, over the " +
                   std::to_string(kMaxProxyHeaderRest) + " accepted");
  }
  return rest;
}

Result<ProxyHeader> ParseProxyHeader(ByteView header) {
  if (header.size() < kProxyHeaderFixedBytes) {
    return Refused("shorter than its " + std::to_string(kProxyHeaderFixedBytes) + " fixed bytes");
  }
  ATTEST_ASSIGN_OR_RETURN(std::size_t rest,
                          ProxyHeaderRestLength(header.first(kProxyHeaderFixedBytes)));
  if (header.size() != kProxyHeaderFixedBytes + rest) {
    return Refused("announces " + std::to_string(rest) + " bytes after its fixed part, holds " +
                   std::to_string(header.size() - kProxyHeaderFixedBytes));
  }
  const std::uint8_t command = header[12] & 0x0F;
  const std::uint8_t family = header[13] >> 4;
  const std::uint8_t transport = header[13] & 0x0F;
  if (command == kCommandLocal) return ProxyHeader{};
  if (command != kCommandProxy) {
    return Refused("command " + std::to_string(command) + " is neither LOCAL nor PROXY");
  }
  if (transport != kTransportStream || (family != kFamilyInet && family != kFamilyInet6)) {
    return Refused("PROXY relays family " + std::to_string(family) + ", transport " +
                   std::to_string(transport) + "; only TCP over IPv4 or IPv6 is served");
  }
  ByteReader reader(header.subspan(kProxyHeaderFixedBytes), kProxyHeaderFixedBytes);
  const std::size_t block = family == kFamilyInet ? kInetBlockBytes : kInet6BlockBytes;
  if (reader.remaining() < block) {
    return Refused("the address block needs " + std::to_string(block) + " bytes, " +
                   std::to_string(reader.remaining()) + " follow");
  }
  std::optional<ByteView> source = reader.ReadBytes(family == kFamilyInet ? 4 : 16);
  return ProxyHeader{AddressText(*source)};
}

Result<AddressPrefix> ParseAddressPrefix(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  if (text.find('\0') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, quoted + " holds a NUL character");
  }
  const std::size_t slash = text.find('/');
  const std::string address(text.substr(0, slash));
  AddressPrefix prefix;
  if (::inet_pton(AF_INET, address.c_str(), prefix.bytes.data()) == 1) {
    prefix.bits = 32;
  } else if (::inet_pton(AF_INET6, address.c_str(), prefix.bytes.data()) == 1) {
    prefix.is_v6 = true;
    prefix.bits = 128;
  } else {
    return MakeError(ErrorCode::kInvalidArgument,
                     quoted + " is not an IP address or a prefix (10.0.0.0/24, fd00::/64)");
  }
  if (slash != std::string_view::npos) {
    const std::string_view length = text.substr(slash + 1);
    const unsigned most = prefix.bits;
    unsigned bits = 0;
    if (length.empty() || length.size() > 3 ||
        !std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (bits = static_cast<unsigned>(std::stoul(std::string(length)))) > most) {
      return MakeError(ErrorCode::kInvalidArgument,
                       quoted + ": the prefix length must be 0.." + std::to_string(most));
    }
    prefix.bits = bits;
  }
  for (unsigned bit = prefix.bits; bit < (prefix.is_v6 ? 128u : 32u); ++bit) {
    if ((prefix.bytes[bit / 8] >> (7 - bit % 8)) & 1) {
      return MakeError(ErrorCode::kInvalidArgument,
                       quoted +
                           " has bits set past its prefix length: write the address alone, "
                           "or the network with them clear");
    }
  }
  // fe80::/10 is per interface, and a prefix names none: any host on any
  // link could claim the address.
  if (prefix.is_v6 && prefix.bytes[0] == 0xfe && (prefix.bytes[1] & 0xc0) == 0x80) {
    return MakeError(ErrorCode::kInvalidArgument,
                     quoted +
                         " is link-local, which names no interface: trust the balancer's "
                         "global or unique local address");
  }
  if (prefix.bits == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     quoted +
                         " is every address: any client could name any other; list the "
                         "balancers' own addresses");
  }
  // IPv4-mapped IPv6 (::ffff:10.0.0.0/120): the server writes such a peer
  // as IPv4, so the prefix is an IPv4 one.
  if (prefix.is_v6 && prefix.bits >= 96 && IsIpv4Mapped(prefix.bytes.data())) {
    AddressPrefix v4;
    std::copy_n(prefix.bytes.begin() + 12, 4, v4.bytes.begin());
    v4.bits = prefix.bits - 96;
    if (v4.bits == 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       quoted + " is every IPv4 address: list the balancers' own addresses");
    }
    return v4;
  }
  return prefix;
}

bool PrefixContains(const AddressPrefix& prefix, std::string_view address) {
  std::array<std::uint8_t, 16> bytes{};
  // A link-local peer is written with its zone ("fe80::1%eth0"), which
  // does not parse: no prefix contains it (none may be link-local).
  const std::string text(address);
  const int family = prefix.is_v6 ? AF_INET6 : AF_INET;
  if (::inet_pton(family, text.c_str(), bytes.data()) != 1) return false;
  for (unsigned bit = 0; bit < prefix.bits; ++bit) {
    const unsigned byte = bit / 8;
    const unsigned shift = 7 - bit % 8;
    if (((bytes[byte] >> shift) & 1) != ((prefix.bytes[byte] >> shift) & 1)) return false;
  }
  return true;
}

}  // namespace attest::http
