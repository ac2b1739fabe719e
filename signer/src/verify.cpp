#include "attest/signer/verify.h"

#include "attest/encoding.h"

namespace attest::signer {

std::string_view VerifyReasonName(VerifyReason reason) {
  switch (reason) {
    case VerifyReason::kValid:
      return "valid";
    case VerifyReason::kFileChanged:
      return "file_changed";
    case VerifyReason::kUntrustedKey:
      return "untrusted_key";
    case VerifyReason::kBadSignature:
      return "bad_signature";
    case VerifyReason::kWrongPurpose:
      return "wrong_purpose";
  }
  return "unknown";
}

VerifyResult VerifyEnvelope(const Envelope& envelope, const FileDigest& actual,
                            const TrustedKeys& trusted, Purpose expected) {
  // Trust is the full public key; the key id is only how it is shown.
  if (!trusted.Contains(envelope.public_key)) {
    return {VerifyReason::kUntrustedKey, "signed by key " + KeyIdOf(envelope.public_key) +
                                             ", which is not among the trusted keys"};
  }
  auto message = SignedMessage(envelope);
  if (envelope.key_id != KeyIdOf(envelope.public_key) || !message.ok() ||
      !Ed25519Verify(envelope.public_key, *message, envelope.signature)) {
    return {VerifyReason::kBadSignature, "the signature by key " + KeyIdOf(envelope.public_key) +
                                             " does not verify (the envelope was "
                                             "altered or signed something else)"};
  }
  if (expected != envelope.purpose) {
    return {VerifyReason::kWrongPurpose, "signed for purpose " +
                                             std::string(PurposeName(envelope.purpose)) +
                                             ", expected " + std::string(PurposeName(expected))};
  }
  if (actual.sha256 != envelope.sha256 || actual.size != envelope.size) {
    return {VerifyReason::kFileChanged,
            "the file changed since it was signed: sha256 " + HexEncode(actual.sha256) + " size " +
                std::to_string(actual.size) + ", signed sha256 " + HexEncode(envelope.sha256) +
                " size " + std::to_string(envelope.size)};
  }
  return {VerifyReason::kValid, "signed by key " + envelope.key_id + " for purpose " +
                                    std::string(PurposeName(envelope.purpose)) + " at " +
                                    envelope.time};
}

Result<VerifyResult> VerifyFile(const std::string& path, const Envelope& envelope,
                                const TrustedKeys& trusted, Purpose expected) {
  if (envelope.manifest) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the envelope for " + envelope.path +
                         " signs a directory manifest; verify it as a directory");
  }
  ATTEST_ASSIGN_OR_RETURN(FileDigest digest, HashFileStreaming(path));
  return VerifyEnvelope(envelope, digest, trusted, expected);
}

}  // namespace attest::signer
