#include "ca_test_support.h"

#include <fstream>
#include <stdexcept>

#include <openssl/pem.h>
#include <sys/stat.h>

namespace attest::verifier::test {

using attest::test::CommandResult;
using attest::test::RunCommand;

namespace {

// Extensions for the operator PKI the Load tests use.
constexpr char kOpensslConfig[] = R"([req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[intermediate]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
)";

}  // namespace

std::string CaTest::Openssl(const std::vector<std::string>& args) {
  CommandResult result = OpensslMayFail(args);
  EXPECT_EQ(result.exit_code, 0) << "openssl " << args.front() << ": " << result.err;
  return result.out;
}

CommandResult CaTest::OpensslMayFail(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

std::string CaTest::OpensslCsr(const std::vector<std::string>& newkey, const std::string& key_name,
                               const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"req", "-new", "-newkey"};
  args.insert(args.end(), newkey.begin(), newkey.end());
  args.insert(args.end(), {"-nodes", "-keyout", File(key_name), "-out", File(key_name + ".csr")});
  if (extra.empty()) {
    args.insert(args.end(), {"-subj", "/CN=node"});
  } else {
    args.insert(args.end(), extra.begin(), extra.end());
  }
  Openssl(args);
  return attest::test::ReadText(File(key_name + ".csr"));
}

void CaTest::WriteFile(const std::string& name, const std::string& text) const {
  attest::test::WriteText(File(name), text);
}

void CaTest::MakeOperatorPki() {
  WriteFile("pki.cnf", kOpensslConfig);
  const std::vector<std::string> p256 = {
      "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-config", File("pki.cnf")};
  auto req = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 1, p256.begin(), p256.end());
    Openssl(args);
  };
  req({"req", "-x509", "-extensions", "root", "-days", "30", "-subj", "/CN=operator root",
       "-keyout", File("root.key"), "-out", File("root.pem")});
  for (const std::string name : {"intermediate", "leaf"}) {
    req({"req", "-new", "-subj", "/CN=operator " + name, "-keyout", File(name + ".key"), "-out",
         File(name + ".csr")});
    Openssl({"x509", "-req", "-in", File(name + ".csr"), "-CA", File("root.pem"), "-CAkey",
             File("root.key"), "-set_serial", name == "leaf" ? "3" : "2", "-days", "30", "-extfile",
             File("pki.cnf"), "-extensions", name, "-out", File(name + ".pem")});
  }
  for (const std::string name : {"root", "intermediate", "leaf"}) {
    ASSERT_EQ(::chmod(File(name + ".key").c_str(), 0600), 0);
  }
}

std::string MakeCsr(EVP_PKEY* key, const std::string& cn) {
  X509ReqPtr request(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(request.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  if (X509_REQ_set_pubkey(request.get(), key) != 1 ||
      X509_REQ_sign(request.get(), key, EVP_sha256()) <= 0) {
    throw std::runtime_error("sign CSR");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), request.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

X509Ptr ParseCertificate(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!certificate) throw std::runtime_error("parse certificate");
  return certificate;
}

EvpPkeyPtr ReadPrivateKeyFile(const std::string& path) {
  const std::string pem = attest::test::ReadText(path);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw std::runtime_error("parse private key " + path);
  return key;
}

}  // namespace attest::verifier::test
