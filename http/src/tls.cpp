#include "tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "attest/file.h"
#include "attest/openssl.h"

namespace attest::http {
namespace ssl = boost::asio::ssl;

namespace {

// Mozilla's "intermediate" TLS 1.2 suites without DHE: forward secret and
// authenticated encryption only. TLS 1.3's suites are all AEAD already.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr std::size_t kMaxPemBytes = 1 << 20;

Status CommonSettings(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return OpensslError("set TLS versions");
  }
  // SSL_OP_NO_RENEGOTIATION refuses TLS 1.2 renegotiation both ways (1.3
  // has none); compression invites CRIME.
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return OpensslError("set TLS 1.2 ciphers");
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) return OpensslError("set key exchange groups");
  return OkStatus();
}

// Reads the file first so a missing or unreadable file is reported by name
// with the OS's reason, not as an OpenSSL PEM error.
Status LoadChain(SSL_CTX* ctx, const std::string& path) {
  ATTEST_RETURN_IF_ERROR(ReadFile(path, kMaxPemBytes));
  if (SSL_CTX_use_certificate_chain_file(ctx, path.c_str()) != 1) {
    return OpensslError("load certificate chain " + path, ErrorCode::kInvalidArgument);
  }
  return OkStatus();
}

Status LoadKey(SSL_CTX* ctx, const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes pem, ReadSecretFile(path, kMaxPemBytes));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpensslError("read private key " + path);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return OpensslError("parse private key " + path, ErrorCode::kInvalidArgument);
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return OpensslError("private key " + path + " does not match the certificate",
                        ErrorCode::kInvalidArgument);
  }
  return OkStatus();
}

Status LoadVerifyBundle(SSL_CTX* ctx, const std::string& path) {
  ATTEST_RETURN_IF_ERROR(ReadFile(path, kMaxPemBytes));
  if (SSL_CTX_load_verify_file(ctx, path.c_str()) != 1) {
    return OpensslError("load CA bundle " + path, ErrorCode::kInvalidArgument);
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<ssl::context>> MakeServerContext(const ServerTlsFiles& files) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  ATTEST_RETURN_IF_ERROR(CommonSettings(ctx));
  ATTEST_RETURN_IF_ERROR(LoadChain(ctx, files.certificate_chain_path));
  ATTEST_RETURN_IF_ERROR(LoadKey(ctx, files.private_key_path));
  if (files.client_ca_path) {
    ATTEST_RETURN_IF_ERROR(LoadVerifyBundle(ctx, *files.client_ca_path));
    // Tell clients which CAs we accept, so one with several certificates
    // picks the right one.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_path->c_str());
    if (names == nullptr) return OpensslError("read CA names of " + *files.client_ca_path);
    SSL_CTX_set_client_CA_list(ctx, names);
    // A presented certificate must verify; none at all is allowed (tokens
    // then authenticate), so no SSL_VERIFY_FAIL_IF_NO_PEER_CERT.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    // Resumed sessions carry the verified peer certificate; OpenSSL refuses
    // to resume a verified session without a session id context.
    static constexpr unsigned char kSessionContext[] = "attest-verifier";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  }
  return context;
}

Result<std::unique_ptr<ssl::context>> MakeClientContext(const ClientTlsFiles& files) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  ATTEST_RETURN_IF_ERROR(CommonSettings(ctx));
  ATTEST_RETURN_IF_ERROR(LoadVerifyBundle(ctx, files.ca_bundle_path));
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (files.certificate_chain_path.has_value() != files.private_key_path.has_value()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a client certificate needs both its chain and its private key");
  }
  if (files.certificate_chain_path) {
    ATTEST_RETURN_IF_ERROR(LoadChain(ctx, *files.certificate_chain_path));
    ATTEST_RETURN_IF_ERROR(LoadKey(ctx, *files.private_key_path));
  }
  return context;
}

Status ExpectServerName(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  // An IP address must appear as an IP SAN; set1_ip_asc fails on a name.
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1) return OkStatus();
  ERR_clear_error();
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) {
    return OpensslError("expect server name " + host, ErrorCode::kInvalidArgument);
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return OpensslError("set SNI " + host);
  return OkStatus();
}

std::optional<std::string> VerifiedPeerCertificatePem(SSL* ssl) {
  X509Ptr certificate(SSL_get1_peer_certificate(ssl));
  if (!certificate || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate.get()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace attest::http
