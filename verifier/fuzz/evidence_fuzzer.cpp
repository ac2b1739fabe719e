// Fuzzes the evidence and policy documents (untrusted JSON from the
// network and from files) and, when both parse, a whole verification with
// a fixed AK: nothing may crash, and a verdict is trusted only if it has no
// failure reason. The evidence parser's fast path (simdjson) must accept
// nothing the strict path refuses, and read what it accepts the same way.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "attest/verifier/policy.h"
#include "attest/verifier/verify.h"

namespace {

const attest::verifier::AttestationKey& Key() {
  // A fixed P-256 public key in PEM (any valid key will do: signatures in
  // fuzzed evidence are not expected to verify).
  static const attest::verifier::AttestationKey key =
      attest::verifier::ParseAttestationKey(
          attest::AsBytes("-----BEGIN PUBLIC KEY-----\n"
                          "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEVUtSCYRQTE5EaYzsnO7/2yPDNqDv\n"
                          "dxIRcqXjqXZPmjsLq6Cy2qBQAOYQNkb5uC7ab2NA9wZKiCL+pogKUCbxvg==\n"
                          "-----END PUBLIC KEY-----\n"),
          {.allow_bare_public_key = true})
          .value();
  return key;
}

bool SameKeyCertification(const std::optional<attest::verifier::KeyCertification>& a,
                          const std::optional<attest::verifier::KeyCertification>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a ||
         (a->key_public == b->key_public && a->attest == b->attest && a->signature == b->signature);
}

bool SameEvidence(const attest::verifier::Evidence& a, const attest::verifier::Evidence& b) {
  return a.nonce == b.nonce && a.attest == b.attest && a.signature == b.signature &&
         a.pcrs == b.pcrs && a.boot_log == b.boot_log && a.runtime_log == b.runtime_log &&
         a.runtime_log_start == b.runtime_log_start && a.csr == b.csr &&
         SameKeyCertification(a.key_certification, b.key_certification);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = attest::verifier::ParsePolicy(text, "fuzz");
  if (policy.ok()) (void)attest::verifier::PolicyToJson(*policy).dump();
  auto fast = attest::verifier::internal::ParseEvidenceFastPath(text);
  auto evidence = attest::verifier::internal::ParseEvidenceStrictPath(text, "fuzz");
  if (fast && (!evidence.ok() || !SameEvidence(*fast, *evidence))) {
    std::fprintf(stderr, "the evidence parser's fast path disagrees with the strict path\n");
    std::abort();
  }
  if (!evidence.ok()) return 0;
  attest::verifier::Policy default_policy;
  default_policy.selection = attest::tpm::ParsePcrSelection("sha256:0-7,15").value();
  attest::verifier::VerificationInput input{*evidence, Key(), default_policy, std::nullopt,
                                            std::nullopt};
  attest::verifier::Verdict verdict = attest::verifier::VerifyEvidence(input);
  for (const auto& reason : verdict.reasons) {
    if (verdict.trusted && !attest::verifier::IsInformational(reason.code)) {
      std::fprintf(stderr, "trusted verdict with a failure reason\n");
      std::abort();
    }
  }
  (void)attest::verifier::VerdictToJson(verdict).dump();
  return 0;
}
