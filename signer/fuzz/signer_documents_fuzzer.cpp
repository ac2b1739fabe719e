// Fuzzes what the signer reads from others: signature envelopes (files and
// directory manifests), public keys (.pub JSON and PEM) and revocation
// payloads from the ledger. Nothing may crash, a parsed envelope must
// serialize, and with no trusted key nothing may verify as valid.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "attest/signer/envelope.h"
#include "attest/signer/ledger_records.h"
#include "attest/signer/public_key.h"
#include "attest/signer/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)attest::signer::ParsePublicKey(text, "fuzz");
  (void)attest::signer::ParseRevocationPayload(text, "fuzz");
  auto envelope = attest::signer::ParseEnvelope(text, "fuzz");
  if (!envelope.ok()) return 0;
  if (!attest::signer::SerializeEnvelope(*envelope).ok()) {
    std::fprintf(stderr, "a parsed envelope does not serialize\n");
    std::abort();
  }
  attest::signer::FileDigest digest{envelope->sha256, envelope->size};
  attest::signer::VerifyResult result = attest::signer::VerifyEnvelope(
      *envelope, digest, attest::signer::TrustedKeys(), std::nullopt);
  if (result.reason == attest::signer::VerifyReason::kValid) {
    std::fprintf(stderr, "an envelope verified with no trusted key\n");
    std::abort();
  }
  return 0;
}
