#include "simulated_node.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"
#include "attest/verifier/evidence.h"

#include "software_activate.h"

namespace attest::service::test {
namespace {

using X509ReqPtr = std::unique_ptr<X509_REQ, OpensslDeleter<X509_REQ_free>>;

// TPM2_PolicySecret(TPM_RH_ENDORSEMENT) under SHA-256: the authPolicy of
// the TCG EK Credential Profile's default templates (policy A).
constexpr std::array<std::uint8_t, 32> kEkPolicyA = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

// Setup either works or the node cannot mean anything: fail loudly.
template <typename T>
T Must(Result<T> result, const char* what) {
  if (!result.ok()) throw std::runtime_error(std::string(what) + ": " + result.error().message);
  return std::move(result).value();
}

Bytes BigNumParam(const EVP_PKEY* key, const char* name, std::size_t pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) throw std::runtime_error("EK parameter");
  BignumPtr value(raw);
  Bytes out(pad_to);
  if (BN_bn2binpad(value.get(), out.data(), static_cast<int>(pad_to)) < 0) {
    throw std::runtime_error("EK parameter size");
  }
  return out;
}

// The EK's TPM2B_PUBLIC as the TCG default template makes it: a restricted
// decryption key with AES-128-CFB, SHA-256 name, policy A, no userWithAuth.
Bytes EkPublic(const EVP_PKEY* key, EkKind kind) {
  TPM2B_PUBLIC ek{};
  TPMT_PUBLIC& area = ek.publicArea;
  area.nameAlg = TPM2_ALG_SHA256;
  area.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                          TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  area.authPolicy.size = kEkPolicyA.size();
  std::copy(kEkPolicyA.begin(), kEkPolicyA.end(), area.authPolicy.buffer);
  TPMT_SYM_DEF_OBJECT symmetric{};
  symmetric.algorithm = TPM2_ALG_AES;
  symmetric.keyBits.aes = 128;
  symmetric.mode.aes = TPM2_ALG_CFB;
  if (kind == EkKind::kRsa2048) {
    area.type = TPM2_ALG_RSA;
    area.parameters.rsaDetail.symmetric = symmetric;
    area.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    area.parameters.rsaDetail.keyBits = 2048;
    area.parameters.rsaDetail.exponent = 0;  // 65537
    Bytes modulus = BigNumParam(key, OSSL_PKEY_PARAM_RSA_N, 256);
    area.unique.rsa.size = static_cast<UINT16>(modulus.size());
    std::copy(modulus.begin(), modulus.end(), area.unique.rsa.buffer);
  } else {
    area.type = TPM2_ALG_ECC;
    area.parameters.eccDetail.symmetric = symmetric;
    area.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    area.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    area.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    for (auto [param, out] : {std::pair{OSSL_PKEY_PARAM_EC_PUB_X, &area.unique.ecc.x},
                              std::pair{OSSL_PKEY_PARAM_EC_PUB_Y, &area.unique.ecc.y}}) {
      Bytes coordinate = BigNumParam(key, param, 32);
      out->size = 32;
      std::copy(coordinate.begin(), coordinate.end(), out->buffer);
    }
  }
  return tpm::MarshalPublic(ek);
}

// A PKCS#10 PEM for `key`, signed by it, subject CN=`cn`.
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

Result<Json> ParseBody(const http::ClientResponse& response, std::string_view what) {
  Json body = Json::parse(response.body, nullptr, false);
  if (body.is_discarded()) {
    return MakeError(ErrorCode::kCorrupt, std::string(what) + ": HTTP " +
                                              std::to_string(response.status) +
                                              " with a body that is not JSON");
  }
  return body;
}

Result<Json> Expect(Result<http::ClientResponse> response, int status, std::string_view what) {
  if (!response.ok()) return std::move(response).error().WithContext(std::string(what));
  ATTEST_ASSIGN_OR_RETURN(Json body, ParseBody(*response, what));
  if (response->status != status) {
    return MakeError(
        ErrorCode::kVerificationFailed,
        std::string(what) + ": HTTP " + std::to_string(response->status) + " " + response->body);
  }
  return body;
}

Result<std::string> StringMember(const Json& body, const char* name) {
  const Json* value = FindMember(body, name);
  if (value == nullptr || !value->is_string()) {
    return MakeError(ErrorCode::kCorrupt, std::string("no string member ") + name);
  }
  return value->get<std::string>();
}

}  // namespace

SimulatedNode::SimulatedNode(std::string hostname, const NodeMeasurements& measurements,
                             EkKind ek_kind)
    : hostname_(std::move(hostname)),
      measurements_(measurements),
      ek_(ek_kind == EkKind::kRsa2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256")) {
  if (!ek_) throw std::runtime_error("generate the EK");
  ek_public_ = EkPublic(ek_.get(), ek_kind);
  runtime_entries_ = measurements_.runtime_log.entries.size();
  node_id_ = Must(tpm::NodeId(Must(tpm::ParsePublic(ek_public_), "EK").publicArea), "node id");
}

