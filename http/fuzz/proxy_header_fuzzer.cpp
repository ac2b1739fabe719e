// Fuzzes the PROXY protocol v2 parser, which reads what a trusted balancer
// sends before any TLS, and the trusted-proxy prefixes. Beyond "no crash":
// an accepted header is exactly its fixed part and the length that part
// announces, and a client address it names is an address (inet_pton reads
// it back), inside its own full-length prefix where one may be made of it
// (link-local ones may not).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <arpa/inet.h>

#include "attest/http/proxy_protocol.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "proxy_header_fuzzer: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace attest::http;
  const attest::ByteView input(data, size);
  auto header = ParseProxyHeader(input);
  if (size >= kProxyHeaderFixedBytes) {
    auto rest = ProxyHeaderRestLength(input.first(kProxyHeaderFixedBytes));
    if (rest.ok() && *rest > kMaxProxyHeaderRest) Fail("a rest over the limit was accepted");
    if (header.ok() && (!rest.ok() || size != kProxyHeaderFixedBytes + *rest)) {
      Fail("an accepted header is not its fixed part and the length it announces");
    }
  } else if (header.ok()) {
    Fail("a header shorter than its fixed part was accepted");
  }
  if (header.ok() && header->client_address) {
    const std::string& address = *header->client_address;
    std::uint8_t bytes[16];
    if (::inet_pton(AF_INET, address.c_str(), bytes) != 1 &&
        ::inet_pton(AF_INET6, address.c_str(), bytes) != 1) {
      Fail("a client address does not parse as an address");
    }
    auto prefix = ParseAddressPrefix(address);
    if (prefix.ok() && !PrefixContains(*prefix, address)) Fail("an address is outside itself");
  }
  // The same bytes as a configured prefix: refused, or a prefix that
  // contains its own network address.
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto prefix = ParseAddressPrefix(text);
  if (prefix.ok() && prefix->bits > (prefix->is_v6 ? 128u : 32u)) Fail("prefix length too long");
  return 0;
}
