// Fuzzes the TPM structures the verifier unmarshals from the network: the
// quote and the key certification (TPMS_ATTEST), their signature (TPMT_SIGNATURE) and the AK
// (TPM2B_PUBLIC), each through tss2-mu, and a signature check with
// whatever key parses.
#include <cstdint>

#include "attest/tpm/signature.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/quote.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  attest::ByteView bytes(data, size);
  (void)attest::verifier::ParseQuote(bytes);
  (void)attest::verifier::ParseCertify(bytes);
  auto signature = attest::tpm::ParseSignature(bytes);
  // Bare PEM keys too: the parser must hold on either path.
  auto key = attest::verifier::ParseAttestationKey(bytes, {.allow_bare_public_key = true});
  if (signature.ok() && key.ok()) {
    (void)attest::tpm::VerifySignature(key->key.get(), bytes, *signature);
  }
  // Split the input: a key, then a signature over the rest.
  if (size > 2) {
    std::size_t split = (static_cast<std::size_t>(data[0]) << 8 | data[1]) % size;
    auto split_key =
        attest::verifier::ParseAttestationKey(bytes.subspan(2, split > 2 ? split - 2 : 0));
    auto split_signature = attest::tpm::ParseSignature(bytes.subspan(split));
    if (split_key.ok() && split_signature.ok()) {
      (void)attest::tpm::VerifySignature(split_key->key.get(), bytes, *split_signature);
    }
  }
  return 0;
}
