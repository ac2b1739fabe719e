#include "simulated_node.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"
#include "attest/verifier/evidence.h"

// attest_credential's KDFa and KDFe: the verifier's side of the same math.
#include "kdf.h"

namespace attest::service::test {
namespace {

using EvpCipherPtr = std::unique_ptr<EVP_CIPHER, OpensslDeleter<EVP_CIPHER_free>>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OpensslDeleter<EVP_CIPHER_CTX_free>>;
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

Result<Bytes> Hmac(const tpm::HashAlgorithm& hash, ByteView key, ByteView data) {
  Bytes out(hash.digest_size);
  std::size_t size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, hash.openssl_name, nullptr, key.data(), key.size(),
                data.data(), data.size(), out.data(), out.size(), &size) == nullptr ||
      size != out.size()) {
    return OpensslError("ActivateCredential: HMAC");
  }
  return out;
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
  node_id_ = Must(tpm::NodeId(Must(tpm::ParsePublic(ek_public_), "EK").publicArea), "node id");
}

Result<Bytes> SimulatedNode::RecoverSeed(ByteView encrypted_secret) const {
  ATTEST_ASSIGN_OR_RETURN(TPM2B_PUBLIC ek, tpm::ParsePublic(ek_public_));
  const tpm::HashAlgorithm hash = *tpm::HashAlgorithmById(ek.publicArea.nameAlg);
  ATTEST_ASSIGN_OR_RETURN(
      auto secret,
      tpm::Unmarshal<TPM2B_ENCRYPTED_SECRET>(
          encrypted_secret, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal, "TPM2B_ENCRYPTED_SECRET"));
  const ByteView carried(secret.secret, secret.size);
  Bytes seed(hash.digest_size);
  if (ek.publicArea.type == TPM2_ALG_RSA) {
    // RSA-OAEP with the name algorithm for OAEP and MGF1, label "IDENTITY\0".
    std::array<std::uint8_t, 9> label = {'I', 'D', 'E', 'N', 'T', 'I', 'T', 'Y', 0};
    std::array<OSSL_PARAM, 5> params = {
        OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                         const_cast<char*>(OSSL_PKEY_RSA_PAD_MODE_OAEP), 0),
        OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                         const_cast<char*>(hash.openssl_name), 0),
        OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST,
                                         const_cast<char*>(hash.openssl_name), 0),
        OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, label.data(),
                                          label.size()),
        OSSL_PARAM_construct_end()};
    EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_pkey(nullptr, ek_.get(), nullptr));
    Bytes plain(256);
    std::size_t size = plain.size();
    if (!context || EVP_PKEY_decrypt_init_ex(context.get(), params.data()) != 1 ||
        EVP_PKEY_decrypt(context.get(), plain.data(), &size, carried.data(), carried.size()) != 1 ||
        size != seed.size()) {
      return MakeError(ErrorCode::kVerificationFailed,
                       "ActivateCredential: the seed does not decrypt with this EK");
    }
    std::copy_n(plain.begin(), size, seed.begin());
    return seed;
  }
  // ECC: Z = x of (EK private * ephemeral point); seed = KDFe("IDENTITY").
  ATTEST_ASSIGN_OR_RETURN(
      auto point,
      tpm::Unmarshal<TPMS_ECC_POINT>(carried, Tss2_MU_TPMS_ECC_POINT_Unmarshal, "TPMS_ECC_POINT"));
  TPMT_PUBLIC ephemeral_area = ek.publicArea;
  ephemeral_area.unique.ecc = point;
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr ephemeral, tpm::PublicKeyFromTpm(ephemeral_area));
  EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_pkey(nullptr, ek_.get(), nullptr));
  Bytes z(32);
  std::size_t z_size = z.size();
  if (!context || EVP_PKEY_derive_init(context.get()) != 1 ||
      EVP_PKEY_derive_set_peer(context.get(), ephemeral.get()) != 1 ||
      EVP_PKEY_derive(context.get(), z.data(), &z_size) != 1 || z_size != z.size()) {
    return OpensslError("ActivateCredential: ECDH");
  }
  const TPM2B_ECC_PARAMETER& ek_x = ek.publicArea.unique.ecc.x;
  ATTEST_RETURN_IF_ERROR(verifier::internal::KDFe(
      hash, z, "IDENTITY", {point.x.buffer, point.x.size}, {ek_x.buffer, ek_x.size}, seed));
  return seed;
}

