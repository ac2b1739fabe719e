#include "ek_revocation.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>
#include <memory>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

namespace attest::verifier::internal {
namespace {

using IssuingDistPointPtr =
    std::unique_ptr<ISSUING_DIST_POINT, OpensslDeleter<ISSUING_DIST_POINT_free>>;
using DistPointsPtr = std::unique_ptr<CRL_DIST_POINTS, OpensslDeleter<CRL_DIST_POINTS_free>>;
using Asn1EnumeratedPtr = std::unique_ptr<ASN1_ENUMERATED, OpensslDeleter<ASN1_ENUMERATED_free>>;

std::string PrintableNameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return "(unprintable name)";
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : "(empty name)";
}

std::string PrintableTimeText(const ASN1_TIME* time) {
  std::tm parts{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) {
    ERR_clear_error();
    return "(invalid time)";
  }
  std::array<char, 32> text{};
  std::size_t length = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return std::string(text.data(), length);
}

std::string PrintableObjectId(const ASN1_OBJECT* object) {
  std::array<char, 128> text{};
  int length = OBJ_obj2txt(text.data(), static_cast<int>(text.size()), object, 1);
  return length > 0 ? std::string(text.data()) : std::string("(unknown)");
}

// RFC 5280 §5.3.1 CRLReason names; 7 is unused.
std::string ReasonText(X509_REVOKED* revoked) {
  constexpr std::array<const char*, 11> kReasons = {
      "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
      "superseded",    "cessationOfOperation", "certificateHold", "(7)",
      "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};
  Asn1EnumeratedPtr reason(static_cast<ASN1_ENUMERATED*>(
      X509_REVOKED_get_ext_d2i(revoked, NID_crl_reason, nullptr, nullptr)));
  if (!reason) return "not given";
  const long code = ASN1_ENUMERATED_get(reason.get());
  if (code < 0 || code >= static_cast<long>(kReasons.size())) return std::to_string(code);
  return kReasons[static_cast<std::size_t>(code)];
}

// The CRL's issuingDistributionPoint, or null when it has none.
Result<IssuingDistPointPtr> IssuingDistributionPoint(X509_CRL* crl) {
  int critical = -1;
  IssuingDistPointPtr point(static_cast<ISSUING_DIST_POINT*>(
      X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &critical, nullptr)));
  if (!point && critical != -1) {
    ERR_clear_error();
    return MakeError(ErrorCode::kInvalidArgument,
                     "its issuingDistributionPoint does not decode or appears twice");
  }
  return point;
}

// RFC 5280 §4.2.1.3: a CA with a keyUsage extension signs CRLs only with
// cRLSign (OpenSSL's X509_V_ERR_KEYUSAGE_NO_CRL_SIGN).
bool MaySignCrls(X509* certificate) {
  return (X509_get_extension_flags(certificate) & EXFLAG_KUSAGE) == 0 ||
         (X509_get_key_usage(certificate) & KU_CRL_SIGN) != 0;
}

bool IssuedAndSignedBy(X509_CRL* crl, X509* issuer) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) return false;
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  const bool verified = key != nullptr && X509_CRL_verify(crl, key) == 1;
  ERR_clear_error();
  return verified;
}

// RFC 5280 §5.2.5 scope: a CRL limited to end-entity or to CA certificates,
// or partitioned by distribution point, covers only the certificates of
// that kind or whose cRLDistributionPoints name one of its points.
bool Covers(X509_CRL* crl, X509* certificate, bool is_ca) {
  auto point = IssuingDistributionPoint(crl);
  if (!point.ok()) return false;  // refused at load; covering nothing fails closed
  const ISSUING_DIST_POINT* scope = point->get();
  if (scope == nullptr) return true;
  if ((scope->onlyuser != 0 && is_ca) || (scope->onlyCA != 0 && !is_ca)) return false;
  if (scope->distpoint == nullptr) return true;
  DistPointsPtr certificate_points(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(certificate, NID_crl_distribution_points, nullptr, nullptr)));
  ERR_clear_error();
  if (!certificate_points || scope->distpoint->type != 0) return false;
  const GENERAL_NAMES* crl_names = scope->distpoint->name.fullname;
  for (int i = 0; i < sk_DIST_POINT_num(certificate_points.get()); ++i) {
    const DIST_POINT* point_of_certificate = sk_DIST_POINT_value(certificate_points.get(), i);
    if (point_of_certificate->distpoint == nullptr || point_of_certificate->distpoint->type != 0) {
      continue;
    }
    const GENERAL_NAMES* names = point_of_certificate->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      for (int k = 0; k < sk_GENERAL_NAME_num(crl_names); ++k) {
        if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(names, j),
                             sk_GENERAL_NAME_value(crl_names, k)) == 0) {
          return true;
        }
      }
    }
  }
  return false;
}

