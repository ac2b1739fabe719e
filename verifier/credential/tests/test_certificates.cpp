#include "test_certificates.h"

#include <algorithm>
#include <array>
#include <memory>
#include <utility>

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include "attest/tpm/public_key.h"

namespace attest::verifier::test {
namespace {

using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, OpensslDeleter<ASN1_OBJECT_free>>;
using Asn1OctetStringPtr =
    std::unique_ptr<ASN1_OCTET_STRING, OpensslDeleter<ASN1_OCTET_STRING_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpensslDeleter<X509_EXTENSION_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpensslDeleter<X509_NAME_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpensslDeleter<GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpensslDeleter<GENERAL_NAMES_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OpensslDeleter<ASN1_TIME_free>>;
using Asn1EnumeratedPtr = std::unique_ptr<ASN1_ENUMERATED, OpensslDeleter<ASN1_ENUMERATED_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpensslDeleter<ASN1_INTEGER_free>>;
using IssuingDistPointPtr =
    std::unique_ptr<ISSUING_DIST_POINT, OpensslDeleter<ISSUING_DIST_POINT_free>>;

void AddTpmAttributes(X509* certificate, const CertificateSpec& spec) {
  X509NamePtr directory(X509_NAME_new());
  const std::array<std::pair<const char*, const std::string*>, 3> attributes = {{
      {"2.23.133.2.1", &spec.tpm_manufacturer},
      {"2.23.133.2.2", &spec.tpm_model},
      {"2.23.133.2.3", &spec.tpm_version},
  }};
  for (const auto& [oid, value] : attributes) {
    Asn1ObjectPtr object(OBJ_txt2obj(oid, 1));
    ASSERT_EQ(X509_NAME_add_entry_by_OBJ(directory.get(), object.get(), MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(value->c_str()), -1,
                                         -1, 0),
              1);
  }
  GeneralNamePtr name(GENERAL_NAME_new());
  GENERAL_NAME_set0_value(name.get(), GEN_DIRNAME, directory.release());
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  ASSERT_GT(sk_GENERAL_NAME_push(names.get(), name.release()), 0);
  EXPECT_EQ(
      X509_add1_ext_i2d(certificate, NID_subject_alt_name, names.get(), 1, X509V3_ADD_DEFAULT), 1);
}

void AddOpaqueExtension(X509* certificate, const std::string& oid) {
  Asn1ObjectPtr object(OBJ_txt2obj(oid.c_str(), 1));
  Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
  const std::array<unsigned char, 2> empty_sequence = {0x30, 0x00};
  ASSERT_EQ(ASN1_OCTET_STRING_set(value.get(), empty_sequence.data(), empty_sequence.size()), 1);
  X509ExtensionPtr extension(X509_EXTENSION_create_by_OBJ(nullptr, object.get(), 1, value.get()));
  EXPECT_EQ(X509_add_ext(certificate, extension.get(), -1), 1);
}

void AddConfExtension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer != nullptr ? issuer : certificate, certificate, nullptr, nullptr,
                 0);
  X509ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, &context, nid, value));
  ASSERT_TRUE(extension) << value;
  EXPECT_EQ(X509_add_ext(certificate, extension.get(), -1), 1);
}

Bytes Coordinate(EVP_PKEY* key, const char* param) {
  BIGNUM* raw = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, param, &raw), 1);
  BignumPtr number(raw);
  Bytes out(static_cast<std::size_t>(BN_num_bytes(number.get())));
  BN_bn2bin(number.get(), out.data());
  return out;
}

}  // namespace

EvpPkeyPtr MakeEcKey(const char* group) {
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group));
}

EvpPkeyPtr MakeRsaKey(unsigned int bits) {
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}

CertificateSpec CaSpec(const std::string& name) {
  CertificateSpec spec;
  spec.common_name = name;
  spec.is_ca = true;
  spec.not_after = TimePoint(std::chrono::seconds(4102444800));
  return spec;
}

