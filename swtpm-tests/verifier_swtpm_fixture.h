// The fixture the verifier-against-swtpm tests share: boot logs replayed
// into a private swtpm, evidence made from its quotes, and helpers that
// name a verdict's reasons. Used by verifier_quote_test.cpp and
// boot_log_replay_test.cpp.
#pragma once

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "attest/encoding.h"
#include "attest/json.h"
#include "attest/runtime/log.h"
#include "attest/testdata.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/attestation_key.h"
#include "attest/verifier/event_log.h"
#include "attest/verifier/evidence.h"
#include "attest/verifier/policy.h"
#include "attest/verifier/policy_learn.h"
#include "attest/verifier/quote.h"
#include "attest/verifier/reasons.h"
#include "attest/verifier/verify.h"

#include "tpm_test_util.h"

namespace attest::test::verifier_swtpm {

using attestd::AkAlgorithm;
using runtime::RuntimeLog;
using verifier::AttestationKey;
using verifier::BootEvent;
using verifier::Evidence;
using verifier::Policy;
using verifier::QuoteInfo;
using verifier::Reason;
using verifier::Verdict;

// A boot log replayed into swtpm. Both extend PCRs 0-9 and 14 only, with
// no StartupLocality or H-CRTM event, so every PCR they touch starts from
// zeros exactly as swtpm's do after TPM2_Startup(CLEAR). All of them can be
// extended at locality 0 (PC Client PTP: PCRs 0-16 and 23; only the DRTM
// PCRs 17-22 need a higher locality), so no PCR of the log is left out of
// the quote. Sizes and counts are the sidecar's (.expected.json).
struct BootLogFile {
  const char* name;
  bool shared;           // in the shared set (else the repository's fixtures)
  const char* relative;  // "eventlogs/NAME.bin"
  std::size_t size;
  std::size_t extending_events;
  std::size_t banks;
};
// The repository's Secure Boot fixture (OVMF + shim + grub + the Debian
// kernel under QEMU with swtpm): four banks, 46 extending events.
constexpr BootLogFile kFixtureLog{"ovmf_sb_on", false, "eventlogs/ovmf-sb-on.bin", 20060, 46, 4};
// keylime's mb_log (shared set, when present): sha256 only, 101 extending
// events.
constexpr BootLogFile kKeylimeLog{
    "keylime_mb_log", true, "eventlogs/keylime_mb_log.bin", 18995, 101, 1};
constexpr std::uint32_t kBootPcrs[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14};
// The runtime PCR: nothing extends it, so it stays zeros, which an empty
// runtime log replays to.
constexpr std::uint32_t kRuntimePcr = 15;
// The log's PCRs and the runtime PCR, in the form both tpm2-tools (-l) and
// tpm::ParsePcrSelection read.
constexpr char kSelection[] = "sha256:0,1,2,3,4,5,6,7,8,9,14,15";

// gtest prints the parameter by its file name.
inline void PrintTo(const BootLogFile& file, std::ostream* out) { *out << file.relative; }

inline std::string PathOf(const BootLogFile& file) {
  return file.shared ? testdata::SharedPath(file.relative) : testdata::FixturePath(file.relative);
}

// "SIGNATURE_INVALID", ... in verdict order.
inline std::vector<std::string> Codes(const Verdict& verdict) {
  std::vector<std::string> codes;
  for (const Reason& reason : verdict.reasons) {
    codes.emplace_back(verifier::ReasonCodeName(reason.code));
  }
  return codes;
}

inline std::string Describe(const Verdict& verdict) {
  std::string text = verdict.trusted ? "trusted" : "untrusted";
  for (const Reason& reason : verdict.reasons) {
    text += "\n  " + std::string(verifier::ReasonCodeName(reason.code));
    if (reason.pcr) text += " [PCR " + std::to_string(*reason.pcr) + "]";
    text += ": " + reason.detail;
  }
  return text;
}

using CodeList = std::vector<std::string>;

// tpm2_quote's -o file (tpm2-tools 5.4 lib/pcr.c pcr_fwrite_serialized):
// TPML_PCR_SELECTION as it lies in memory, a UINT32 count, then that many
// TPML_DIGEST structs as they lie in memory, all little endian; the digests
// follow the selection's order.
inline void ParseToolsPcrFile(const std::string& file, tpm::PcrSelection* selection,
                              tpm::PcrValues* values) {
  ASSERT_GE(file.size(), sizeof(TPML_PCR_SELECTION) + sizeof(std::uint32_t));
  TPML_PCR_SELECTION tpm_selection;
  std::memcpy(&tpm_selection, file.data(), sizeof(tpm_selection));
  auto parsed = tpm::FromTpmSelection(tpm_selection);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  *selection = *parsed;
  std::uint32_t count = 0;
  std::memcpy(&count, file.data() + sizeof(tpm_selection), sizeof(count));
  ASSERT_EQ(file.size(), sizeof(TPML_PCR_SELECTION) + sizeof(count) + count * sizeof(TPML_DIGEST));
  std::vector<Bytes> digests;
  for (std::uint32_t i = 0; i < count; ++i) {
    TPML_DIGEST list;
    std::memcpy(&list, file.data() + sizeof(tpm_selection) + sizeof(count) + i * sizeof(list),
                sizeof(list));
    ASSERT_LE(list.count, 8u);
    for (std::uint32_t j = 0; j < list.count; ++j) {
      digests.emplace_back(list.digests[j].buffer, list.digests[j].buffer + list.digests[j].size);
    }
  }
  std::size_t next = 0;
  for (const tpm::PcrBankSelection& bank : selection->banks) {
    for (std::uint32_t index : bank.indexes) {
      ASSERT_LT(next, digests.size());
      (*values)[bank.hash_algorithm][index] = digests[next++];
    }
  }
  EXPECT_EQ(next, digests.size());
}

class VerifierSwtpmTest : public TpmTest {
 protected:
  // The log this test replays: the fixture unless a subclass says otherwise.
  virtual const BootLogFile& LogFile() const { return kFixtureLog; }

