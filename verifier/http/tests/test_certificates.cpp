#include "test_certificates.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace attest::http::test {
namespace {

using attest::test::RunCommand;

void Run(const std::vector<std::string>& argv) {
  auto result = RunCommand(argv);
  ASSERT_EQ(result.exit_code, 0) << argv[1] << " " << argv[2] << ": " << result.err;
}

// A self-signed P-256 CA.
void MakeCa(const TestPki& pki, const std::string& name) {
  Run({"openssl",
       "req",
       "-x509",
       "-newkey",
       "ec",
       "-pkeyopt",
       "ec_paramgen_curve:P-256",
       "-nodes",
       "-keyout",
       pki.dir.File(name + ".key"),
       "-out",
       pki.dir.File(name + ".pem"),
       "-days",
       "2",
       "-subj",
       "/CN=" + name,
       "-addext",
       "basicConstraints=critical,CA:TRUE",
       "-addext",
       "keyUsage=critical,keyCertSign,cRLSign"});
}

// A P-256 leaf issued by `ca` with the given extensions; key mode 0600.
void MakeLeaf(const TestPki& pki, const std::string& ca, const std::string& name,
              const std::string& extensions) {
  std::string ext_file = pki.dir.File(name + ".ext");
  attest::test::WriteText(ext_file, extensions);
  Run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", pki.dir.File(name + ".key"), "-out", pki.dir.File(name + ".csr"), "-subj",
       "/CN=" + name});
  Run({"openssl", "x509", "-req", "-in", pki.dir.File(name + ".csr"), "-CA",
       pki.dir.File(ca + ".pem"), "-CAkey", pki.dir.File(ca + ".key"), "-CAcreateserial", "-out",
       pki.dir.File(name + ".pem"), "-days", "2", "-extfile", ext_file});
  chmod(pki.dir.File(name + ".key").c_str(), 0600);
}

}  // namespace

void MakeTestPki(TestPki& pki) {
  MakeCa(pki, "server-ca");
  MakeLeaf(pki, "server-ca", "server",
           "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");
  MakeCa(pki, "client-ca");
  MakeLeaf(pki, "client-ca", "client", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
  MakeCa(pki, "stranger-ca");
  MakeLeaf(pki, "stranger-ca", "stranger",
           "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
  pki.server_ca = pki.dir.File("server-ca.pem");
  pki.server_chain = pki.dir.File("server.pem");
  pki.server_key = pki.dir.File("server.key");
  pki.client_ca = pki.dir.File("client-ca.pem");
  pki.client_chain = pki.dir.File("client.pem");
  pki.client_key = pki.dir.File("client.key");
  pki.stranger_chain = pki.dir.File("stranger.pem");
  pki.stranger_key = pki.dir.File("stranger.key");
}

}  // namespace attest::http::test
