// Certificates for the HTTPS tests, made with OpenSSL in a temp
// dir: a server CA and a server certificate for IP 127.0.0.1, a client CA
// with one client certificate, and a second, unrelated CA with another.
#pragma once

#include <string>

#include "attest/testing/test_support.h"

namespace attest::http::test {

struct TestPki {
  attest::test::TempDir dir{"attest_http_pki"};
  std::string server_ca;  // PEM paths
  std::string server_chain;
  std::string server_key;
  std::string client_ca;
  std::string client_chain;
  std::string client_key;
  std::string stranger_chain;  // issued by a CA the server does not trust
  std::string stranger_key;
};

// Fails the calling test when OpenSSL does.
void MakeTestPki(TestPki& pki);

}  // namespace attest::http::test
