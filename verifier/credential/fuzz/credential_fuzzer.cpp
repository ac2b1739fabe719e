// Fuzzes what enrollment takes from the network: an EK certificate (DER,
// checked against a CA bundle and an EK) and an EK public area (marshaled
// TPM2B_PUBLIC, given to MakeCredential). Nothing may crash, and nothing
// but a real chain to the bundle may verify.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include "attest/openssl.h"
#include "attest/verifier/ek_certificate.h"
#include "attest/verifier/make_credential.h"

namespace {

// A self-signed CA that has signed nothing: no fuzzed input can chain to
// it, so every verification must fail.
const attest::verifier::EkCaBundle& Bundle() {
  static const attest::verifier::EkCaBundle bundle = [] {
    attest::EvpPkeyPtr key(EVP_EC_gen("P-256"));
    attest::X509Ptr ca(X509_new());
    X509_set_version(ca.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(ca.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(ca.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(ca.get()), 3600);
    X509_NAME* name = X509_get_subject_name(ca.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("fuzz CA"), -1, -1, 0);
    X509_set_issuer_name(ca.get(), name);
    X509_set_pubkey(ca.get(), key.get());
    X509_sign(ca.get(), key.get(), EVP_sha256());
    std::string path = "/tmp/credential_fuzzer_ca_" + std::to_string(getpid()) + ".pem";
    FILE* file = std::fopen(path.c_str(), "w");
    if (file == nullptr || PEM_write_X509(file, ca.get()) != 1) std::abort();
    std::fclose(file);
    auto loaded = attest::verifier::EkCaBundle::Load(path);
    std::remove(path.c_str());
    if (!loaded.ok()) std::abort();
    return std::move(loaded).value();
  }();
  return bundle;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  attest::ByteView bytes(data, size);
  auto verified = attest::verifier::VerifyEkCertificate(bytes, bytes, Bundle());
  if (verified.ok()) {
    std::fprintf(stderr, "a certificate verified against a CA that signed nothing\n");
    std::abort();
  }
  const std::uint8_t secret[16] = {1, 2, 3};
  const std::uint8_t name[34] = {0x00, 0x0b, 9};
  (void)attest::verifier::MakeCredential(bytes, attest::ByteView(secret, sizeof(secret)),
                                         attest::ByteView(name, sizeof(name)));
  return 0;
}
