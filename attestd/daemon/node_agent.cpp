#include "attest/attestd/node_agent.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/attestd/firmware_log.h"
#include "attest/attestd/tpm_measurement_pcr.h"
#include "attest/encoding.h"
#include "attest/tpm/public_key.h"

namespace attest::attestd {
namespace {

// The API's answer as an Error for the log: the verifier is overloaded or
// down (kBusy), or refused (kVerificationFailed: an operator may be needed).
// The daemon retries both.
Error FromResponse(std::string_view what, const ApiResponse& response) {
  ErrorCode code = ErrorCode::kVerificationFailed;
  if (response.status == 429 || response.status >= 500) code = ErrorCode::kBusy;
  return MakeError(code, DescribeFailure(what, response));
}

Result<std::string> StringMember(const Json& object, std::string_view key, std::string_view what) {
  const Json* value = FindMember(object, key);
  if (value == nullptr || !value->is_string()) {
    return MakeError(
        ErrorCode::kCorrupt,
        std::string(what) + ": the verifier's answer has no string \"" + std::string(key) + "\"");
  }
  return value->get<std::string>();
}

std::optional<std::uint64_t> UnsignedMember(const Json& object, std::string_view key) {
  const Json* value = FindMember(object, key);
  if (value == nullptr || !value->is_number_unsigned()) return std::nullopt;
  return value->get<std::uint64_t>();
}

// Whether `object` (the challenge's boot_cache or runtime_log_cursor) names
// the boot the quote is of.
bool SameBoot(const Json* object, const Quote& quote) {
  if (object == nullptr || !object->is_object()) return false;
  return UnsignedMember(*object, "reset_count") == quote.reset_count &&
         UnsignedMember(*object, "restart_count") == quote.restart_count;
}

std::string Hostname(const AttestdConfig& config) {
  if (!config.hostname.empty()) return config.hostname;
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

Status EnsureDirectory(const std::string& path, mode_t mode) {
  if (mkdir(path.c_str(), mode) == 0) {
    // mkdir's mode passes through the umask; the group bit is meant.
    if (chmod(path.c_str(), mode) != 0) {
      return MakeError(ErrorCode::kIo, path + ": cannot chmod: " + std::strerror(errno));
    }
  } else if (errno != EEXIST) {
    return MakeError(ErrorCode::kIo, path + ": cannot create: " + std::strerror(errno));
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<NodeAgent>> NodeAgent::Open(const AttestdConfig& config,
                                                   const Clock& clock) {
  ATTEST_RETURN_IF_ERROR(PrepareStateDirectory(config.state_dir));
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<Tpm> tpm, Tpm::Open(config.tcti));
  std::unique_ptr<NodeAgent> agent(new NodeAgent(config, clock, std::move(tpm)));
  ATTEST_ASSIGN_OR_RETURN(agent->identity_, LoadIdentity(config.state_dir));
  if (agent->identity_ && agent->identity_->ek_algorithm != config.ek_algorithm) {
    return MakeError(ErrorCode::kInvalidArgument,
                     config.state_dir +
                         "/identity.json was made with the other EK algorithm than "
                         "tpm.ek_algorithm names; change the setting back, or "
                         "remove the file to enroll as a new node");
  }
  return agent;
}

Result<Endorsement> NodeAgent::ReadEndorsement() {
  if (!endorsement_) {
    ATTEST_ASSIGN_OR_RETURN(endorsement_, tpm_->ReadEndorsement(config_.ek_algorithm));
  }
  return *endorsement_;
}

Status NodeAgent::EnsureIdentity() {
  if (identity_) return OkStatus();
  ATTEST_ASSIGN_OR_RETURN(Endorsement endorsement, ReadEndorsement());
  NodeIdentity identity;
  identity.ek_algorithm = config_.ek_algorithm;
  ATTEST_ASSIGN_OR_RETURN(identity.node_id, tpm::NodeId(endorsement.public_key.publicArea));
  ATTEST_ASSIGN_OR_RETURN(identity.ak, tpm_->CreateAttestationKey(config_.ak_algorithm));
  // Saved before the verifier hears of it: a crash from here on resumes
  // with this AK, never a second one.
  ATTEST_RETURN_IF_ERROR(SaveIdentity(config_.state_dir, identity));
  identity_ = std::move(identity);
  return OkStatus();
}

Status NodeAgent::EnsureEnrolled(VerifierClient& verifier) {
  ATTEST_RETURN_IF_ERROR(EnsureIdentity());
  if (identity_->enrolled) return OkStatus();
  return Enroll(verifier);
}

Status NodeAgent::ForgetEnrollment() {
  if (!identity_ || !identity_->enrolled) return OkStatus();
  identity_->enrolled = false;
  return SaveIdentity(config_.state_dir, *identity_);
}

Status NodeAgent::Enroll(VerifierClient& verifier) {
  ATTEST_ASSIGN_OR_RETURN(Endorsement endorsement, ReadEndorsement());
  ATTEST_ASSIGN_OR_RETURN(std::string node_id, tpm::NodeId(endorsement.public_key.publicArea));
  if (node_id != identity_->node_id) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "this TPM's EK is not the one " + config_.state_dir +
                         "/identity.json was made with (was the TPM cleared or replaced?); remove "
                         "that file to enroll as a new node");
  }
  Json request = {{"hostname", Hostname(config_)},
                  {"ek_public", Base64Encode(tpm::MarshalPublic(endorsement.public_key))},
                  {"ak_public", Base64Encode(identity_->ak.public_area)}};
  if (endorsement.certificate_der) {
    request["ek_certificate"] = Base64Encode(*endorsement.certificate_der);
  }
  ATTEST_ASSIGN_OR_RETURN(ApiResponse started, verifier.Post("/v1/enrollments", request.dump()));
  if (started.status != 201) return FromResponse("POST /v1/enrollments", started);
  ATTEST_ASSIGN_OR_RETURN(std::string enrollment_id,
                          StringMember(started.body, "enrollment_id", "enrollment"));
  // It goes into a request target and the state file: exactly what the
  // verifier makes (32 lowercase hex), nothing a request could be split with.
  if (enrollment_id.size() != 32 ||
      enrollment_id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return MakeError(ErrorCode::kCorrupt, "enrollment: enrollment_id is not 32 lowercase hex");
  }
  ATTEST_ASSIGN_OR_RETURN(std::string answered_id,
                          StringMember(started.body, "node_id", "enrollment"));
  if (answered_id != identity_->node_id) {
    return MakeError(ErrorCode::kVerificationFailed, "the verifier enrolled node " + answered_id +
                                                         ", not this TPM's " + identity_->node_id);
  }
  ATTEST_ASSIGN_OR_RETURN(std::string blob,
                          StringMember(started.body, "credential_blob", "enrollment"));
  ATTEST_ASSIGN_OR_RETURN(std::string encrypted,
                          StringMember(started.body, "encrypted_secret", "enrollment"));
  ATTEST_ASSIGN_OR_RETURN(Bytes credential_blob, Base64Decode(blob));
  ATTEST_ASSIGN_OR_RETURN(Bytes encrypted_secret, Base64Decode(encrypted));
  identity_->enrollment_id = enrollment_id;
  ATTEST_RETURN_IF_ERROR(SaveIdentity(config_.state_dir, *identity_));

  ATTEST_ASSIGN_OR_RETURN(
      Bytes secret,
      tpm_->ActivateCredential(identity_->ak, endorsement, credential_blob, encrypted_secret));
  std::string body = Json{{"secret", Base64Encode(secret)}}.dump();
  OPENSSL_cleanse(secret.data(), secret.size());
  Result<ApiResponse> activated =
      verifier.Post("/v1/enrollments/" + enrollment_id + "/activate", body);
  OPENSSL_cleanse(body.data(), body.size());
  if (!activated.ok()) return activated.error();
  if (activated->status != 200) return FromResponse("POST .../activate", *activated);
  identity_->enrolled = true;
  return SaveIdentity(config_.state_dir, *identity_);
}

Status NodeAgent::StartMeasurements() {
  if (measurements_) return OkStatus();
  RuntimePcrOptions options;
  options.pcr = config_.runtime_pcr;
  options.log_path = config_.runtime_log;
  ATTEST_ASSIGN_OR_RETURN(measurements_,
                          StartRuntimeMeasurements(*tpm_, config_.runtime_files, *clock_, options));
  const RuntimeLogCheck& check = measurements_->start_check();
  if (check.state != RuntimeLogCheck::State::kConsistent) {
    start_check_warning_ =
        std::string(check.state == RuntimeLogCheck::State::kRecovered ? "recovered" : "MISMATCH") +
        " at start: " + check.detail;
  }
  return OkStatus();
}

Result<NodeKey> NodeAgent::EnsureNodeKey() {
  ATTEST_RETURN_IF_ERROR(EnsureDirectory(config_.certificate_dir, 0750));
  if (config_.node_key == NodeKeyKind::kTpm && !identity_->node_key) {
    ATTEST_ASSIGN_OR_RETURN(identity_->node_key, tpm_->CreateSigningKey());
    ATTEST_RETURN_IF_ERROR(SaveIdentity(config_.state_dir, *identity_));
  }
  return PrepareNodeKey(config_.certificate_dir, config_.node_key, identity_->node_key);
}

Result<protocol::Evidence> NodeAgent::BuildEvidence(const Json& challenge, bool in_full,
                                                    std::uint32_t* reset_count) {
  ATTEST_ASSIGN_OR_RETURN(std::string nonce_hex, StringMember(challenge, "nonce", "challenge"));
  ATTEST_ASSIGN_OR_RETURN(std::string selection_text,
                          StringMember(challenge, "pcr_selection", "challenge"));
  protocol::Evidence evidence;
  ATTEST_ASSIGN_OR_RETURN(evidence.nonce, HexDecode(nonce_hex));
  ATTEST_ASSIGN_OR_RETURN(tpm::PcrSelection selection, tpm::ParsePcrSelection(selection_text));
  ATTEST_ASSIGN_OR_RETURN(Quote quote, tpm_->MakeQuote(identity_->ak, evidence.nonce, selection));
  if (reset_count != nullptr) *reset_count = quote.reset_count;
  evidence.attest = std::move(quote.attest);
  evidence.signature = std::move(quote.signature);
  evidence.pcrs = quote.pcrs;

  // The boot log is left out only when the verifier says it holds the one
  // of exactly this boot; otherwise leaving it out is a recorded failure.
  const Json* cached = FindMember(challenge, "boot_log_cached");
  const bool verifier_holds_boot_log = cached != nullptr && cached->is_boolean() &&
                                       cached->get<bool>() &&
                                       SameBoot(FindMember(challenge, "boot_cache"), quote);
  if (!config_.boot_log.empty() && (in_full || !verifier_holds_boot_log)) {
    ATTEST_ASSIGN_OR_RETURN(evidence.boot_log, ReadFirmwareLog(config_.boot_log));
  }
  runtime::RuntimeLog log = measurements_->log();
  const Json* cursor = FindMember(challenge, "runtime_log_cursor");
  if (!in_full && SameBoot(cursor, quote)) {
    const std::optional<std::uint64_t> entries = UnsignedMember(*cursor, "entries");
    if (entries && *entries > 0 && *entries <= log.entries.size()) {
      log.entries.erase(log.entries.begin(),
                        log.entries.begin() + static_cast<std::ptrdiff_t>(*entries));
      evidence.runtime_log_start = *entries;
    }
  }
  evidence.runtime_log = std::move(log);
  return evidence;
}

Status NodeAgent::AddCertificateRequest(protocol::Evidence& evidence, const NodeKey& key) {
  ATTEST_ASSIGN_OR_RETURN(evidence.csr, MakeCertificateRequest(*tpm_, key, config_.certificate_dir,
                                                               identity_->node_id));
  if (key.kind != NodeKeyKind::kTpm) return OkStatus();
  ATTEST_ASSIGN_OR_RETURN(Certification certification,
                          tpm_->Certify(*key.tpm_key, identity_->ak, evidence.nonce));
  evidence.key_certification =
      protocol::KeyCertification{key.tpm_key->public_area, std::move(certification.attest),
                                 std::move(certification.signature)};
  return OkStatus();
}

Result<CycleOutcome> NodeAgent::Attest(VerifierClient& verifier, bool in_full) {
  node_unknown_ = false;
  ATTEST_RETURN_IF_ERROR(EnsureIdentity());
  if (!identity_->enrolled) return MakeError(ErrorCode::kInternal, "Attest: not enrolled yet");
  ATTEST_RETURN_IF_ERROR(StartMeasurements());
  CycleOutcome outcome;
  if (start_check_warning_) {
    outcome.measurement_warnings.push_back("runtime log " + *start_check_warning_);
    start_check_warning_.reset();
  }
  // Measure first: a quote must never be answered while an extend is
  // missing from the PCR (RuntimeMeasurements says the same).
  ATTEST_ASSIGN_OR_RETURN(RuntimeUpdate update, measurements_->MeasureAndExtend());
  outcome.measurement_warnings.insert(outcome.measurement_warnings.end(), update.warnings.begin(),
                                      update.warnings.end());
  if (update.log_save_error) {
    outcome.measurement_warnings.push_back("runtime log not saved: " +
                                           update.log_save_error->message);
  }
  outcome.runtime_entries = measurements_->log().entries.size();

  // A key or certificate-directory problem costs the certificate, never
  // the attestation: the node still proves its state.
  std::optional<NodeKey> key;
  bool want_certificate = false;
  if (Result<NodeKey> prepared = EnsureNodeKey(); prepared.ok()) {
    key = std::move(prepared).value();
    Result<std::optional<InstalledCertificate>> current =
        ReadInstalledCertificate(config_.certificate_dir);
    want_certificate = certificate_may_be_revoked_ || !current.ok() ||
                       NeedsRenewal(*current, key->public_key_der, UnixSeconds(clock_->Now()));
  } else {
    outcome.measurement_warnings.push_back("node key: " + prepared.error().message);
  }

  const std::string base = "/v1/nodes/" + identity_->node_id;
  ATTEST_ASSIGN_OR_RETURN(ApiResponse challenge, verifier.Post(base + "/challenges", "{}"));
  if (challenge.status == 404) {
    node_unknown_ = true;
    return MakeError(ErrorCode::kNotFound,
                     "the verifier does not know node " + identity_->node_id + "; enrolling again");
  }
  if (challenge.status != 201) return FromResponse("POST " + base + "/challenges", challenge);
  ATTEST_ASSIGN_OR_RETURN(protocol::Evidence evidence,
                          BuildEvidence(challenge.body, in_full, nullptr));
  if (want_certificate) {
    if (Status requested = AddCertificateRequest(evidence, *key); !requested.ok()) {
      outcome.measurement_warnings.push_back("certificate request: " + requested.error().message);
      evidence.csr.reset();
      evidence.key_certification.reset();
    }
  }
  ATTEST_ASSIGN_OR_RETURN(Json document, protocol::EvidenceToJson(evidence));
  ATTEST_ASSIGN_OR_RETURN(ApiResponse answer, verifier.Post(base + "/evidence", document.dump()));
  if (answer.status != 200) return FromResponse("POST " + base + "/evidence", answer);
  ATTEST_ASSIGN_OR_RETURN(CycleOutcome verdict,
                          ReadVerdict(answer, evidence.csr ? key : std::nullopt));
  certificate_may_be_revoked_ = !verdict.trusted;
  verdict.measurement_warnings.insert(verdict.measurement_warnings.begin(),
                                      outcome.measurement_warnings.begin(),
                                      outcome.measurement_warnings.end());
  verdict.runtime_entries = outcome.runtime_entries;
  return verdict;
}

// `key` is the key a CSR was sent for, if one was: a certificate is
// installed only then, and only with a trusted verdict.
Result<CycleOutcome> NodeAgent::ReadVerdict(const ApiResponse& response,
                                            const std::optional<NodeKey>& key) {
  CycleOutcome outcome;
  const Json& body = response.body;
  ATTEST_ASSIGN_OR_RETURN(outcome.state, StringMember(body, "state", "evidence result"));
  const Json* recorded = FindMember(body, "recorded");
  outcome.recorded = recorded != nullptr && recorded->is_boolean() && recorded->get<bool>();
  const Json* verdict = FindMember(body, "verdict");
  if (verdict == nullptr || !verdict->is_object()) {
    return MakeError(ErrorCode::kCorrupt, "evidence result: the verifier's answer has no verdict");
  }
  const Json* trusted = FindMember(*verdict, "trusted");
  outcome.trusted = trusted != nullptr && trusted->is_boolean() && trusted->get<bool>();
  if (const Json* reasons = FindMember(*verdict, "reasons"); reasons && reasons->is_array()) {
    for (const Json& reason : *reasons) {
      if (!reason.is_object()) continue;
      ReasonSummary summary;
      if (const Json* code = FindMember(reason, "code"); code && code->is_string()) {
        summary.code = code->get<std::string>();
      }
      if (const Json* detail = FindMember(reason, "detail"); detail && detail->is_string()) {
        summary.detail = detail->get<std::string>();
      }
      outcome.reasons.push_back(std::move(summary));
    }
  }
  outcome.resend_in_full = outcome.recorded && !outcome.trusted && !outcome.reasons.empty() &&
                           (outcome.reasons[0].code == "BOOT_LOG_REQUIRED" ||
                            outcome.reasons[0].code == "RUNTIME_LOG_REQUIRED");
  if (const Json* error = FindMember(body, "certificate_error"); error && error->is_string()) {
    outcome.certificate_error = error->get<std::string>();
  }
  const Json* chain = FindMember(body, "certificate_chain");
  if (chain != nullptr && chain->is_string() && key && outcome.trusted) {
    // The verdict stands whatever happens to the certificate.
    Result<InstalledCertificate> installed =
        InstallCertificate(config_.certificate_dir, chain->get<std::string>(), *key,
                           identity_->node_id, UnixSeconds(clock_->Now()));
    if (installed.ok()) {
      outcome.new_certificate = std::move(installed).value();
    } else {
      outcome.certificate_error = "not installed: " + installed.error().message;
    }
  }
  return outcome;
}

Result<protocol::Evidence> NodeAgent::OfflineEvidence(ByteView nonce,
                                                      const tpm::PcrSelection& selection) {
  ATTEST_RETURN_IF_ERROR(EnsureIdentity());
  ATTEST_RETURN_IF_ERROR(StartMeasurements());
  ATTEST_ASSIGN_OR_RETURN(RuntimeUpdate update, measurements_->MeasureAndExtend());
  (void)update;
  const Json challenge = {{"nonce", HexEncode(nonce)},
                          {"pcr_selection", selection.ToString()},
                          {"boot_log_cached", false}};
  return BuildEvidence(challenge, /*in_full=*/true, nullptr);
}

}  // namespace attest::attestd
