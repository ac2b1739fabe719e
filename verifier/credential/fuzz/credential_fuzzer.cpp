// Fuzzes what enrollment takes from the network and the bundle it checks
// against: an EK certificate (DER, checked against a CA bundle and an EK),
// an EK public area (marshaled TPM2B_PUBLIC, given to MakeCredential), a
// CA bundle file (PEM or DER certificates and CRLs), and a CRL's content
// (re-signed by a fixed CA, so the revocation rules see it). Nothing may
// crash; nothing but a real chain to the bundle may verify; and a
// certificate a CRL of its issuer lists never verifies.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include "attest/openssl.h"
#include "attest/tpm/public_key.h"
#include "attest/verifier/ek_certificate.h"
#include "attest/verifier/make_credential.h"

namespace {

using attest::Bytes;
using attest::EvpPkeyPtr;
using attest::X509Ptr;
using attest::verifier::EkCaBundle;

const std::string& ScratchFile() {
  static const std::string path = "/tmp/credential_fuzzer_" + std::to_string(getpid()) + ".pem";
  return path;
}

void WriteScratch(const void* data, std::size_t size) {
  FILE* file = std::fopen(ScratchFile().c_str(), "wb");
  if (file == nullptr || std::fwrite(data, 1, size, file) != size) std::abort();
  std::fclose(file);
}

std::string Pem(X509* certificate) {
  attest::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), certificate);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

void AddExtension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_nconf_nid(nullptr, &context, nid, value);
  if (extension == nullptr || X509_add_ext(certificate, extension, -1) != 1) std::abort();
  X509_EXTENSION_free(extension);
}

// Valid from an hour ago for a day: the fuzzer verifies at the system time.
X509Ptr MakeCertificate(const char* name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr certificate(X509_new());
  X509_set_version(certificate.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), issuer == nullptr ? 1 : 2);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 86400);
  X509_NAME* subject = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : certificate.get();
  X509_set_issuer_name(certificate.get(), X509_get_subject_name(signer));
  X509_set_pubkey(certificate.get(), key);
  AddExtension(certificate.get(), signer, NID_basic_constraints,
               issuer == nullptr ? "critical,CA:TRUE" : "critical,CA:FALSE");
  AddExtension(certificate.get(), signer, NID_key_usage,
               issuer == nullptr ? "critical,keyCertSign,cRLSign" : "critical,keyAgreement");
  X509_sign(certificate.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  return certificate;
}

// A marshaled TPM2B_PUBLIC of a P-256 key, shaped like a TCG EK.
Bytes EkPublicFor(EVP_PKEY* key) {
  TPM2B_PUBLIC ek{};
  TPMT_PUBLIC& area = ek.publicArea;
  area.type = TPM2_ALG_ECC;
  area.nameAlg = TPM2_ALG_SHA256;
  area.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                          TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  area.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
  area.parameters.eccDetail.symmetric.keyBits.aes = 128;
  area.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  area.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  area.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  area.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  for (auto [param, coordinate] : {std::pair{OSSL_PKEY_PARAM_EC_PUB_X, &area.unique.ecc.x},
                                   std::pair{OSSL_PKEY_PARAM_EC_PUB_Y, &area.unique.ecc.y}}) {
    BIGNUM* value = nullptr;
    if (EVP_PKEY_get_bn_param(key, param, &value) != 1) std::abort();
    coordinate->size = 32;
    BN_bn2binpad(value, coordinate->buffer, 32);
    BN_free(value);
  }
  return attest::tpm::MarshalPublic(ek);
}

struct Fixture {
  EvpPkeyPtr ca_key{EVP_EC_gen("P-256")};
  EvpPkeyPtr ek_key{EVP_EC_gen("P-256")};
  X509Ptr ca = MakeCertificate("fuzz CA", ca_key.get(), nullptr, nullptr);
  X509Ptr ek = MakeCertificate("fuzz EK", ek_key.get(), ca.get(), ca_key.get());
  Bytes ek_der;
  Bytes ek_public = EkPublicFor(ek_key.get());
  // A CA that has signed nothing: no fuzzed certificate can chain to it.
  EvpPkeyPtr lone_key{EVP_EC_gen("P-256")};
  X509Ptr lone = MakeCertificate("lone CA", lone_key.get(), nullptr, nullptr);
  std::string ca_pem = Pem(ca.get());
  EkCaBundle lone_bundle = [this] {
    const std::string pem = Pem(lone.get());
    WriteScratch(pem.data(), pem.size());
    auto loaded = EkCaBundle::Load(ScratchFile());
    if (!loaded.ok()) std::abort();
    return std::move(loaded).value();
  }();

  Fixture() {
    const int length = i2d_X509(ek.get(), nullptr);
    ek_der.resize(static_cast<std::size_t>(length));
    unsigned char* cursor = ek_der.data();
    i2d_X509(ek.get(), &cursor);
    // The chain verifies without CRLs, so only a CRL can refuse it below.
    WriteScratch(ca_pem.data(), ca_pem.size());
    auto bundle = EkCaBundle::Load(ScratchFile());
    if (!bundle.ok() || !attest::verifier::VerifyEkCertificate(ek_der, ek_public, *bundle).ok()) {
      std::abort();
    }
  }
};

const Fixture& TheFixture() {
  static const Fixture fixture;
  return fixture;
}

// The input's CRL content under the fixture CA's name and signature.
void CheckResignedCrl(const Fixture& fixture, const std::uint8_t* data, std::size_t size) {
  const unsigned char* cursor = data;
  attest::X509CrlPtr crl(d2i_X509_CRL(nullptr, &cursor, static_cast<long>(size)));
  if (!crl) return;
  if (X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(fixture.ca.get())) != 1 ||
      X509_CRL_sign(crl.get(), fixture.ca_key.get(), EVP_sha256()) <= 0) {
    return;
  }
  attest::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), crl.get());
  char* pem = nullptr;
  long length = BIO_get_mem_data(bio.get(), &pem);
  const std::string bundle_text =
      fixture.ca_pem + std::string(pem, static_cast<std::size_t>(length));
  WriteScratch(bundle_text.data(), bundle_text.size());
  auto bundle = EkCaBundle::Load(ScratchFile());
  if (!bundle.ok()) return;
  auto verified = attest::verifier::VerifyEkCertificate(fixture.ek_der, fixture.ek_public, *bundle);
  X509_REVOKED* revoked = nullptr;
  if (verified.ok() && X509_CRL_get0_by_cert(crl.get(), &revoked, fixture.ek.get()) != 0) {
    std::fprintf(stderr, "a certificate its issuer's CRL lists verified\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Fixture& fixture = TheFixture();
  attest::ByteView bytes(data, size);
  auto verified = attest::verifier::VerifyEkCertificate(bytes, bytes, fixture.lone_bundle);
  if (verified.ok()) {
    std::fprintf(stderr, "a certificate verified against a CA that signed nothing\n");
    std::abort();
  }
  const std::uint8_t secret[16] = {1, 2, 3};
  const std::uint8_t name[34] = {0x00, 0x0b, 9};
  (void)attest::verifier::MakeCredential(bytes, attest::ByteView(secret, sizeof(secret)),
                                         attest::ByteView(name, sizeof(name)));
  // The bytes as a CA bundle file.
  WriteScratch(data, size);
  (void)EkCaBundle::Load(ScratchFile());
  CheckResignedCrl(fixture, data, size);
  return 0;
}
