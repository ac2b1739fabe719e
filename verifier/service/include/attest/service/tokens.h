// API tokens (`Authorization: Bearer TOKEN`): "vt_<token_id>_<secret>", the
// id public (16 hex), the secret 32 random bytes in base64url. Only the
// secret's SHA-256 is stored; a token is shown once, when created.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/service/store.h"

namespace attest::service {

struct NewToken {
  std::string token;  // what the caller shows once and never stores
  TokenRecord record;
};
NewToken GenerateToken(Role role, std::string_view label, TimePoint now);

struct PresentedToken {
  std::string token_id;
  Bytes secret_digest;
};
// nullopt for anything not shaped like a token (never an exception).
std::optional<PresentedToken> ParseToken(std::string_view token);
// Constant-time comparison of the digests; false for a revoked record.
bool TokenMatches(const TokenRecord& record, const PresentedToken& presented);

}  // namespace attest::service