X509Ptr MakeCertificate(const CertificateSpec& spec, EVP_PKEY* key, X509* issuer,
                        EVP_PKEY* issuer_key) {
  X509Ptr certificate(X509_new());
  X509_set_version(certificate.get(), X509_VERSION_3);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), serial++);
  X509_NAME* subject = X509_get_subject_name(certificate.get());
  if (!spec.common_name.empty()) {
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                               -1, 0);
  }
  X509_set_issuer_name(certificate.get(),
                       issuer != nullptr ? X509_get_subject_name(issuer) : subject);
  ASN1_TIME_set(X509_getm_notBefore(certificate.get()),
                std::chrono::system_clock::to_time_t(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(certificate.get()),
                std::chrono::system_clock::to_time_t(spec.not_after));
  X509_set_pubkey(certificate.get(), key);
  AddConfExtension(certificate.get(), issuer, NID_subject_key_identifier, "hash");
  if (!spec.is_ca) {
    AddConfExtension(certificate.get(), issuer, NID_authority_key_identifier, "keyid");
  }
  if (!spec.omit_basic_constraints) {
    AddConfExtension(certificate.get(), issuer, NID_basic_constraints,
                     spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  }
  std::string key_usage = spec.key_usage;
  if (key_usage.empty()) {
    key_usage = spec.is_ca                       ? "critical,keyCertSign,cRLSign"
                : EVP_PKEY_is_a(key, "RSA") == 1 ? "critical,keyEncipherment"
                                                 : "critical,keyAgreement";
  }
  if (key_usage != "none") {
    AddConfExtension(certificate.get(), issuer, NID_key_usage, key_usage.c_str());
  }
  if (!spec.crl_distribution_point.empty()) {
    AddConfExtension(certificate.get(), issuer, NID_crl_distribution_points,
                     ("URI:" + spec.crl_distribution_point).c_str());
  }
  if (!spec.tpm_manufacturer.empty()) AddTpmAttributes(certificate.get(), spec);
  for (const std::string& oid : spec.critical_extensions) {
    AddOpaqueExtension(certificate.get(), oid);
  }
  EXPECT_GT(X509_sign(certificate.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()),
            0);
  return certificate;
}

Bytes ToDer(X509* certificate) {
  const int length = i2d_X509(certificate, nullptr);
  Bytes der(static_cast<std::size_t>(std::max(length, 0)));
  unsigned char* cursor = der.data();
  EXPECT_EQ(i2d_X509(certificate, &cursor), length);
  return der;
}

std::string ToPem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), certificate);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

X509CrlPtr MakeCrl(const CrlSpec& spec, X509* issuer, EVP_PKEY* signing_key) {
  X509CrlPtr crl(X509_CRL_new());
  EXPECT_EQ(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2), 1);
  EXPECT_EQ(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)), 1);
  Asn1TimePtr this_update(
      ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(spec.this_update)));
  EXPECT_EQ(X509_CRL_set1_lastUpdate(crl.get(), this_update.get()), 1);
  if (spec.next_update) {
    Asn1TimePtr next_update(
        ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(*spec.next_update)));
    EXPECT_EQ(X509_CRL_set1_nextUpdate(crl.get(), next_update.get()), 1);
  }
  for (const RevokedEntry& entry : spec.revoked) {
    X509_REVOKED* revoked = X509_REVOKED_new();
    Asn1IntegerPtr serial(ASN1_INTEGER_dup(X509_get0_serialNumber(entry.certificate)));
    EXPECT_EQ(X509_REVOKED_set_serialNumber(revoked, serial.get()), 1);
    EXPECT_EQ(X509_REVOKED_set_revocationDate(revoked, this_update.get()), 1);
    if (entry.reason >= 0) {
      Asn1EnumeratedPtr reason(ASN1_ENUMERATED_new());
      ASN1_ENUMERATED_set(reason.get(), entry.reason);
      EXPECT_EQ(X509_REVOKED_add1_ext_i2d(revoked, NID_crl_reason, reason.get(), 0, 0), 1);
    }
    EXPECT_EQ(X509_CRL_add0_revoked(crl.get(), revoked), 1);
  }
  const bool has_scope = !spec.distribution_point_uri.empty() || spec.only_user_certificates ||
                         spec.only_ca_certificates || spec.only_some_reasons;
  if (has_scope) {
    IssuingDistPointPtr scope(ISSUING_DIST_POINT_new());
    scope->onlyuser = spec.only_user_certificates ? 0xff : 0;
    scope->onlyCA = spec.only_ca_certificates ? 0xff : 0;
    if (spec.only_some_reasons) {
      scope->onlysomereasons = ASN1_BIT_STRING_new();
      ASN1_BIT_STRING_set_bit(scope->onlysomereasons, 1, 1);  // keyCompromise
    }
    if (!spec.distribution_point_uri.empty()) {
      scope->distpoint = DIST_POINT_NAME_new();
      scope->distpoint->type = 0;
      scope->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
      GENERAL_NAME* name = GENERAL_NAME_new();
      ASN1_IA5STRING* uri = ASN1_IA5STRING_new();
      ASN1_STRING_set(uri, spec.distribution_point_uri.data(),
                      static_cast<int>(spec.distribution_point_uri.size()));
      GENERAL_NAME_set0_value(name, GEN_URI, uri);
      sk_GENERAL_NAME_push(scope->distpoint->name.fullname, name);
    }
    EXPECT_EQ(X509_CRL_add1_ext_i2d(crl.get(), NID_issuing_distribution_point, scope.get(), 1,
                                    X509V3_ADD_DEFAULT),
              1);
  }
  if (spec.delta) {
    Asn1IntegerPtr base(ASN1_INTEGER_new());
    ASN1_INTEGER_set(base.get(), 1);
    EXPECT_EQ(X509_CRL_add1_ext_i2d(crl.get(), NID_delta_crl, base.get(), 1, X509V3_ADD_DEFAULT),
              1);
  }
  EXPECT_EQ(X509_CRL_sort(crl.get()), 1);
  EXPECT_GT(X509_CRL_sign(crl.get(), signing_key, EVP_sha256()), 0);
  return crl;
}