  void SetUp() override {
    if (LogFile().shared) ATTEST_NEED_SHARED_TESTDATA();
    TpmTest::SetUp();
    if (HasFatalFailure()) return;
    boot_log_ = ToBytes(ReadText(PathOf(LogFile())));
    // The size its .expected.json gives: the file is the one described there.
    ASSERT_EQ(boot_log_.size(), LogFile().size) << PathOf(LogFile());
    auto selection = tpm::ParsePcrSelection(kSelection);
    ASSERT_TRUE(selection.ok()) << selection.error().ToString();
    selection_ = *selection;
    for (std::uint8_t i = 0; i < 32; ++i) nonce_.push_back(static_cast<std::uint8_t>(0xa0 + i));
  }

  // Extends the sha256 digest of every event but EV_NO_ACTION into its PCR,
  // in log order, as the firmware did.
  void ExtendBootLog() {
    auto log = verifier::ParseEventLog(boot_log_);
    ASSERT_TRUE(log.ok()) << log.error().ToString();
    ASSERT_EQ(log->format, verifier::EventLogFormat::kCryptoAgile);
    ASSERT_FALSE(log->startup_locality.has_value());
    ASSERT_FALSE(log->hcrtm);
    std::size_t extended = 0;
    for (const BootEvent& event : log->events) {
      if (event.type == verifier::kEvNoAction) continue;
      ASSERT_NE(std::ranges::find(kBootPcrs, event.pcr), std::end(kBootPcrs)) << event.pcr;
      const verifier::EventDigest* digest = event.digests.Find(TPM2_ALG_SHA256);
      ASSERT_NE(digest, nullptr) << "event at byte " << event.offset;
      Status status = tpm().ExtendPcr(
          event.pcr, {{TPM2_ALG_SHA256, Bytes(digest->digest.begin(), digest->digest.end())}});
      ASSERT_TRUE(status.ok()) << "PCR " << event.pcr << ": " << status.error().ToString();
      ++extended;
    }
    EXPECT_EQ(extended, LogFile().extending_events);
  }