Status CheckCrlShape(X509_CRL* crl) {
  for (int i = 0; i < X509_CRL_get_ext_count(crl); ++i) {
    X509_EXTENSION* extension = X509_CRL_get_ext(crl, i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(extension));
    if (nid == NID_delta_crl) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "it is a delta CRL (deltaCRLIndicator), which this check does not "
                       "combine with its base; put the complete CRL in the bundle");
    }
    if (X509_EXTENSION_get_critical(extension) != 0 && nid != NID_issuing_distribution_point) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "it has a critical extension this check does not process (" +
                           PrintableObjectId(X509_EXTENSION_get_object(extension)) + ")");
    }
  }
  ATTEST_ASSIGN_OR_RETURN(IssuingDistPointPtr point, IssuingDistributionPoint(crl));
  if (!point) return OkStatus();
  std::string unsupported;
  if (point->indirectCRL != 0) unsupported = "it is an indirect CRL (indirectCRL)";
  if (point->onlysomereasons != nullptr) {
    unsupported = "it covers only some revocation reasons (onlySomeReasons)";
  }
  if (point->onlyattr != 0) unsupported = "it covers attribute certificates only";
  if (point->onlyuser != 0 && point->onlyCA != 0) {
    unsupported = "it claims both onlyContainsUserCerts and onlyContainsCACerts";
  }
  if (point->distpoint != nullptr && point->distpoint->type != 0) {
    unsupported = "its distribution point is relative to the issuer (only fullName is supported)";
  }
  if (!unsupported.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     unsupported + "; put the issuer's complete CRL in the bundle");
  }
  return OkStatus();
}

Error Revocation(const std::string& message) {
  return Error{ErrorCode::kVerificationFailed, message};
}

struct Deciding {
  bool covered = false;     // some CRL covers the certificate
  X509_CRL* crl = nullptr;  // of those, the latest thisUpdate not after now
};

Deciding DecidingCrl(const std::vector<X509_CRL*>& issued, X509* certificate, bool is_ca,
                     std::time_t now) {
  Deciding deciding;
  for (X509_CRL* crl : issued) {
    if (!Covers(crl, certificate, is_ca)) continue;
    deciding.covered = true;
    const int started = ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), now);
    if (started == -2 || started > 0) continue;  // thisUpdate after now (or unreadable)
    if (deciding.crl == nullptr || ASN1_TIME_compare(X509_CRL_get0_lastUpdate(crl),
                                                     X509_CRL_get0_lastUpdate(deciding.crl)) > 0) {
      deciding.crl = crl;
    }
  }
  return deciding;
}