SimulatedNode::SimulatedNode(std::string hostname, const SimulatedNode& same_tpm)
    : hostname_(std::move(hostname)),
      measurements_(same_tpm.measurements_),
      ek_public_(same_tpm.ek_public_),
      node_id_(same_tpm.node_id_),
      runtime_entries_(same_tpm.runtime_entries()) {
  EVP_PKEY_up_ref(same_tpm.ek_.get());
  ek_.reset(same_tpm.ek_.get());
}

Json SimulatedNode::EnrollmentBody() const {
  return {{"hostname", hostname_},
          {"ek_public", Base64Encode(ek_public_)},
          {"ak_public", Base64Encode(ak_public())}};
}

Result<Bytes> SimulatedNode::ActivateCredential(const verifier::Credential& credential,
                                                ByteView object_name) const {
  return verifier::test::SoftwareActivateCredential(ek_.get(), ek_public_, credential, object_name);
}

Result<Bytes> SimulatedNode::ActivateCredential(const Json& enrollment) const {
  ATTEST_ASSIGN_OR_RETURN(std::string blob, StringMember(enrollment, "credential_blob"));
  ATTEST_ASSIGN_OR_RETURN(std::string encrypted, StringMember(enrollment, "encrypted_secret"));
  verifier::Credential credential;
  ATTEST_ASSIGN_OR_RETURN(credential.credential_blob, Base64Decode(blob));
  ATTEST_ASSIGN_OR_RETURN(credential.encrypted_secret, Base64Decode(encrypted));
  return ActivateCredential(credential, ak_.LoadedKey().name);
}

verifier::Evidence SimulatedNode::MakeEvidence(const Bytes& nonce,
                                               const tpm::PcrSelection& selection,
                                               verifier::QuoteClock clock) const {
  verifier::Evidence evidence =
      ak_.Make(selection, measurements_.boot_log, RuntimeLogNow(), nonce, clock);
  if (measurements_.boot_log.empty()) evidence.boot_log.reset();
  return evidence;
}

verifier::Evidence SimulatedNode::MakeEvidenceFrom(const Bytes& nonce,
                                                   const tpm::PcrSelection& selection,
                                                   std::uint64_t runtime_start,
                                                   verifier::QuoteClock clock) const {
  verifier::Evidence evidence = MakeEvidence(nonce, selection, clock);
  std::vector<runtime::RuntimeEntry>& entries = evidence.runtime_log->entries;
  entries.erase(entries.begin(),
                entries.begin() + static_cast<std::ptrdiff_t>(
                                      std::min<std::uint64_t>(runtime_start, entries.size())));
  evidence.runtime_log_start = runtime_start;
  return evidence;
}

void SimulatedNode::MeasureMore(std::size_t count) {
  std::lock_guard lock(state_mutex_);
  const std::size_t most =
      measurements_.runtime_log.entries.size() + measurements_.runtime_later.size();
  if (runtime_entries_ + count > most) {
    throw std::logic_error("MeasureMore: the measurements' runtime_later has too few entries");
  }
  runtime_entries_ += count;
  pcrs_.reset();  // PCR 14 moved on
}

void SimulatedNode::RestartRuntimeLog(std::size_t entries) {
  std::lock_guard lock(state_mutex_);
  if (entries > measurements_.runtime_log.entries.size() + measurements_.runtime_later.size()) {
    throw std::logic_error("RestartRuntimeLog: more entries than the measurements hold");
  }
  runtime_entries_ = entries;
  pcrs_.reset();
}

std::size_t SimulatedNode::runtime_entries() const {
  std::lock_guard lock(state_mutex_);
  return runtime_entries_;
}

runtime::RuntimeLog SimulatedNode::RuntimeLogNow() const {
  const std::size_t count = runtime_entries();
  runtime::RuntimeLog log;
  log.pcr = measurements_.runtime_log.pcr;
  const std::vector<runtime::RuntimeEntry>& first = measurements_.runtime_log.entries;
  const std::size_t from_first = std::min(count, first.size());
  log.entries.assign(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(from_first));
  log.entries.insert(
      log.entries.end(), measurements_.runtime_later.begin(),
      measurements_.runtime_later.begin() + static_cast<std::ptrdiff_t>(count - from_first));
  return log;
}

void SimulatedNode::AddCertificateRequest(verifier::Evidence& evidence, bool with_proof) const {
  verifier::test::SoftwareSigningKey key = verifier::test::MakeSoftwareSigningKey();
  evidence.csr = MakeCsr(key.key.get(), node_id_);
  if (with_proof) evidence.key_certification = ak_.Certify(key.public_area, evidence.nonce);
}