  Evidence MakeEvidence(const Bytes& attest, const Bytes& signature,
                        const tpm::PcrValues& pcrs) const {
    Evidence evidence;
    evidence.nonce = nonce_;
    evidence.attest = attest;
    evidence.signature = signature;
    evidence.pcrs = pcrs;
    evidence.boot_log = boot_log_;
    evidence.runtime_log = RuntimeLog{kRuntimePcr, {}};
    return evidence;
  }

  // The policy `verifier policy learn` drafts from the evidence, checked to
  // be the one this test means: the quoted selection, the log's PCR values.
  Policy LearnedPolicy(const Evidence& evidence, const AttestationKey& key) {
    auto policy = verifier::LearnPolicy(evidence, key);
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    if (!policy.ok()) return {};
    EXPECT_EQ(policy->selection.ToString(), kSelection);
    EXPECT_EQ(policy->runtime.pcr, kRuntimePcr);
    const auto& allowed = policy->boot.allowed_pcr_values;
    EXPECT_EQ(allowed.size(), 1u);
    if (allowed.contains(TPM2_ALG_SHA256)) {
      std::vector<std::uint32_t> pcrs;
      for (const auto& [pcr, values] : allowed.at(TPM2_ALG_SHA256)) {
        pcrs.push_back(pcr);
        EXPECT_EQ(values, std::vector<Bytes>{evidence.pcrs.at(TPM2_ALG_SHA256).at(pcr)}) << pcr;
      }
      EXPECT_EQ(pcrs, std::vector<std::uint32_t>(std::begin(kBootPcrs), std::end(kBootPcrs)));
    }
    return std::move(policy).value();
  }

  static Verdict Verify(const Evidence& evidence, const AttestationKey& key, const Policy& policy,
                        std::optional<Bytes> expected_nonce) {
    return verifier::VerifyEvidence(verifier::VerificationInput{
        evidence, key, policy, std::move(expected_nonce), std::nullopt});
  }

  // `good` verifies with `key` and with `pem_key`; every one-byte change to
  // it gives exactly the reasons listed, and nothing else.
  void ExpectEveryCheck(const Evidence& good, const AttestationKey& key,
                        const AttestationKey& pem_key, const AttestationKey& other_key);