Bytes ToDer(X509_CRL* crl) {
  const int length = i2d_X509_CRL(crl, nullptr);
  Bytes der(static_cast<std::size_t>(std::max(length, 0)));
  unsigned char* cursor = der.data();
  EXPECT_EQ(i2d_X509_CRL(crl, &cursor), length);
  return der;
}

std::string ToPem(X509_CRL* crl) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), crl);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

Bytes EkPublicFor(EVP_PKEY* key) {
  TPM2B_PUBLIC ek{};
  TPMT_PUBLIC& area = ek.publicArea;
  area.nameAlg = TPM2_ALG_SHA256;
  area.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                          TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  TPMT_SYM_DEF_OBJECT symmetric{};
  symmetric.algorithm = TPM2_ALG_AES;
  symmetric.keyBits.aes = 128;
  symmetric.mode.aes = TPM2_ALG_CFB;
  if (EVP_PKEY_is_a(key, "RSA") == 1) {
    area.type = TPM2_ALG_RSA;
    area.parameters.rsaDetail.symmetric = symmetric;
    area.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    area.parameters.rsaDetail.keyBits = static_cast<TPMI_RSA_KEY_BITS>(EVP_PKEY_get_bits(key));
    area.parameters.rsaDetail.exponent = 0;
    Bytes modulus = Coordinate(key, OSSL_PKEY_PARAM_RSA_N);
    area.unique.rsa.size = static_cast<std::uint16_t>(modulus.size());
    std::copy(modulus.begin(), modulus.end(), area.unique.rsa.buffer);
  } else {
    area.type = TPM2_ALG_ECC;
    const bool p384 = EVP_PKEY_get_bits(key) == 384;
    if (p384) {
      area.nameAlg = TPM2_ALG_SHA384;
      symmetric.keyBits.aes = 256;
    }
    area.parameters.eccDetail.symmetric = symmetric;
    area.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    area.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    area.parameters.eccDetail.curveID = p384 ? TPM2_ECC_NIST_P384 : TPM2_ECC_NIST_P256;
    Bytes x = Coordinate(key, OSSL_PKEY_PARAM_EC_PUB_X);
    Bytes y = Coordinate(key, OSSL_PKEY_PARAM_EC_PUB_Y);
    area.unique.ecc.x.size = static_cast<std::uint16_t>(x.size());
    std::copy(x.begin(), x.end(), area.unique.ecc.x.buffer);
    area.unique.ecc.y.size = static_cast<std::uint16_t>(y.size());
    std::copy(y.begin(), y.end(), area.unique.ecc.y.buffer);
  }
  return tpm::MarshalPublic(ek);
}

}  // namespace attest::verifier::test