Result<Json> SimulatedNode::Enroll(http::Client& client) {
  ATTEST_ASSIGN_OR_RETURN(
      Json enrollment,
      Expect(client.Post("/v1/enrollments", EnrollmentBody().dump()), 201, "enroll"));
  ATTEST_ASSIGN_OR_RETURN(std::string id, StringMember(enrollment, "enrollment_id"));
  ATTEST_ASSIGN_OR_RETURN(Bytes secret, ActivateCredential(enrollment));
  const Json activation = {{"secret", Base64Encode(secret)}};
  return Expect(client.Post("/v1/enrollments/" + id + "/activate", activation.dump()), 200,
                "activate");
}

Result<std::string> SimulatedNode::EvidenceFor(const Json& challenge,
                                               const AttestOptions& options) {
  ATTEST_ASSIGN_OR_RETURN(std::string nonce_hex, StringMember(challenge, "nonce"));
  ATTEST_ASSIGN_OR_RETURN(Bytes nonce, HexDecode(nonce_hex));
  ATTEST_ASSIGN_OR_RETURN(std::string selection_text, StringMember(challenge, "pcr_selection"));
  ATTEST_ASSIGN_OR_RETURN(tpm::PcrSelection selection, tpm::ParsePcrSelection(selection_text));
  const Json* cached = FindMember(challenge, "boot_log_cached");
  const bool verifier_holds_log = cached != nullptr && cached->is_boolean() && cached->get<bool>();

  verifier::QuoteClock clock = verifier::test::SafeClock();
  clock.clock = clock_.fetch_add(1000);
  verifier::Evidence evidence;
  runtime::RuntimeLog runtime_log = RuntimeLogNow();
  {
    // The PCR values the logs replay to are the node's state, the same for
    // every quote until it measures more: replayed once per selection.
    std::lock_guard lock(state_mutex_);
    if (!pcrs_ || pcr_selection_ != selection_text) {
      verifier::Evidence first =
          ak_.Make(selection, measurements_.boot_log, runtime_log, nonce, clock);
      pcrs_ = std::move(first.pcrs);
      pcr_selection_ = selection_text;
    }
    evidence.pcrs = *pcrs_;
  }
  evidence.nonce = nonce;
  evidence.attest = ak_.MakeAttest(selection, evidence.pcrs, nonce, clock);
  evidence.signature = ak_.Sign(evidence.attest);
  if (!measurements_.boot_log.empty() && (!verifier_holds_log || options.force_boot_log)) {
    evidence.boot_log = measurements_.boot_log;
  }
  evidence.runtime_log = std::move(runtime_log);
  evidence.runtime_log_start = RuntimeStart(challenge, options);
  if (evidence.runtime_log_start > 0) {
    std::vector<runtime::RuntimeEntry>& entries = evidence.runtime_log->entries;
    entries.erase(entries.begin(),
                  entries.begin() + static_cast<std::ptrdiff_t>(evidence.runtime_log_start));
  }
  if (options.with_csr) AddCertificateRequest(evidence);
  ATTEST_ASSIGN_OR_RETURN(Json document, verifier::EvidenceToJson(evidence));
  return document.dump();
}

std::uint64_t SimulatedNode::RuntimeStart(const Json& challenge,
                                          const AttestOptions& options) const {
  const Json* cursor = FindMember(challenge, "runtime_log_cursor");
  if (options.force_boot_log || cursor == nullptr || !cursor->is_object()) return 0;
  const verifier::QuoteClock boot = verifier::test::SafeClock();
  const Json* entries = FindMember(*cursor, "entries");
  const Json* reset = FindMember(*cursor, "reset_count");
  const Json* restart = FindMember(*cursor, "restart_count");
  if (entries == nullptr || reset == nullptr || restart == nullptr ||
      !entries->is_number_unsigned() || *reset != boot.reset_count ||
      *restart != boot.restart_count) {
    return 0;
  }
  const std::uint64_t start = entries->get<std::uint64_t>();
  return start <= runtime_entries() ? start : 0;
}

Result<AttestResult> SimulatedNode::Attest(http::Client& client, const AttestOptions& options) {
  AttestResult result;
  const std::string base = "/v1/nodes/" + node_id_;
  ATTEST_ASSIGN_OR_RETURN(http::ClientResponse issued, client.Post(base + "/challenges", "{}"));
  ATTEST_ASSIGN_OR_RETURN(Json challenge, ParseBody(issued, "challenge"));
  if (issued.status != 201) {
    result.status = issued.status;
    result.body = std::move(challenge);
    return result;
  }
  ATTEST_ASSIGN_OR_RETURN(std::string evidence, EvidenceFor(challenge, options));
  const Json* cached = FindMember(challenge, "boot_log_cached");
  result.sent_boot_log =
      !measurements_.boot_log.empty() && (options.force_boot_log || cached == nullptr ||
                                          !cached->is_boolean() || !cached->get<bool>());
  result.sent_runtime_from_cursor = RuntimeStart(challenge, options) > 0;
  ATTEST_ASSIGN_OR_RETURN(http::ClientResponse answered, client.Post(base + "/evidence", evidence));
  result.status = answered.status;
  ATTEST_ASSIGN_OR_RETURN(result.body, ParseBody(answered, "evidence"));
  return result;
}

}  // namespace attest::service::test
