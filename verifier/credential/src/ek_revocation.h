// Revocation of EK certificate chains by the CRLs in the operator's TPM CA
// bundle: which CRLs the bundle accepts, and the per-issuer check run on a
// verified chain (an issuer with no CRL in the bundle is not checked, which
// OpenSSL's X509_V_FLAG_CRL_CHECK cannot express: it fails such chains).
#pragma once

#include <string>
#include <vector>

#include <openssl/x509.h>

#include "attest/clock.h"
#include "attest/error.h"
#include "attest/verifier/ek_certificate.h"

namespace attest::verifier::internal {

// Load time. kInvalidArgument unless `crl` is a complete CRL this check
// can apply: no deltaCRLIndicator, no indirectCRL, onlySomeReasons or
// onlyContainsAttributeCerts, a distribution point given (if at all) as a
// fullName, and no other critical extension; and unless it is signed by one
// of `certificates` of its issuer's name whose key usage allows cRLSign.
// The message names the issuer and says what to fix.
Status CheckBundleCrl(X509_CRL* crl, const std::vector<X509Ptr>& certificates);

// Verification time, on `chain` as X509_verify_cert built it (the EK
// certificate first, the trust anchor last). For each certificate below
// the anchor whose issuer (chain[i + 1]) signed CRLs in `crls`: of those
// that cover it (issuingDistributionPoint scope), the one with the latest
// thisUpdate not after `now` must exist, must not have expired (nextUpdate
// before `now`), and must not list its serial. kVerificationFailed names
// the certificate, its serial and the CRL's issuer.
Status CheckChainRevocation(STACK_OF(X509) * chain, const std::vector<X509CrlPtr>& crls,
                            TimePoint now);

// Lowercase hex of a certificate's serial number, e.g. "1a2b".
std::string SerialHex(const X509* certificate);

}  // namespace attest::verifier::internal
