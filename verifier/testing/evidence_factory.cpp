#include "evidence_factory.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <tss2/tss2_mu.h>

#include "attest/tpm/algorithms.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"
#include "attest/verifier/event_log.h"
#include "attest/verifier/policy_learn.h"

namespace attest::verifier::test {
namespace {

// Test setup either works or the test cannot mean anything: fail loudly.
template <typename T>
T Must(Result<T> result, const char* what) {
  if (!result.ok()) throw std::runtime_error(std::string(what) + ": " + result.error().message);
  return std::move(result).value();
}

void CopyBignum(const EVP_PKEY* key, const char* name, TPM2B_ECC_PARAMETER& out) {
  BIGNUM* value = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &value) != 1) throw std::runtime_error("EC coordinate");
  BignumPtr owned(value);
  out.size = 32;
  if (BN_bn2binpad(value, out.buffer, 32) != 32) throw std::runtime_error("EC coordinate size");
}

TPMT_PUBLIC AkPublicArea(const EVP_PKEY* key) {
  TPMT_PUBLIC area{};
  area.type = TPM2_ALG_ECC;
  area.nameAlg = TPM2_ALG_SHA256;
  area.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                          TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  area.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  area.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  area.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  area.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  area.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  CopyBignum(key, OSSL_PKEY_PARAM_EC_PUB_X, area.unique.ecc.x);
  CopyBignum(key, OSSL_PKEY_PARAM_EC_PUB_Y, area.unique.ecc.y);
  return area;
}

Bytes SignWith(EVP_PKEY* key, ByteView message) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t size = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, message.data(), message.size()) != 1) {
    throw std::runtime_error("sign");
  }
  Bytes der(size);
  if (EVP_DigestSign(ctx.get(), der.data(), &size, message.data(), message.size()) != 1) {
    throw std::runtime_error("sign");
  }
  const unsigned char* cursor = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(size));
  if (sig == nullptr) throw std::runtime_error("parse ECDSA signature");
  TPMT_SIGNATURE signature{};
  signature.sigAlg = TPM2_ALG_ECDSA;
  signature.signature.ecdsa.hash = TPM2_ALG_SHA256;
  signature.signature.ecdsa.signatureR.size = 32;
  signature.signature.ecdsa.signatureS.size = 32;
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), signature.signature.ecdsa.signatureR.buffer, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), signature.signature.ecdsa.signatureS.buffer, 32);
  ECDSA_SIG_free(sig);
  return tpm::Marshal(signature, Tss2_MU_TPMT_SIGNATURE_Marshal);
}

}  // namespace

namespace {

Bytes ReadWhole(const std::string& path, const char* hint) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + hint);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::string TestdataPath(const std::string& relative) {
  return std::string(ATTEST_SHARED_TESTDATA_DIR) + "/" + relative;
}

Bytes ReadTestdata(const std::string& relative) {
  return ReadWhole(TestdataPath(relative),
                   " (the shared test vectors: set the CMake cache variable "
                   "ATTEST_SHARED_TESTDATA_DIR)");
}

std::string FixturePath(const std::string& relative) {
  return std::string(ATTEST_FIXTURES_DIR) + "/" + relative;
}

Bytes ReadFixture(const std::string& relative) { return ReadWhole(FixturePath(relative), ""); }

runtime::RuntimeLog ExampleRuntimeLog(std::size_t count, std::uint32_t pcr) {
  runtime::RuntimeLog log;
  log.pcr = pcr;
  for (std::size_t i = 0; i < count; ++i) {
    runtime::RuntimeEntry entry;
    entry.pcr = pcr;
    entry.path = "/usr/bin/runtime-" + std::to_string(i);
    entry.kind = runtime::RuntimeKind::kFile;
    entry.sha256 = Sha256Of(AsBytes("content of " + entry.path));
    entry.size = 1000 + i;
    entry.time = "2026-11-29T10:00:00.000001Z";
    log.entries.push_back(entry);
  }
  return log;
}

EvidenceFactory::EvidenceFactory() : key_(EVP_EC_gen("P-256")) {
  if (!key_) throw std::runtime_error("generate P-256 key");
  TPM2B_PUBLIC marshaled{};
  marshaled.publicArea = AkPublicArea(key_.get());
  marshaled_public_ = tpm::MarshalPublic(marshaled);
  name_ = Must(tpm::ObjectName(marshaled.publicArea), "AK name");
}

AttestationKey EvidenceFactory::LoadedKey() const {
  return Must(ParseAttestationKey(marshaled_public_), "load AK");
}

std::string EvidenceFactory::PublicPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Bytes EvidenceFactory::MakeAttest(const tpm::PcrSelection& selection, const tpm::PcrValues& values,
                                  const Bytes& nonce, const QuoteClock& clock) const {
  TPMS_ATTEST attest{};
  attest.magic = TPM2_GENERATED_VALUE;
  attest.type = TPM2_ST_ATTEST_QUOTE;
  attest.qualifiedSigner.size = static_cast<UINT16>(name_.size());
  std::copy(name_.begin(), name_.end(), attest.qualifiedSigner.name);
  attest.extraData.size = static_cast<UINT16>(nonce.size());
  std::copy(nonce.begin(), nonce.end(), attest.extraData.buffer);
  attest.clockInfo.clock = clock.clock;
  attest.clockInfo.resetCount = clock.reset_count;
  attest.clockInfo.restartCount = clock.restart_count;
  attest.clockInfo.safe = clock.safe ? TPM2_YES : TPM2_NO;
  attest.firmwareVersion = 0x2024'0001;
  attest.attested.quote.pcrSelect = Must(tpm::ToTpmSelection(selection), "selection");
  Bytes digest = Must(tpm::PcrCompositeDigest(selection, values, TPM2_ALG_SHA256), "pcrDigest");
  attest.attested.quote.pcrDigest.size = static_cast<UINT16>(digest.size());
  std::copy(digest.begin(), digest.end(), attest.attested.quote.pcrDigest.buffer);
  return tpm::Marshal(attest, Tss2_MU_TPMS_ATTEST_Marshal);
}

