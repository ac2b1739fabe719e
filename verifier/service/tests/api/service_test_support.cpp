#include "service_test_support.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <fstream>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "attest/encoding.h"
#include "attest/ledger/ledger.h"
#include "attest/service/operations.h"
#include "attest/tpm/algorithms.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"
#include "attest/verifier/policy.h"

#include "kdf.h"
#include "openapi_validator.h"
#include "test_certificates.h"

namespace attest::service::test {
namespace {

Bytes BytesOf(const std::uint8_t* data, std::size_t size) { return Bytes(data, data + size); }

// The seed of an ECC EK's credential, as the TPM recovers it (ECDH, KDFe).
Result<Bytes> RecoverSeed(EVP_PKEY* ek_private, const TPMT_PUBLIC& ek,
                          const tpm::HashAlgorithm& hash, ByteView encrypted) {
  ATTEST_ASSIGN_OR_RETURN(
      auto point, tpm::Unmarshal<TPMS_ECC_POINT>(encrypted, Tss2_MU_TPMS_ECC_POINT_Unmarshal,
                                                 "TPMS_ECC_POINT"));
  TPMT_PUBLIC ephemeral_area = ek;
  ephemeral_area.unique.ecc = point;
  ATTEST_ASSIGN_OR_RETURN(auto ephemeral, tpm::PublicKeyFromTpm(ephemeral_area));
  EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_pkey(nullptr, ek_private, nullptr));
  Bytes z(static_cast<std::size_t>((EVP_PKEY_get_bits(ek_private) + 7) / 8));
  std::size_t z_size = z.size();
  if (EVP_PKEY_derive_init(context.get()) != 1 ||
      EVP_PKEY_derive_set_peer(context.get(), ephemeral.get()) != 1 ||
      EVP_PKEY_derive(context.get(), z.data(), &z_size) != 1) {
    return MakeError(ErrorCode::kCrypto, "ECDH");
  }
  Bytes seed(hash.digest_size);
  ATTEST_RETURN_IF_ERROR(
      verifier::internal::KDFe(hash, z, "IDENTITY", {point.x.buffer, point.x.size},
                               {ek.unique.ecc.x.buffer, ek.unique.ecc.x.size}, seed));
  return seed;
}

// TPM2_ActivateCredential (TPM 2.0 Part 1 §24) in software.
Result<Bytes> SoftwareActivate(EVP_PKEY* ek_private, ByteView ek_public, ByteView blob,
                               ByteView encrypted_secret, ByteView name) {
  ATTEST_ASSIGN_OR_RETURN(TPM2B_PUBLIC ek, tpm::ParsePublic(ek_public));
  const tpm::HashAlgorithm hash = *tpm::HashAlgorithmById(ek.publicArea.nameAlg);
  ATTEST_ASSIGN_OR_RETURN(
      auto secret,
      tpm::Unmarshal<TPM2B_ENCRYPTED_SECRET>(
          encrypted_secret, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal, "TPM2B_ENCRYPTED_SECRET"));
  ATTEST_ASSIGN_OR_RETURN(
      auto id_object,
      tpm::Unmarshal<TPM2B_ID_OBJECT>(blob, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal, "TPM2B_ID_OBJECT"));
  ATTEST_ASSIGN_OR_RETURN(Bytes seed, RecoverSeed(ek_private, ek.publicArea, hash,
                                                  ByteView(secret.secret, secret.size)));
  TPM2B_DIGEST integrity{};
  std::size_t offset = 0;
  if (Tss2_MU_TPM2B_DIGEST_Unmarshal(id_object.credential, id_object.size, &offset, &integrity) !=
      0) {
    return MakeError(ErrorCode::kCorrupt, "integrity");
  }
  Bytes encrypted = BytesOf(id_object.credential + offset, id_object.size - offset);
  Bytes hmac_key(hash.digest_size);
  ATTEST_RETURN_IF_ERROR(verifier::internal::KDFa(hash, seed, "INTEGRITY", {}, {}, hmac_key));
  Bytes hmac_input = encrypted;
  AppendBytes(hmac_input, name);
  Bytes expected(hash.digest_size);
  std::size_t size = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, hash.openssl_name, nullptr, hmac_key.data(), hmac_key.size(),
            hmac_input.data(), hmac_input.size(), expected.data(), expected.size(), &size);
  if (BytesOf(integrity.buffer, integrity.size) != expected) {
    return MakeError(ErrorCode::kVerificationFailed, "integrity HMAC");
  }
  const std::size_t key_bytes = ek.publicArea.parameters.asymDetail.symmetric.keyBits.aes / 8;
  Bytes symmetric_key(key_bytes);
  ATTEST_RETURN_IF_ERROR(verifier::internal::KDFa(hash, seed, "STORAGE", name, {}, symmetric_key));
  std::unique_ptr<EVP_CIPHER, OpensslDeleter<EVP_CIPHER_free>> cipher(
      EVP_CIPHER_fetch(nullptr, key_bytes == 32 ? "AES-256-CFB" : "AES-128-CFB", nullptr));
  std::unique_ptr<EVP_CIPHER_CTX, OpensslDeleter<EVP_CIPHER_CTX_free>> context(
      EVP_CIPHER_CTX_new());
  const std::array<std::uint8_t, 16> iv{};
  Bytes plain(encrypted.size() + 16);
  int written = 0;
  if (EVP_DecryptInit_ex2(context.get(), cipher.get(), symmetric_key.data(), iv.data(), nullptr) !=
          1 ||
      EVP_DecryptUpdate(context.get(), plain.data(), &written, encrypted.data(),
                        static_cast<int>(encrypted.size())) != 1) {
    return MakeError(ErrorCode::kCrypto, "decrypt");
  }
  plain.resize(static_cast<std::size_t>(written));
  ATTEST_ASSIGN_OR_RETURN(
      TPM2B_DIGEST recovered,
      tpm::Unmarshal<TPM2B_DIGEST>(plain, Tss2_MU_TPM2B_DIGEST_Unmarshal, "TPM2B_DIGEST"));
  return BytesOf(recovered.buffer, recovered.size);
}

