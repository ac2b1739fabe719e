// What the CA tests share: a temp dir, the openssl command line (the tool
// an operator and a relying party check our certificates with), CSRs made
// by it or through the OpenSSL API, and certificates read back for
// field-by-field checks.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "attest/openssl.h"
#include "attest/testing/test_support.h"

namespace attest::verifier::test {

class CaTest : public ::testing::Test {
 protected:
  std::string File(const std::string& name) const { return dir_.File(name); }
  // `openssl ARGS...`; the test fails when it exits non-zero.
  std::string Openssl(const std::vector<std::string>& args);
  // The same, for checks expected to fail: the exit code and the output.
  attest::test::CommandResult OpensslMayFail(const std::vector<std::string>& args);
  // A CSR made by `openssl req -new` with a fresh key `-newkey SPEC`
  // ("ec -pkeyopt ec_paramgen_curve:P-256" as separate words, "rsa:2048"),
  // the key written to `key_name`; extra args such as -subj go at the end.
  std::string OpensslCsr(const std::vector<std::string>& newkey, const std::string& key_name,
                         const std::vector<std::string>& extra = {});
  // An operator's PKI made with openssl: root.pem/root.key (self-signed CA),
  // intermediate.pem/intermediate.key (pathlen 0), leaf.pem/leaf.key (not a
  // CA), all keys 0600.
  void MakeOperatorPki();
  void WriteFile(const std::string& name, const std::string& text) const;

 private:
  attest::test::TempDir dir_{"ca_test"};
};

// A PKCS#10 PEM for `key`, signed by it with SHA-256, subject CN=`cn`.
std::string MakeCsr(EVP_PKEY* key, const std::string& cn = "node");
X509Ptr ParseCertificate(const std::string& pem);
EvpPkeyPtr ReadPrivateKeyFile(const std::string& path);

}  // namespace attest::verifier::test
