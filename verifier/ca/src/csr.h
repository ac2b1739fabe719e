// The PKCS#10 certificate request a node sends, parsed once for both the
// key certification check and issuance. Internal to attest_ca.
#pragma once

#include <cstddef>
#include <string_view>

#include "attest/error.h"
#include "attest/openssl.h"

namespace attest::verifier {

// A CSR is a few hundred bytes; anything near this is not one.
inline constexpr std::size_t kMaxCsrBytes = 16 * 1024;

// Exactly one "CERTIFICATE REQUEST" PEM block (surrounding whitespace
// only), at most kMaxCsrBytes, whose self-signature verifies with its own
// key under a hash stronger than SHA-1. kInvalidArgument naming what is
// wrong. The subject and extensions are not read: nothing of them is ever
// copied into a certificate.
Result<X509ReqPtr> ParseCsr(std::string_view pem);

}  // namespace attest::verifier