std::string MakeCsrPem(EVP_PKEY* key, const std::string& cn) {
  std::unique_ptr<X509_REQ, OpensslDeleter<X509_REQ_free>> request(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(request.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(request.get(), key);
  X509_REQ_sign(request.get(), key, EVP_sha256());
  std::unique_ptr<BIO, OpensslDeleter<BIO_free>> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), request.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

SimulatedNode::SimulatedNode(std::string hostname)
    : hostname_(std::move(hostname)),
      ek_(verifier::test::MakeEcKey("P-256")),
      ek_public_(verifier::test::EkPublicFor(ek_.get())),
      boot_log_(verifier::test::ReadFixture("eventlogs/ovmf-sb-on.bin")),
      selection_(tpm::ParsePcrSelection("sha256:0-9,14,15").value()) {
  auto parsed = tpm::ParsePublic(ek_public_);
  node_id_ = tpm::NodeId(parsed->publicArea).value();
}

SimulatedNode::SimulatedNode(std::string hostname, const SimulatedNode& same_tpm)
    : hostname_(std::move(hostname)),
      ek_public_(same_tpm.ek_public_),
      node_id_(same_tpm.node_id_),
      boot_log_(same_tpm.boot_log_),
      selection_(same_tpm.selection_) {
  EVP_PKEY_up_ref(same_tpm.ek_.get());
  ek_.reset(same_tpm.ek_.get());
}

Json SimulatedNode::EnrollmentBody() const {
  return {{"hostname", hostname_},
          {"ek_public", Base64Encode(ek_public_)},
          {"ak_public", Base64Encode(factory_.MarshaledPublic())}};
}

Result<Bytes> SimulatedNode::ActivateCredential(const Json& enrollment) const {
  ATTEST_ASSIGN_OR_RETURN(Bytes blob,
                          Base64Decode(enrollment.at("credential_blob").get<std::string>()));
  ATTEST_ASSIGN_OR_RETURN(Bytes secret,
                          Base64Decode(enrollment.at("encrypted_secret").get<std::string>()));
  return SoftwareActivate(ek_.get(), ek_public_, blob, secret, factory_.LoadedKey().name);
}

verifier::Evidence SimulatedNode::MakeEvidence(const Bytes& nonce, bool with_boot_log,
                                               verifier::QuoteClock clock) const {
  verifier::Evidence evidence = factory_.Make(
      selection_, boot_log_, verifier::test::ExampleRuntimeLog(runtime_entries_), nonce, clock);
  if (!with_boot_log) evidence.boot_log.reset();
  return evidence;
}

verifier::Evidence SimulatedNode::MakeEvidenceFrom(const Bytes& nonce, std::uint64_t runtime_start,
                                                   bool with_boot_log,
                                                   verifier::QuoteClock clock) const {
  verifier::Evidence evidence = MakeEvidence(nonce, with_boot_log, clock);
  std::vector<runtime::RuntimeEntry>& entries = evidence.runtime_log->entries;
  entries.erase(entries.begin(),
                entries.begin() + static_cast<std::ptrdiff_t>(
                                      std::min<std::uint64_t>(runtime_start, entries.size())));
  evidence.runtime_log_start = runtime_start;
  return evidence;
}

void SimulatedNode::AddCertificateRequest(verifier::Evidence& evidence, bool with_proof) const {
  verifier::test::SoftwareSigningKey key = verifier::test::MakeSoftwareSigningKey();
  evidence.csr = MakeCsrPem(key.key.get(), node_id_);
  if (with_proof) evidence.key_certification = factory_.Certify(key.public_area, evidence.nonce);
}

std::string SimulatedNode::EvidenceText(const verifier::Evidence& evidence) const {
  return verifier::EvidenceToJson(evidence).value().dump();
}

std::string Str(const http::Response& response) {
  return std::to_string(response.status) + " " + response.body;
}

void ServiceTest::SetUp() {
  for (const char* host : {"node-a.example", "node-b.example"}) {
    nodes_.push_back(std::make_unique<SimulatedNode>(host));
  }
  state_dir_ = dir_.File("state");
  InitOptions init;
  init.state_dir = state_dir_;
  init.ledger_origin = "test/attest-verifier";
  auto token = InitStateDirectory(init, clock_);
  ASSERT_TRUE(token.ok()) << token.error().ToString();
  admin_token_ = *token;

  // A policy allowing exactly what the simulated nodes show, or will once
  // they measure more runtime files (MeasureMore).
  SimulatedNode& model = *nodes_[0];
  verifier::Evidence sample = model.MakeEvidence(Bytes(32, 1));
  verifier::Policy policy = verifier::test::PolicyFor(sample, model.factory().LoadedKey());
  for (const runtime::RuntimeEntry& entry :
       verifier::test::ExampleRuntimeLog(SimulatedNode::kMaxRuntimeEntries).entries) {
    policy.runtime.allowed_digests.insert(entry.sha256);
  }
  policy.trust_domain = "example.org";
  std::ofstream(dir_.File("policy.json")) << verifier::PolicyToJson(policy).dump(2);
  std::ofstream allowlist(dir_.File("allowlist"));
  for (const auto& node : nodes_) allowlist << node->node_id() << "\n";
  allowlist.close();

  config_.state_dir = state_dir_;
  config_.policy_file = dir_.File("policy.json");
  config_.ek_allowlist = dir_.File("allowlist");
  config_.rate_limit.per_second = 1000;
  config_.rate_limit.burst = 1000;
  Open();
}

void ServiceTest::TearDown() { Close(); }

void ServiceTest::StartServer() {
  config_.listen = "127.0.0.1:0";
  http::ServerOptions options = ServerOptionsFor(config_, *service_);
  Service* service = service_.get();
  auto server = http::Server::Start(
      options, [service](const http::Request& request) { return service->Handle(request); });
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  server_ = std::move(server).value();
  http::ClientOptions client;
  client.port = server_->port();
  client.ca_bundle_path = state_dir_ + "/ca.pem";
  auto connected = http::Client::Connect(client);
  ASSERT_TRUE(connected.ok()) << connected.error().ToString();
  client_ = std::move(connected).value();
}

void ServiceTest::Open() {
  Close();
  auto opened = Service::Open(config_, clock_);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  service_ = std::move(opened).value();
}

void ServiceTest::Close() {
  if (service_) service_->Shutdown();
  service_.reset();
}

http::Response ServiceTest::Call(const std::string& method, const std::string& target,
                                 const std::string& body, const std::string& token,
                                 const std::string& client_address) {
  http::Request request;
  request.method = method;
  request.target = target;
  std::size_t question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string::npos) {
    std::string query = target.substr(question + 1);
    std::size_t start = 0;
    while (start < query.size()) {
      std::size_t amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      std::string pair = query.substr(start, amp - start);
      std::size_t eq = pair.find('=');
      request.query.emplace_back(pair.substr(0, eq),
                                 eq == std::string::npos ? "" : pair.substr(eq + 1));
      start = amp + 1;
    }
  }
  request.body = body;
  request.client_address = client_address;
  if (!token.empty()) request.headers.emplace_back("authorization", "Bearer " + token);
  http::Response response = service_->Handle(request);
  ExpectFollowsContract(method, target, response.status, response.content_type, response.body);
  return response;
}

void ExpectFollowsContract(const std::string& method, const std::string& target, int status,
                           const std::string& content_type, const std::string& body) {
  static const Result<attest::test::OpenApiContract> contract =
      attest::test::OpenApiContract::Load(ATTEST_OPENAPI_PATH);
  ASSERT_TRUE(contract.ok()) << contract.error().message;
  const std::string path = target.substr(0, target.find('?'));
  Status follows = contract->CheckResponse(method, path, status, content_type, body);
  if (!follows.ok() && (status == 404 || status == 405)) {
    // A route the contract does not have: the answer is still an Error.
    Result<Json> json = ParseJsonStrict(body);
    ASSERT_TRUE(json.ok()) << status << " body is not JSON: " << body;
    follows = contract->CheckAgainst(contract->document()["components"]["schemas"]["Error"], *json);
  }
  EXPECT_TRUE(follows.ok()) << "openapi.yaml: " << follows.error().message;
}

Json ServiceTest::Expect(int status, const std::string& method, const std::string& target,
                         const std::string& body, const std::string& token) {
  http::Response response = Call(method, target, body, token);
  EXPECT_EQ(response.status, status) << method << " " << target << ": " << response.body;
  if (response.content_type != "application/json") return Json(response.body);
  Result<Json> json = ParseJsonStrict(response.body);
  EXPECT_TRUE(json.ok()) << response.body;
  return json.ok() ? *json : Json();
}

std::string ServiceTest::ErrorCodeOf(const http::Response& response) {
  Result<Json> json = ParseJsonStrict(response.body);
  if (!json.ok() || !json->contains("error")) return "(not an error: " + response.body + ")";
  return (*json)["error"]["code"].get<std::string>();
}

std::string ServiceTest::MakeToken(Role role) {
  Json created = Expect(201, "POST", "/v1/tokens",
                        Json{{"role", RoleName(role)}, {"label", "test"}}.dump(), admin_token_);
  return created.value("token", "");
}

Json ServiceTest::Enroll(const SimulatedNode& node) {
  Json enrollment = Expect(201, "POST", "/v1/enrollments", node.EnrollmentBody().dump());
  Result<Bytes> secret = node.ActivateCredential(enrollment);
  EXPECT_TRUE(secret.ok()) << secret.error().ToString();
  if (!secret.ok()) return Json();
  return Expect(200, "POST",
                "/v1/enrollments/" + enrollment["enrollment_id"].get<std::string>() + "/activate",
                Json{{"secret", Base64Encode(*secret)}}.dump());
}

Bytes ServiceTest::Challenge(const SimulatedNode& node) {
  Json challenge = Expect(201, "POST", "/v1/nodes/" + node.node_id() + "/challenges");
  return HexDecode(challenge.value("nonce", "")).value();
}

Json ServiceTest::PostEvidence(const SimulatedNode& node, const verifier::Evidence& evidence,
                               int status) {
  return Expect(status, "POST", "/v1/nodes/" + node.node_id() + "/evidence",
                node.EvidenceText(evidence));
}

Json ServiceTest::Attest(const SimulatedNode& node, bool with_boot_log,
                         verifier::QuoteClock clock) {
  Bytes nonce = Challenge(node);
  return PostEvidence(node, node.MakeEvidence(nonce, with_boot_log, clock));
}

std::vector<std::string> ServiceTest::LedgerKinds() {
  auto ledger = ledger::Ledger::Open(state_dir_ + "/ledger.db", {.read_only = true});
  EXPECT_TRUE(ledger.ok());
  std::vector<std::string> kinds;
  if (!ledger.ok()) return kinds;
  std::uint64_t size = ledger->Size().value();
  for (std::uint64_t seq = 1; seq <= size; ++seq) kinds.push_back(ledger->Get(seq)->content.kind);
  return kinds;
}

}  // namespace attest::service::test
