// TPM2_ActivateCredential (TPM 2.0 Part 1 §24) in software, for the tests
// and simulated nodes that hold an EK's private key instead of a TPM: the
// credential tests open MakeCredential's output with it, and the service's
// simulated node (verifier/service/testing) answers enrollment with it.
#pragma once

#include <openssl/evp.h>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/verifier/make_credential.h"

namespace attest::verifier::test {

// What the TPM does with the EK's private key: recover the seed (RSA-OAEP
// with label "IDENTITY", or ECDH and KDFe for ECC EKs of any curve), check
// the integrity HMAC over the encrypted credential and `object_name`,
// decrypt it (AES-128/256-CFB, as the EK's template says). `ek_public` is
// the EK's marshaled TPM2B_PUBLIC. kVerificationFailed when the seed does
// not decrypt or the HMAC does not match: a credential for another key's
// name, or for another EK.
Result<Bytes> SoftwareActivateCredential(EVP_PKEY* ek_private, ByteView ek_public,
                                         const Credential& credential, ByteView object_name);

}  // namespace attest::verifier::test
