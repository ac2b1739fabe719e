#include "test_certificates.h"

#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "attest/openssl.h"

namespace attest::http::test {
namespace {

// Made in-process with OpenSSL (the openssl CLI took seconds per test
// binary start on a loaded machine, and every ctest test is one).
struct Issued {
  X509Ptr certificate;
  EvpPkeyPtr key;
};

using Extensions = std::vector<std::pair<int, const char*>>;

bool AddExtensions(X509* certificate, X509* issuer, const Extensions& extensions) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* extension = X509V3_EXT_nconf_nid(nullptr, &context, nid, value);
    if (extension == nullptr) return false;
    bool added = X509_add_ext(certificate, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    if (!added) return false;
  }
  return true;
}

// A P-256 certificate for `name`, signed by `issuer` (self-signed without).
Issued Issue(const std::string& name, const Issued* issuer, const Extensions& extensions) {
  static long serial = 1;
  Issued issued{X509Ptr(X509_new()), EvpPkeyPtr(EVP_EC_gen("P-256"))};
  X509* certificate = issued.certificate.get();
  X509_set_version(certificate, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial++);
  X509_gmtime_adj(X509_getm_notBefore(certificate), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 2 * 86400);
  X509_NAME* subject = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer->certificate.get() : certificate;
  X509_set_issuer_name(certificate, X509_get_subject_name(signer));
  X509_set_pubkey(certificate, issued.key.get());
  EXPECT_TRUE(AddExtensions(certificate, signer, extensions)) << name;
  EVP_PKEY* signing_key = issuer ? issuer->key.get() : issued.key.get();
  EXPECT_GT(X509_sign(certificate, signing_key, EVP_sha256()), 0) << name;
  return issued;
}

void Write(const Issued& issued, const std::string& certificate_path, const std::string& key_path) {
  BioPtr certificate_file(BIO_new_file(certificate_path.c_str(), "w"));
  ASSERT_TRUE(certificate_file);
  ASSERT_EQ(PEM_write_bio_X509(certificate_file.get(), issued.certificate.get()), 1);
  BioPtr key_file(BIO_new_file(key_path.c_str(), "w"));
  ASSERT_TRUE(key_file);
  ASSERT_EQ(PEM_write_bio_PrivateKey(key_file.get(), issued.key.get(), nullptr, nullptr, 0, nullptr,
                                     nullptr),
            1);
  chmod(key_path.c_str(), 0600);  // the server reads keys only when private
}

const Extensions kCa = {{NID_basic_constraints, "critical,CA:TRUE"},
                        {NID_key_usage, "critical,keyCertSign,cRLSign"},
                        {NID_subject_key_identifier, "hash"}};
const Extensions kServer = {{NID_basic_constraints, "CA:FALSE"},
                            {NID_subject_alt_name, "IP:127.0.0.1"},
                            {NID_ext_key_usage, "serverAuth"},
                            {NID_authority_key_identifier, "keyid"}};
const Extensions kClient = {{NID_basic_constraints, "CA:FALSE"},
                            {NID_ext_key_usage, "clientAuth"},
                            {NID_authority_key_identifier, "keyid"}};

}  // namespace

void MakeTestPki(TestPki& pki) {
  pki.server_ca = pki.dir.File("server-ca.pem");
  pki.server_chain = pki.dir.File("server.pem");
  pki.server_key = pki.dir.File("server.key");
  pki.client_ca = pki.dir.File("client-ca.pem");
  pki.client_chain = pki.dir.File("client.pem");
  pki.client_key = pki.dir.File("client.key");
  pki.stranger_chain = pki.dir.File("stranger.pem");
  pki.stranger_key = pki.dir.File("stranger.key");

  Issued server_ca = Issue("server-ca", nullptr, kCa);
  Write(server_ca, pki.server_ca, pki.dir.File("server-ca.key"));
  Write(Issue("server", &server_ca, kServer), pki.server_chain, pki.server_key);
  Issued client_ca = Issue("client-ca", nullptr, kCa);
  Write(client_ca, pki.client_ca, pki.dir.File("client-ca.key"));
  Write(Issue("client", &client_ca, kClient), pki.client_chain, pki.client_key);
  Issued stranger_ca = Issue("stranger-ca", nullptr, kCa);
  Write(Issue("stranger", &stranger_ca, kClient), pki.stranger_chain, pki.stranger_key);
}

}  // namespace attest::http::test
