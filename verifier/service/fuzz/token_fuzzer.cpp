// Fuzzes bearer token parsing (ParseToken, tokens.cpp). Beyond "no crash":
// a token that parses has exactly the shape GenerateToken makes (so one
// secret has one spelling), and it never matches a generated token's record
// unless it is that token's text.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "attest/service/tokens.h"

namespace {

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void Fail(const char* what) {
  std::fprintf(stderr, "token fuzzer: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace attest::service;
  static const NewToken generated = GenerateToken(Role::kAdmin, "fuzz", attest::TimePoint{});
  static const bool generated_parses = [] {
    auto parsed = ParseToken(generated.token);
    return parsed && TokenMatches(generated.record, *parsed);
  }();
  if (!generated_parses) Fail("a generated token does not parse back to its record");

  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<PresentedToken> parsed = ParseToken(text);
  if (!parsed) return 0;
  // "vt_" + 16 lowercase hex + "_" + 43 base64url characters.
  if (text.size() != 63 || !text.starts_with("vt_") || text[19] != '_') Fail("shape");
  if (parsed->token_id != text.substr(3, 16) || !IsLowerHex(parsed->token_id)) Fail("token id");
  if (parsed->secret_digest.size() != 32) Fail("digest size");
  if (TokenMatches(generated.record, *parsed) != (text == generated.token)) {
    Fail("a token other than the generated one matched its record");
  }
  TokenRecord revoked = generated.record;
  revoked.revoked_at = attest::TimePoint{};
  if (TokenMatches(revoked, *parsed)) Fail("a revoked record matched");
  return 0;
}
