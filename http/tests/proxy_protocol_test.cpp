// The PROXY protocol v2 parser and the trusted-proxy prefixes: every field a
// balancer sends read as the specification says, and every header that is
// short, long, of another version or command, or relays anything but TCP
// refused with a message.
#include "attest/http/proxy_protocol.h"

#include <gtest/gtest.h>

#include "proxy_header_builder.h"

namespace attest::http::test {
namespace {

ByteView Bytes(const std::string& text) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

Result<ProxyHeader> Parse(const std::string& header) { return ParseProxyHeader(Bytes(header)); }

void ExpectRefused(const std::string& header, const std::string& detail) {
  Result<ProxyHeader> parsed = Parse(header);
  ASSERT_FALSE(parsed.ok()) << "accepted: " << detail;
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(parsed.error().message.find(detail), std::string::npos) << parsed.error().message;
}

TEST(ProxyProtocolTest, ProxyOverTcp4NamesTheSource) {
  Result<ProxyHeader> parsed = Parse(ProxyHeaderFrom("203.0.113.7"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->client_address, "203.0.113.7");
}

TEST(ProxyProtocolTest, ProxyOverTcp6NamesTheSourceAndMappedIpv4IsIpv4) {
  Result<ProxyHeader> parsed = Parse(ProxyHeaderFrom("2001:db8::17"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->client_address, "2001:db8::17");
  // As the server writes a peer: one client, one key for its limits.
  parsed = Parse(ProxyHeaderFrom("::ffff:198.51.100.4"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->client_address, "198.51.100.4");
}

TEST(ProxyProtocolTest, TlvsAfterTheAddressesAreSkipped) {
  // PP2_TYPE_AWS (0xEA), subtype VPC endpoint id, then PP2_TYPE_NOOP.
  const std::string tlvs = std::string("\xEA\x00\x0E\x01vpce-0123abcd", 17) + "\x04\x00\x00";
  Result<ProxyHeader> parsed = Parse(ProxyHeaderFrom("192.0.2.1", tlvs));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->client_address, "192.0.2.1");
}

TEST(ProxyProtocolTest, LocalIsTheBalancerItselfWhateverItCarries) {
  Result<ProxyHeader> parsed = Parse(ProxyLocal());
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_FALSE(parsed->client_address.has_value());
  // LOCAL with an address block: the block is ignored (the specification).
  std::string header = ProxyHeaderFrom("203.0.113.7");
  header[12] = 0x20;
  parsed = Parse(header);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_FALSE(parsed->client_address.has_value());
}

TEST(ProxyProtocolTest, TheRestLengthIsReadFromTheFixedPart) {
  const std::string header = ProxyHeaderFrom("203.0.113.7");
  Result<std::size_t> rest = ProxyHeaderRestLength(Bytes(header.substr(0, 16)));
  ASSERT_TRUE(rest.ok()) << rest.error().ToString();
  EXPECT_EQ(*rest, 12u);
  rest = ProxyHeaderRestLength(Bytes(ProxyFixed(1, 0x11, kMaxProxyHeaderRest)));
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, kMaxProxyHeaderRest);
  rest = ProxyHeaderRestLength(Bytes(ProxyFixed(1, 0x11, kMaxProxyHeaderRest + 1)));
  ASSERT_FALSE(rest.ok());
  EXPECT_NE(rest.error().message.find("over the 1024 accepted"), std::string::npos);
  EXPECT_FALSE(ProxyHeaderRestLength(Bytes(header.substr(0, 15))).ok());
}

TEST(ProxyProtocolTest, WhatIsNotAVersion2HeaderIsRefused) {
  // A client that bypassed the balancer: its TLS ClientHello.
  ExpectRefused(
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "0123456789abcdef",
      "no version 2 signature");
  // Version 1, the text form.
  ExpectRefused("PROXY TCP4 203.0.113.7 127.0.0.1 50000 8443\r\n", "no version 2 signature");
  std::string header = ProxyHeaderFrom("203.0.113.7");
  header[12] = 0x11;  // version 1 in the binary form
  ExpectRefused(header, "version 1, not 2");
  header[12] = 0x22;  // command 2
  ExpectRefused(header, "command 2 is neither LOCAL nor PROXY");
  for (std::size_t i = 0; i < 12; ++i) {
    header = ProxyHeaderFrom("203.0.113.7");
    header[i] = static_cast<char>(header[i] ^ 0x01);
    ExpectRefused(header, "no version 2 signature");
  }
}

TEST(ProxyProtocolTest, ProxyRelaysOnlyTcpOverIpv4OrIpv6) {
  for (std::uint8_t family_transport : {0x00, 0x01, 0x12, 0x22, 0x31, 0x10, 0x41}) {
    std::string header = ProxyHeaderFrom("203.0.113.7");
    header[13] = static_cast<char>(family_transport);
    ExpectRefused(header, "only TCP over IPv4 or IPv6 is served");
  }
}

TEST(ProxyProtocolTest, LengthsThatDisagreeAreRefused) {
  const std::string header = ProxyHeaderFrom("203.0.113.7");
  ExpectRefused(header.substr(0, 10), "shorter than its 16 fixed bytes");
  ExpectRefused(header.substr(0, header.size() - 1),
                "announces 12 bytes after its fixed part, holds 11");
  ExpectRefused(header + "x", "announces 12 bytes after its fixed part, holds 13");
  // Announced and held agree, but too short for the family's addresses.
  ExpectRefused(ProxyFixed(1, 0x11, 11) + std::string(11, '\0'),
                "the address block needs 12 bytes, 11 follow");
  ExpectRefused(ProxyFixed(1, 0x21, 35) + std::string(35, '\0'),
                "the address block needs 36 bytes, 35 follow");
}

TEST(ProxyProtocolTest, PrefixesContainWhatTheySay) {
  Result<AddressPrefix> single = ParseAddressPrefix("10.0.0.7");
  ASSERT_TRUE(single.ok()) << single.error().ToString();
  EXPECT_TRUE(PrefixContains(*single, "10.0.0.7"));
  EXPECT_FALSE(PrefixContains(*single, "10.0.0.8"));
  Result<AddressPrefix> network = ParseAddressPrefix("10.0.0.0/24");
  ASSERT_TRUE(network.ok()) << network.error().ToString();
  EXPECT_TRUE(PrefixContains(*network, "10.0.0.0"));
  EXPECT_TRUE(PrefixContains(*network, "10.0.0.255"));
  EXPECT_FALSE(PrefixContains(*network, "10.0.1.0"));
  EXPECT_FALSE(PrefixContains(*network, "fd00::1"));  // another family
  Result<AddressPrefix> v6 = ParseAddressPrefix("fd00:1::/64");
  ASSERT_TRUE(v6.ok()) << v6.error().ToString();
  EXPECT_TRUE(PrefixContains(*v6, "fd00:1::5"));
  EXPECT_TRUE(PrefixContains(*v6, "fd00:1:0:0:ffff::1"));
  EXPECT_FALSE(PrefixContains(*v6, "fd00:1:0:1::1"));
  EXPECT_FALSE(PrefixContains(*v6, "10.0.0.7"));
  Result<AddressPrefix> wide = ParseAddressPrefix("128.0.0.0/1");
  ASSERT_TRUE(wide.ok());
  EXPECT_TRUE(PrefixContains(*wide, "203.0.113.7"));
  EXPECT_FALSE(PrefixContains(*wide, "10.0.0.7"));
  EXPECT_FALSE(PrefixContains(*single, "not an address"));
  // IPv4-mapped prefixes are IPv4 ones, as the server writes such peers.
  Result<AddressPrefix> mapped = ParseAddressPrefix("::ffff:10.0.0.0/120");
  ASSERT_TRUE(mapped.ok()) << mapped.error().ToString();
  EXPECT_FALSE(mapped->is_v6);
  EXPECT_EQ(mapped->bits, 24u);
  EXPECT_TRUE(PrefixContains(*mapped, "10.0.0.9"));
  Result<AddressPrefix> mapped_single = ParseAddressPrefix("::ffff:10.0.0.5");
  ASSERT_TRUE(mapped_single.ok());
  EXPECT_TRUE(PrefixContains(*mapped_single, "10.0.0.5"));
  EXPECT_FALSE(PrefixContains(*mapped_single, "10.0.0.6"));
  // A link-local peer comes with its zone: inside no prefix, even one
  // whose bits would cover it.
  Result<AddressPrefix> upper_half = ParseAddressPrefix("8000::/1");
  ASSERT_TRUE(upper_half.ok());
  EXPECT_TRUE(PrefixContains(*upper_half, "fe80::1"));
  EXPECT_FALSE(PrefixContains(*upper_half, "fe80::1%eth0"));
}

TEST(ProxyProtocolTest, BadPrefixesAreRefusedNamingThem) {
  for (const char* text : {"", "10.0.0", "host.example", "10.0.0.0/", "10.0.0.0/33", "fd00::/129",
                           "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/1000", "10.0.0.0/2x"}) {
    Result<AddressPrefix> prefix = ParseAddressPrefix(text);
    ASSERT_FALSE(prefix.ok()) << text;
    EXPECT_NE(prefix.error().message.find(std::string("\"") + text + "\""), std::string::npos)
        << prefix.error().message;
  }
  for (const char* everything : {"0.0.0.0/0", "::/0", "::ffff:0.0.0.0/96"}) {
    Result<AddressPrefix> prefix = ParseAddressPrefix(everything);
    ASSERT_FALSE(prefix.ok()) << everything;
    EXPECT_NE(prefix.error().message.find("list the balancers' own addresses"), std::string::npos)
        << prefix.error().message;
  }
  Result<AddressPrefix> nul = ParseAddressPrefix(std::string("10.0.0.5\0junk", 13));
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.error().message.find("NUL"), std::string::npos);
  EXPECT_FALSE(ParseAddressPrefix("fe80::1%eth0").ok());  // a zone is the host's, not a prefix's
  for (const char* link_local : {"fe80::5", "fe80::/10", "febf:ffff::1"}) {
    Result<AddressPrefix> prefix = ParseAddressPrefix(link_local);
    ASSERT_FALSE(prefix.ok()) << link_local;
    EXPECT_NE(prefix.error().message.find("link-local"), std::string::npos)
        << prefix.error().message;
  }
  EXPECT_TRUE(ParseAddressPrefix("fec0::1").ok());  // just past fe80::/10
  Result<AddressPrefix> host_bits = ParseAddressPrefix("10.0.0.1/24");
  ASSERT_FALSE(host_bits.ok());
  EXPECT_NE(host_bits.error().message.find("bits set past its prefix length"), std::string::npos);
}

}  // namespace
}  // namespace attest::http::test
