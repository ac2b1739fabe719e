// Fuzzes what the signer reads from others or from disk: signature
// envelopes (files and directory manifests), public keys (.pub JSON and
// PEM), revocation payloads from the ledger, and key files (the guarded
// parser). Nothing may crash; a parsed envelope must serialize to a fixed
// point, say what its digest is of exactly as it carries a manifest, and
// never verify without a trusted key.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "attest/signer/envelope.h"
#include "attest/signer/key_file.h"
#include "attest/signer/ledger_records.h"
#include "attest/signer/public_key.h"
#include "attest/signer/verify.h"

namespace {

void Fail(const char* what) {
  (void)std::fprintf(stderr, "%s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace attest::signer;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ParsePublicKey(text, "fuzz");
  (void)ParseRevocationPayload(text, "fuzz");
  // An encrypted key file stops at the passphrase (no Argon2id here).
  (void)DecodePrivateKeyFile(attest::ByteView(data, size), "fuzz",
                             []() -> attest::Result<attest::SecretBytes> {
                               return attest::MakeError(attest::ErrorCode::kInvalidArgument,
                                                        "no passphrase while fuzzing");
                             });
  auto envelope = ParseEnvelope(text, "fuzz");
  if (!envelope.ok()) return 0;
  auto serialized = SerializeEnvelope(*envelope);
  if (!serialized.ok()) Fail("a parsed envelope does not serialize");
  auto reparsed = ParseEnvelope(*serialized, "fuzz");
  if (!reparsed.ok() || SerializeEnvelope(*reparsed).value() != *serialized) {
    Fail("a serialized envelope does not parse back to itself");
  }
  bool says_manifest = text.find("\"manifest\"") != std::string_view::npos;
  if (DigestOfEnvelope(*envelope) == DigestOf::kManifest && !says_manifest) {
    Fail("a manifest envelope parsed from text without a manifest");
  }
  FileDigest digest{envelope->sha256, envelope->size};
  for (Purpose purpose : {Purpose::kArtifact, Purpose::kConfig, Purpose::kPolicy}) {
    if (VerifyEnvelope(*envelope, digest, TrustedKeys(), purpose).valid()) {
      Fail("an envelope verified with no trusted key");
    }
  }
  return 0;
}