Evidence EvidenceFactory::Make(const tpm::PcrSelection& selection, const Bytes& boot_log,
                               const runtime::RuntimeLog& runtime, const Bytes& nonce,
                               const QuoteClock& clock) const {
  tpm::PcrValues replayed;
  if (!boot_log.empty()) {
    replayed = ReplayEventLog(Must(ParseEventLog(boot_log), "parse boot log"));
  }
  Sha256Digest runtime_initial{};
  if (auto bank = replayed.find(TPM2_ALG_SHA256); bank != replayed.end()) {
    if (auto value = bank->second.find(runtime.pcr); value != bank->second.end()) {
      std::copy(value->second.begin(), value->second.end(), runtime_initial.begin());
    }
  }
  Sha256Digest runtime_value = runtime::Replay(runtime.entries, runtime_initial);
  tpm::PcrValues values;
  for (const tpm::PcrBankSelection& bank : selection.banks) {
    std::size_t size = tpm::HashAlgorithmById(bank.hash_algorithm)->digest_size;
    for (std::uint32_t pcr : bank.indexes) {
      Bytes value = tpm::PcrResetValue(pcr, size);
      if (auto log_bank = replayed.find(bank.hash_algorithm); log_bank != replayed.end()) {
        if (auto found = log_bank->second.find(pcr); found != log_bank->second.end()) {
          value = found->second;
        }
      }
      if (bank.hash_algorithm == TPM2_ALG_SHA256 && pcr == runtime.pcr) {
        value.assign(runtime_value.begin(), runtime_value.end());
      }
      values[bank.hash_algorithm][pcr] = std::move(value);
    }
  }
  Evidence evidence;
  evidence.nonce = nonce;
  evidence.attest = MakeAttest(selection, values, nonce, clock);
  evidence.signature = SignWith(key_.get(), evidence.attest);
  evidence.pcrs = std::move(values);
  if (!boot_log.empty()) evidence.boot_log = boot_log;
  evidence.runtime_log = runtime;
  return evidence;
}

void EvidenceFactory::Resign(Evidence& evidence) const {
  evidence.signature = SignWith(key_.get(), evidence.attest);
}

Bytes EvidenceFactory::Sign(ByteView attest) const { return SignWith(key_.get(), attest); }

Bytes EvidenceFactory::MakeCertifyAttest(ByteView name, const Bytes& nonce) const {
  TPMS_ATTEST attest{};
  attest.magic = TPM2_GENERATED_VALUE;
  attest.type = TPM2_ST_ATTEST_CERTIFY;
  attest.qualifiedSigner.size = static_cast<UINT16>(name_.size());
  std::copy(name_.begin(), name_.end(), attest.qualifiedSigner.name);
  attest.extraData.size = static_cast<UINT16>(nonce.size());
  std::copy(nonce.begin(), nonce.end(), attest.extraData.buffer);
  attest.clockInfo = {1'000'000, 3, 0, TPM2_YES};
  attest.firmwareVersion = 0x2024'0001;
  TPMS_CERTIFY_INFO& certify = attest.attested.certify;
  certify.name.size = static_cast<UINT16>(name.size());
  std::copy(name.begin(), name.end(), certify.name.name);
  // Its parent's qualified name and its own name hashed: any value serves,
  // the verifier does not read it.
  Bytes qualified = {0x00, 0x0b};
  Sha256Digest digest = Sha256Of(name);
  qualified.insert(qualified.end(), digest.begin(), digest.end());
  certify.qualifiedName.size = static_cast<UINT16>(qualified.size());
  std::copy(qualified.begin(), qualified.end(), certify.qualifiedName.name);
  return tpm::Marshal(attest, Tss2_MU_TPMS_ATTEST_Marshal);
}

KeyCertification EvidenceFactory::Certify(const TPMT_PUBLIC& certified, const Bytes& nonce) const {
  TPM2B_PUBLIC marshaled{};
  marshaled.publicArea = certified;
  KeyCertification certification;
  certification.key_public = tpm::MarshalPublic(marshaled);
  certification.attest =
      MakeCertifyAttest(Must(tpm::ObjectName(certified), "certified key name"), nonce);
  certification.signature = Sign(certification.attest);
  return certification;
}

Bytes SoftwareSigningKey::MarshaledPublic() const {
  TPM2B_PUBLIC marshaled{};
  marshaled.publicArea = public_area;
  return tpm::MarshalPublic(marshaled);
}

SoftwareSigningKey MakeSoftwareSigningKey() {
  SoftwareSigningKey signing{EvpPkeyPtr(EVP_EC_gen("P-256")), {}};
  if (!signing.key) throw std::runtime_error("generate P-256 key");
  TPMT_PUBLIC& area = signing.public_area;
  area = AkPublicArea(signing.key.get());
  area.objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
  return signing;
}

Policy PolicyFor(const Evidence& evidence, const AttestationKey& key) {
  return Must(LearnPolicy(evidence, key), "learn policy");
}

}  // namespace attest::verifier::test