Status CheckCertificate(X509* certificate, X509* issuer, int depth,
                        const std::vector<X509CrlPtr>& crls, std::time_t now) {
  std::vector<X509_CRL*> issued;
  for (const X509CrlPtr& crl : crls) {
    if (IssuedAndSignedBy(crl.get(), issuer)) issued.push_back(crl.get());
  }
  if (issued.empty()) return OkStatus();  // an issuer without a CRL is not checked

  const std::string what =
      (depth == 0 ? std::string("EK certificate")
                  : "TPM CA certificate " + PrintableNameText(X509_get_subject_name(certificate)) +
                        " at depth " + std::to_string(depth) + " of the EK certificate's chain") +
      " (serial " + SerialHex(certificate) + ")";
  const std::string source = PrintableNameText(X509_get_subject_name(issuer));
  const auto [covered, newest] = DecidingCrl(issued, certificate, depth > 0, now);
  if (!covered) {
    return Revocation(what + ": the TPM CA bundle holds CRLs of its issuer " + source +
                      " but none covers this certificate (issuingDistributionPoint scope); "
                      "add the issuer's CRL that does");
  }
  if (newest == nullptr) {
    return Revocation(what + ": every CRL of its issuer " + source +
                      " that covers it starts (thisUpdate) after the verification time; check "
                      "the clock");
  }
  // An expired CRL leaves revocation unknown: refused, as OpenSSL's CRL
  // check does, because the operator asked for revocation of this issuer.
  const ASN1_TIME* next_update = X509_CRL_get0_nextUpdate(newest);
  // ASN1_TIME_cmp_time_t: -1 before `now`, -2 unreadable; both refused.
  const int next_versus_now = next_update == nullptr ? 1 : ASN1_TIME_cmp_time_t(next_update, now);
  if (next_versus_now < 0) {
    return Revocation(what + ": the newest CRL of its issuer " + source + " expired at " +
                      PrintableTimeText(next_update) +
                      " (nextUpdate), so its revocation status is unknown; put a current CRL "
                      "from the CA in the TPM CA bundle");
  }
  X509_REVOKED* revoked = nullptr;
  if (X509_CRL_get0_by_cert(newest, &revoked, certificate) != 0 && revoked != nullptr) {
    return Revocation(what + " is revoked by the CRL of " + source + " (revoked " +
                      PrintableTimeText(X509_REVOKED_get0_revocationDate(revoked)) + ", reason " +
                      ReasonText(revoked) + ")");
  }
  ERR_clear_error();
  return OkStatus();
}

}  // namespace

std::string SerialHex(const X509* certificate) {
  BignumPtr number(ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr));
  char* hex = number ? BN_bn2hex(number.get()) : nullptr;
  if (hex == nullptr) {
    ERR_clear_error();
    return "(unreadable)";
  }
  std::string text(hex);
  OPENSSL_free(hex);
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

Status CheckBundleCrl(X509_CRL* crl, const std::vector<X509Ptr>& certificates) {
  const std::string issuer = PrintableNameText(X509_CRL_get_issuer(crl));
  auto refuse = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument, "CRL of " + issuer + ": " + why);
  };
  if (Status shape = CheckCrlShape(crl); !shape.ok()) return refuse(shape.error().message);
  bool named = false;
  bool signed_by_non_crl_signer = false;
  for (const X509Ptr& certificate : certificates) {
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(certificate.get())) != 0) {
      continue;
    }
    named = true;
    if (!IssuedAndSignedBy(crl, certificate.get())) continue;
    if (MaySignCrls(certificate.get())) return OkStatus();
    signed_by_non_crl_signer = true;
  }
  if (!named) {
    return refuse(
        "no CA certificate in the bundle has this subject; add the issuer's certificate or "
        "remove the CRL");
  }
  if (signed_by_non_crl_signer) {
    return refuse("its issuer's key usage does not allow signing CRLs (cRLSign)");
  }
  return refuse(
      "its signature does not verify with the key of any CA certificate of that name in the "
      "bundle (signed by another key); get the CRL from the CA again");
}

Status CheckChainRevocation(STACK_OF(X509) * chain, const std::vector<X509CrlPtr>& crls,
                            TimePoint now) {
  if (crls.empty()) return OkStatus();
  const std::time_t at = std::chrono::system_clock::to_time_t(now);
  const int length = sk_X509_num(chain);
  for (int depth = 0; depth + 1 < length; ++depth) {
    ATTEST_RETURN_IF_ERROR(CheckCertificate(sk_X509_value(chain, depth),
                                            sk_X509_value(chain, depth + 1), depth, crls, at));
  }
  return OkStatus();
}

}  // namespace attest::verifier::internal
