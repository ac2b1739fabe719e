// Reads the fields enrollment records from an EK certificate (already
// verified by the caller).
#pragma once

#include <openssl/x509.h>

#include "attest/error.h"
#include "attest/verifier/ek_certificate.h"

namespace attest::verifier::internal {

Result<EkCertificateInfo> DescribeEkCertificate(X509* certificate);

}  // namespace attest::verifier::internal
