// PROXY protocol v2 headers as a load balancer writes them, for the tests
// of the parser and of the server reading them.
#pragma once

#include <cstdint>
#include <string>

#include <arpa/inet.h>

namespace attest::http::test {

inline constexpr char kProxySignature[] = "\r\n\r\n\0\r\nQUIT\n";

// The fixed part: version 2, `command` (0 LOCAL, 1 PROXY), `family_transport`
// (0x11 TCP over IPv4, 0x21 over IPv6), and `rest` bytes announced.
inline std::string ProxyFixed(std::uint8_t command, std::uint8_t family_transport,
                              std::size_t rest) {
  std::string fixed(kProxySignature, 12);
  fixed += static_cast<char>(0x20 | command);
  fixed += static_cast<char>(family_transport);
  fixed += static_cast<char>((rest >> 8) & 0xFF);
  fixed += static_cast<char>(rest & 0xFF);
  return fixed;
}

// PROXY TCP from `source` (IPv4 or IPv6 text) to 127.0.0.1:8443, followed by
// `tlvs` as given.
inline std::string ProxyHeaderFrom(const std::string& source, const std::string& tlvs = "") {
  std::string block;
  unsigned char address[16] = {};
  const bool v6 = inet_pton(AF_INET, source.c_str(), address) != 1;
  if (v6 && inet_pton(AF_INET6, source.c_str(), address) != 1) return "";
  const std::size_t size = v6 ? 16 : 4;
  block.append(reinterpret_cast<const char*>(address), size);  // source
  unsigned char destination[16] = {};
  if (v6) {
    destination[15] = 1;
  } else {
    destination[0] = 127;
    destination[3] = 1;
  }
  block.append(reinterpret_cast<const char*>(destination), size);
  block += "\xC3\x50";  // source port 50000
  block += "\x20\xFB";  // destination port 8443
  block += tlvs;
  return ProxyFixed(1, v6 ? 0x21 : 0x11, block.size()) + block;
}

// LOCAL, as a balancer's health check sends it: no address block.
inline std::string ProxyLocal() { return ProxyFixed(0, 0x00, 0); }

}  // namespace attest::http::test
