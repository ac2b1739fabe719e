// The TLS settings of attest_http in one place: server and client contexts
// (TLS 1.2 and 1.3 only, ECDHE + AEAD suites for 1.2, no compression, no
// renegotiation) and the peer certificate as PEM. Internal: includes asio.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <openssl/ssl.h>

#include "attest/error.h"

#include <boost/asio/ssl/context.hpp>

namespace attest::http {

struct ServerTlsFiles {
  std::string certificate_chain_path;
  std::string private_key_path;
  std::optional<std::string> client_ca_path;  // mutual TLS when set
};

// Loads the chain, the key (checked to match) and the client CA bundle.
// Errors name the file that failed.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerContext(const ServerTlsFiles& files);

struct ClientTlsFiles {
  std::string ca_bundle_path;
  std::optional<std::string> certificate_chain_path;
  std::optional<std::string> private_key_path;
};

Result<std::unique_ptr<boost::asio::ssl::context>> MakeClientContext(const ClientTlsFiles& files);

// Makes `ssl` check that the server's certificate names `host` (an IP SAN
// when `host` is an IP address, a DNS name otherwise) and sends SNI for a
// name.
Status ExpectServerName(SSL* ssl, const std::string& host);

// The certificate the peer presented and OpenSSL verified, as PEM; nullopt
// when it presented none.
std::optional<std::string> VerifiedPeerCertificatePem(SSL* ssl);

}  // namespace attest::http