Result<Bytes> SimulatedNode::ActivateCredential(const verifier::Credential& credential,
                                                ByteView object_name) const {
  ATTEST_ASSIGN_OR_RETURN(TPM2B_PUBLIC ek, tpm::ParsePublic(ek_public_));
  const tpm::HashAlgorithm hash = *tpm::HashAlgorithmById(ek.publicArea.nameAlg);
  ATTEST_ASSIGN_OR_RETURN(Bytes seed, RecoverSeed(credential.encrypted_secret));
  ATTEST_ASSIGN_OR_RETURN(
      auto id_object,
      tpm::Unmarshal<TPM2B_ID_OBJECT>(credential.credential_blob, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal,
                                      "TPM2B_ID_OBJECT"));
  // The blob: TPM2B_DIGEST integrity HMAC, then the encrypted credential.
  TPM2B_DIGEST integrity{};
  std::size_t offset = 0;
  if (Tss2_MU_TPM2B_DIGEST_Unmarshal(id_object.credential, id_object.size, &offset, &integrity) !=
      TSS2_RC_SUCCESS) {
    return MakeError(ErrorCode::kCorrupt, "ActivateCredential: the blob's integrity digest");
  }
  const Bytes encrypted(id_object.credential + offset, id_object.credential + id_object.size);
  Bytes hmac_key(hash.digest_size);
  ATTEST_RETURN_IF_ERROR(verifier::internal::KDFa(hash, seed, "INTEGRITY", {}, {}, hmac_key));
  Bytes hmac_input = encrypted;
  hmac_input.insert(hmac_input.end(), object_name.begin(), object_name.end());
  ATTEST_ASSIGN_OR_RETURN(Bytes expected, Hmac(hash, hmac_key, hmac_input));
  if (!ConstantTimeEquals(ByteView(integrity.buffer, integrity.size), expected)) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "ActivateCredential: the integrity HMAC does not match (another key's "
                     "name, or another EK)");
  }

  const std::size_t key_bytes = ek.publicArea.type == TPM2_ALG_RSA
                                    ? ek.publicArea.parameters.rsaDetail.symmetric.keyBits.aes / 8
                                    : ek.publicArea.parameters.eccDetail.symmetric.keyBits.aes / 8;
  Bytes symmetric_key(key_bytes);
  ATTEST_RETURN_IF_ERROR(
      verifier::internal::KDFa(hash, seed, "STORAGE", object_name, {}, symmetric_key));
  EvpCipherPtr cipher(
      EVP_CIPHER_fetch(nullptr, key_bytes == 32 ? "AES-256-CFB" : "AES-128-CFB", nullptr));
  EvpCipherCtxPtr context(EVP_CIPHER_CTX_new());
  const std::array<std::uint8_t, 16> iv{};
  Bytes plain(encrypted.size() + 16);
  int written = 0;
  if (!cipher || !context ||
      EVP_DecryptInit_ex2(context.get(), cipher.get(), symmetric_key.data(), iv.data(), nullptr) !=
          1 ||
      EVP_DecryptUpdate(context.get(), plain.data(), &written, encrypted.data(),
                        static_cast<int>(encrypted.size())) != 1) {
    return OpensslError("ActivateCredential: AES-CFB");
  }
  plain.resize(static_cast<std::size_t>(written));
  ATTEST_ASSIGN_OR_RETURN(
      TPM2B_DIGEST recovered,
      tpm::Unmarshal<TPM2B_DIGEST>(plain, Tss2_MU_TPM2B_DIGEST_Unmarshal, "credential"));
  return Bytes(recovered.buffer, recovered.buffer + recovered.size);
}

Result<Json> SimulatedNode::Enroll(http::Client& client) {
  const Json request = {{"hostname", hostname_},
                        {"ek_public", Base64Encode(ek_public_)},
                        {"ak_public", Base64Encode(ak_public())}};
  ATTEST_ASSIGN_OR_RETURN(Json enrollment,
                          Expect(client.Post("/v1/enrollments", request.dump()), 201, "enroll"));
  ATTEST_ASSIGN_OR_RETURN(std::string id, StringMember(enrollment, "enrollment_id"));
  ATTEST_ASSIGN_OR_RETURN(std::string blob, StringMember(enrollment, "credential_blob"));
  ATTEST_ASSIGN_OR_RETURN(std::string encrypted, StringMember(enrollment, "encrypted_secret"));
  verifier::Credential credential;
  ATTEST_ASSIGN_OR_RETURN(credential.credential_blob, Base64Decode(blob));
  ATTEST_ASSIGN_OR_RETURN(credential.encrypted_secret, Base64Decode(encrypted));
  ATTEST_ASSIGN_OR_RETURN(TPM2B_PUBLIC ak, tpm::ParsePublic(ak_public()));
  ATTEST_ASSIGN_OR_RETURN(Bytes ak_name, tpm::ObjectName(ak.publicArea));
  ATTEST_ASSIGN_OR_RETURN(Bytes secret, ActivateCredential(credential, ak_name));
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
  {
    // The PCR values the logs replay to are the node's state, the same for
    // every quote of this boot: replayed once per selection.
    std::lock_guard lock(pcr_mutex_);
    if (!pcrs_ || pcr_selection_ != selection_text) {
      verifier::Evidence first =
          ak_.Make(selection, measurements_.boot_log, measurements_.runtime_log, nonce, clock);
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
  evidence.runtime_log = measurements_.runtime_log;
  evidence.runtime_log_start = RuntimeStart(challenge, options);
  if (evidence.runtime_log_start > 0) {
    std::vector<runtime::RuntimeEntry>& entries = evidence.runtime_log->entries;
    entries.erase(entries.begin(),
                  entries.begin() + static_cast<std::ptrdiff_t>(evidence.runtime_log_start));
  }
  if (options.with_csr) {
    verifier::test::SoftwareSigningKey key = verifier::test::MakeSoftwareSigningKey();
    evidence.csr = MakeCsr(key.key.get(), node_id_);
    evidence.key_certification = ak_.Certify(key.public_area, nonce);
  }
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
  return start <= measurements_.runtime_log.entries.size() ? start : 0;
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