  Bytes boot_log_;
  tpm::PcrSelection selection_;
  Bytes nonce_;
};

inline void VerifierSwtpmTest::ExpectEveryCheck(const Evidence& good, const AttestationKey& key,
                                                const AttestationKey& pem_key,
                                                const AttestationKey& other_key) {
  const Policy policy = LearnedPolicy(good, key);
  ASSERT_FALSE(HasFailure());

  // Untouched: trusted, with the AK as a TPM2B_PUBLIC and as a PEM key.
  Verdict verdict = Verify(good, key, policy, nonce_);
  EXPECT_TRUE(verdict.trusted) << Describe(verdict);
  EXPECT_EQ(Codes(verdict), CodeList{}) << Describe(verdict);
  EXPECT_TRUE(verdict.nonce_checked);
  ASSERT_TRUE(verdict.quote.has_value());
  const QuoteInfo& quote = *verdict.quote;
  EXPECT_EQ(quote.selection.ToString(), kSelection);
  EXPECT_EQ(quote.extra_data, nonce_);
  EXPECT_TRUE(quote.clock.safe);
  ASSERT_EQ(quote.pcr_digest.size(), 32u);  // sha256, the signing scheme's hash
  for (std::uint32_t pcr : kBootPcrs) {
    EXPECT_EQ(verdict.boot_replay.at(TPM2_ALG_SHA256).at(pcr),
              good.pcrs.at(TPM2_ALG_SHA256).at(pcr))
        << pcr;
  }
  Verdict with_pem = Verify(good, pem_key, policy, nonce_);
  EXPECT_TRUE(with_pem.trusted) << Describe(with_pem);
  EXPECT_EQ(Codes(with_pem), CodeList{}) << Describe(with_pem);

  EXPECT_TRUE(verdict.ak_attributes_checked);
  EXPECT_FALSE(with_pem.ak_attributes_checked);

  // Offline, no challenge at hand: not fresh, so not trusted...
  Verdict offline = Verify(good, key, policy, std::nullopt);
  EXPECT_EQ(Codes(offline), CodeList{"NONCE_NOT_CHECKED"}) << Describe(offline);
  EXPECT_FALSE(offline.nonce_checked);
  // ...unless the caller waives freshness, and the verdict still says so.
  verifier::VerificationInput waived{good, key, policy, std::nullopt, std::nullopt, true};
  Verdict offline_waived = verifier::VerifyEvidence(waived);
  EXPECT_TRUE(offline_waived.trusted) << Describe(offline_waived);
  EXPECT_FALSE(offline_waived.nonce_checked);

  // Another AK of the same TPM did not sign it.
  Verdict other = Verify(good, other_key, policy, nonce_);
  EXPECT_EQ(Codes(other), CodeList{"SIGNATURE_INVALID"}) << Describe(other);

  // TPMS_ATTEST: magic(4) type(2) qualifiedSigner(2+n) extraData(2+32)
  // clockInfo(clock 8, resetCount 4, restartCount 4, safe 1)
  // firmwareVersion(8) TPMS_QUOTE_INFO(pcrSelect, pcrDigest 2+32).
  const std::size_t nonce_offset = 4 + 2 + 2 + quote.qualified_signer.size() + 2;
  const std::size_t safe_offset = nonce_offset + nonce_.size() + 8 + 4 + 4;
  const std::size_t firmware_offset = safe_offset + 1;
  ASSERT_EQ(Bytes(good.attest.begin() + static_cast<std::ptrdiff_t>(nonce_offset),
                  good.attest.begin() + static_cast<std::ptrdiff_t>(nonce_offset + nonce_.size())),
            nonce_);
  ASSERT_EQ(good.attest[safe_offset], 1);  // TPM_YES
  ASSERT_EQ(Bytes(good.attest.end() - 32, good.attest.end()), quote.pcr_digest);
  auto with_attest_flipped = [&](std::size_t offset) {
    Evidence evidence = good;
    evidence.attest[offset] ^= 0x01;
    return Verify(evidence, key, policy, nonce_);
  };
  {
    // The magic: not something the TPM produced, so nothing in it is read
    // (the rest is checked against the policy's selection).
    Verdict bad = with_attest_flipped(0);
    EXPECT_EQ(Codes(bad), (CodeList{"ATTEST_MALFORMED", "SIGNATURE_INVALID"})) << Describe(bad);
    EXPECT_FALSE(bad.quote.has_value());
  }
  {
    // The signed nonce: differs from both the evidence's and the challenge.
    Verdict bad = with_attest_flipped(nonce_offset);
    EXPECT_EQ(Codes(bad), (CodeList{"SIGNATURE_INVALID", "NONCE_MISMATCH", "NONCE_MISMATCH"}))
        << Describe(bad);
  }
  {
    // clockInfo.safe 1 -> 0: the parsed (unsigned) clock is then unsafe.
    Verdict bad = with_attest_flipped(safe_offset);
    EXPECT_EQ(Codes(bad), (CodeList{"SIGNATURE_INVALID", "CLOCK_UNSAFE"})) << Describe(bad);
  }
  {
    // firmwareVersion: no check reads it, only the signature covers it.
    Verdict bad = with_attest_flipped(firmware_offset);
    EXPECT_EQ(Codes(bad), CodeList{"SIGNATURE_INVALID"}) << Describe(bad);
  }
  {
    // The last byte of pcrDigest: the posted PCRs no longer hash to it.
    Verdict bad = with_attest_flipped(good.attest.size() - 1);
    EXPECT_EQ(Codes(bad), (CodeList{"SIGNATURE_INVALID", "PCR_DIGEST_MISMATCH"})) << Describe(bad);
  }

  // TPMT_SIGNATURE: the last byte is in the signature value (ECDSA s, or the
  // RSASSA block); the first is in sigAlg, which then names no scheme.
  for (std::size_t offset : {good.signature.size() - 1, std::size_t{0}}) {
    Evidence evidence = good;
    evidence.signature[offset] ^= 0x01;
    Verdict bad = Verify(evidence, key, policy, nonce_);
    EXPECT_EQ(Codes(bad), CodeList{"SIGNATURE_INVALID"}) << offset << Describe(bad);
    if (!bad.reasons.empty()) {
      const std::string expected_detail = offset == 0 ? "signature is not a TPMT_SIGNATURE"
                                                      : "the quote is not signed by this node's AK";
      EXPECT_EQ(bad.reasons[0].detail.rfind(expected_detail, 0), 0u) << bad.reasons[0].detail;
    }
  }

  // A posted PCR value: the quote's pcrDigest no longer matches, and the
  // checks that compare logs and policy with the posted values (they run
  // on, to report everything) find that PCR off too: its pinned value, and
  // its boot applications, which an unverified PCR 4 cannot establish.
  {
    Evidence evidence = good;
    evidence.pcrs[TPM2_ALG_SHA256][4][0] ^= 0x01;
    Verdict bad = Verify(evidence, key, policy, nonce_);
    EXPECT_EQ(Codes(bad), (CodeList{"PCR_DIGEST_MISMATCH", "BOOT_LOG_REPLAY_MISMATCH",
                                    "BOOT_POLICY_VIOLATION", "BOOT_POLICY_VIOLATION"}))
        << Describe(bad);
    if (bad.reasons.size() == 4) {
      EXPECT_EQ(bad.reasons[0].pcr, std::nullopt);
      EXPECT_EQ(bad.reasons[1].pcr, 4u);
      EXPECT_EQ(bad.reasons[2].pcr, 4u);
      EXPECT_EQ(bad.reasons[3].pcr, 4u);
    }
  }
  {
    // The runtime PCR: no boot policy on it; the empty runtime log no
    // longer replays to the posted value.
    Evidence evidence = good;
    evidence.pcrs[TPM2_ALG_SHA256][kRuntimePcr][31] ^= 0x80;
    Verdict bad = Verify(evidence, key, policy, nonce_);
    EXPECT_EQ(Codes(bad), (CodeList{"PCR_DIGEST_MISMATCH", "RUNTIME_LOG_REPLAY_MISMATCH"}))
        << Describe(bad);
    if (bad.reasons.size() == 2) {
      EXPECT_EQ(bad.reasons[1].pcr, kRuntimePcr);
    }
  }

  // The nonce: the quote is the node's answer to another challenge.
  {
    Bytes other_nonce = nonce_;
    other_nonce[5] ^= 0x01;
    Verdict bad = Verify(good, key, policy, other_nonce);
    EXPECT_EQ(Codes(bad), CodeList{"NONCE_MISMATCH"}) << Describe(bad);
    if (!bad.reasons.empty()) {
      EXPECT_NE(bad.reasons[0].detail.find("the challenge was " + HexEncode(other_nonce)),
                std::string::npos)
          << bad.reasons[0].detail;
    }
    // The evidence claiming the challenge's nonce does not help.
    Evidence claiming = good;
    claiming.nonce = other_nonce;
    Verdict claimed = Verify(claiming, key, policy, other_nonce);
    EXPECT_EQ(Codes(claimed), (CodeList{"NONCE_MISMATCH", "NONCE_MISMATCH"})) << Describe(claimed);
  }
}

}  // namespace attest::test::verifier_swtpm
