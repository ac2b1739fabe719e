// The verifier against real TPM quotes: a real boot log is replayed into
// swtpm, quoted by tpm2-tools and by attestd, and the evidence verified end
// to end; then each part of it (attest, signature, PCR values, nonce, boot
// log) is altered by one byte and the verdict must name exactly what broke.
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

namespace attest::test {
namespace {

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
void PrintTo(const BootLogFile& file, std::ostream* out) { *out << file.relative; }

std::string PathOf(const BootLogFile& file) {
  return file.shared ? testdata::SharedPath(file.relative) : testdata::FixturePath(file.relative);
}

// "SIGNATURE_INVALID", ... in verdict order.
std::vector<std::string> Codes(const Verdict& verdict) {
  std::vector<std::string> codes;
  for (const Reason& reason : verdict.reasons) {
    codes.emplace_back(verifier::ReasonCodeName(reason.code));
  }
  return codes;
}

std::string Describe(const Verdict& verdict) {
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
void ParseToolsPcrFile(const std::string& file, tpm::PcrSelection* selection,
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

void VerifierSwtpmTest::ExpectEveryCheck(const Evidence& good, const AttestationKey& key,
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

// tpm2-tools make the AK and the quote; the verifier reads their files.
class ToolsQuoteTest : public VerifierSwtpmTest,
                       public ::testing::WithParamInterface<AkAlgorithm> {};

TEST_P(ToolsQuoteTest, VerifierAcceptsTpm2QuoteAndNamesEveryAlteration) {
  const bool ecc = GetParam() == AkAlgorithm::kEccP256;
  ExtendBootLog();
  ASSERT_FALSE(HasFatalFailure());

  CommandResult ek = Tool(
      {"tpm2_createek", "-c", File("ek.ctx"), "-G", ecc ? "ecc" : "rsa", "-u", File("ek.pub")});
  ASSERT_EQ(ek.exit_code, 0) << ek.err;
  CommandResult ak = Tool({"tpm2_createak", "-C", File("ek.ctx"), "-G", ecc ? "ecc" : "rsa", "-g",
                           "sha256", "-s", ecc ? "ecdsa" : "rsassa", "-u", File("ak.pub"), "-n",
                           File("ak.name"), "-c", File("ak.ctx")});
  ASSERT_EQ(ak.exit_code, 0) << ak.err;
  // Without a resource manager the tools leave every object they create or
  // load from a context file in the TPM (tpm2_createek: the EK,
  // tpm2_createak: the AK, tpm2_quote and tpm2_readpublic: the AK again),
  // and swtpm has three object slots: flush them, as a resource manager
  // would. The saved contexts stay loadable.
  EXPECT_NE(TransientHandles(), "");
  CommandResult flushed = Tool({"tpm2_flushcontext", "-t"});
  ASSERT_EQ(flushed.exit_code, 0) << flushed.err;
  ASSERT_EQ(TransientHandles(), "");
  CommandResult quoted =
      Tool({"tpm2_quote", "-c", File("ak.ctx"), "-l", kSelection, "-q", HexEncode(nonce_), "-m",
            File("quote.msg"), "-s", File("quote.sig"), "-o", File("pcrs.out"), "-g", "sha256"});
  ASSERT_EQ(quoted.exit_code, 0) << quoted.err;
  CommandResult pem =
      Tool({"tpm2_readpublic", "-c", File("ak.ctx"), "-f", "pem", "-o", File("ak.pem")});
  ASSERT_EQ(pem.exit_code, 0) << pem.err;
  EXPECT_NE(TransientHandles(), "");
  ASSERT_EQ(Tool({"tpm2_flushcontext", "-t"}).exit_code, 0);
  ASSERT_EQ(TransientHandles(), "");

  // The PCR values tpm2_quote read are the ones attestd reads (and the boot
  // log's replay: ExpectEveryCheck compares them); PCR 15 was never
  // extended.
  tpm::PcrSelection file_selection;
  tpm::PcrValues file_values;
  ParseToolsPcrFile(ReadText(File("pcrs.out")), &file_selection, &file_values);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(file_selection.ToString(), kSelection);
  auto read = tpm().ReadPcrs(selection_);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(file_values, *read);
  EXPECT_EQ(read->at(TPM2_ALG_SHA256).at(kRuntimePcr), Bytes(32, 0));

  auto key = verifier::ParseAttestationKey(AsBytes(ReadText(File("ak.pub"))));
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  ASSERT_TRUE(key->public_area.has_value());
  EXPECT_EQ(key->public_area->type, ecc ? TPM2_ALG_ECC : TPM2_ALG_RSA);
  EXPECT_EQ(key->name, ToBytes(ReadText(File("ak.name"))));  // tpm2_createak -n: the TPM's name
  auto pem_key = verifier::ParseAttestationKey(AsBytes(ReadText(File("ak.pem"))),
                                               {.allow_bare_public_key = true});
  ASSERT_TRUE(pem_key.ok()) << pem_key.error().ToString();
  EXPECT_FALSE(pem_key->public_area.has_value());
  auto other_blob = tpm().CreateAttestationKey(GetParam());
  ASSERT_TRUE(other_blob.ok()) << other_blob.error().ToString();
  auto other_key = verifier::ParseAttestationKey(other_blob->public_area);
  ASSERT_TRUE(other_key.ok()) << other_key.error().ToString();

  const Evidence good = MakeEvidence(ToBytes(ReadText(File("quote.msg"))),
                                     ToBytes(ReadText(File("quote.sig"))), file_values);
  // tpm2_quote -s without -f plain writes a TPMT_SIGNATURE: sigAlg first.
  ASSERT_GE(good.signature.size(), 2u);
  EXPECT_EQ((good.signature[0] << 8) | good.signature[1], ecc ? TPM2_ALG_ECDSA : TPM2_ALG_RSASSA);
  ExpectEveryCheck(good, *key, *pem_key, *other_key);

  // And tpm2_checkquote agrees on the same files.
  CommandResult check = RunCommand({"tpm2_checkquote", "-u", File("ak.pub"), "-m",
                                    File("quote.msg"), "-s", File("quote.sig"), "-f",
                                    File("pcrs.out"), "-q", HexEncode(nonce_), "-g", "sha256"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

std::string AlgorithmName(const ::testing::TestParamInfo<AkAlgorithm>& info) {
  return info.param == AkAlgorithm::kEccP256 ? "EccP256" : "Rsa2048";
}

INSTANTIATE_TEST_SUITE_P(EccAndRsa, ToolsQuoteTest,
                         ::testing::Values(AkAlgorithm::kEccP256, AkAlgorithm::kRsa2048),
                         AlgorithmName);

// attestd makes the AK and the quote, as on a node.
class AttestdQuoteTest : public VerifierSwtpmTest,
                         public ::testing::WithParamInterface<AkAlgorithm> {};

TEST_P(AttestdQuoteTest, VerifierAcceptsAttestdsQuoteAndNamesEveryAlteration) {
  ExtendBootLog();
  ASSERT_FALSE(HasFatalFailure());
  auto ak = tpm().CreateAttestationKey(GetParam());
  ASSERT_TRUE(ak.ok()) << ak.error().ToString();
  auto quote = tpm().MakeQuote(*ak, nonce_, selection_);
  ASSERT_TRUE(quote.ok()) << quote.error().ToString();
  EXPECT_EQ(TransientHandles(), "");
  EXPECT_EQ(quote->selection.ToString(), kSelection);

  auto key = verifier::ParseAttestationKey(ak->public_area);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  const std::string pem = PublicKeyPem(ak->public_area);
  auto pem_key = verifier::ParseAttestationKey(AsBytes(pem), {.allow_bare_public_key = true});
  ASSERT_TRUE(pem_key.ok()) << pem_key.error().ToString();
  auto other_blob = tpm().CreateAttestationKey(GetParam());
  ASSERT_TRUE(other_blob.ok()) << other_blob.error().ToString();
  auto other_key = verifier::ParseAttestationKey(other_blob->public_area);
  ASSERT_TRUE(other_key.ok()) << other_key.error().ToString();

  ExpectEveryCheck(MakeEvidence(quote->attest, quote->signature, quote->pcrs), *key, *pem_key,
                   *other_key);
}

INSTANTIATE_TEST_SUITE_P(EccAndRsa, AttestdQuoteTest,
                         ::testing::Values(AkAlgorithm::kEccP256, AkAlgorithm::kRsa2048),
                         AlgorithmName);

// The boot log replayed into the TPM: the replay is what the TPM holds, a
// quote over it verifies, and a log that differs by one digest byte does not.
class BootLogReplayTest : public VerifierSwtpmTest,
                          public ::testing::WithParamInterface<BootLogFile> {
 protected:
  const BootLogFile& LogFile() const override { return GetParam(); }

  // The byte offset of the sha256 digest of the first event in `pcr` of
  // `type`.
  std::size_t DigestOffset(std::uint32_t pcr, std::uint32_t type) {
    auto log = verifier::ParseEventLog(boot_log_);
    EXPECT_TRUE(log.ok());
    if (!log.ok()) return 0;
    for (const BootEvent& event : log->events) {
      if (event.pcr != pcr || event.type != type) continue;
      const verifier::EventDigest* digest = event.digests.Find(TPM2_ALG_SHA256);
      EXPECT_NE(digest, nullptr);
      if (digest == nullptr) return 0;
      return static_cast<std::size_t>(digest->digest.data() - boot_log_.data());
    }
    ADD_FAILURE() << "no event of type " << type << " in PCR " << pcr;
    return 0;
  }
};

TEST_P(BootLogReplayTest, ReplayEqualsTheTpmAndOneAlteredDigestNamesItsPcr) {
  ExtendBootLog();
  ASSERT_FALSE(HasFatalFailure());
  auto values = tpm().ReadPcrs(selection_);
  ASSERT_TRUE(values.ok()) << values.error().ToString();
  const std::map<std::uint32_t, Bytes>& tpm_sha256 = values->at(TPM2_ALG_SHA256);

  // The verifier's replay of the log is what the TPM computed, PCR by PCR,
  // and what the log's curator recorded (.expected.json); the runtime PCR
  // is not in the log and still zero.
  auto log = verifier::ParseEventLog(boot_log_);
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  const tpm::PcrValues replay = verifier::ReplayEventLog(*log);
  ASSERT_EQ(replay.size(), LogFile().banks);  // swtpm's sha256 bank is the one quoted
  std::vector<std::uint32_t> replayed_pcrs;
  for (const auto& [pcr, value] : replay.at(TPM2_ALG_SHA256)) replayed_pcrs.push_back(pcr);
  EXPECT_EQ(replayed_pcrs, std::vector<std::uint32_t>(std::begin(kBootPcrs), std::end(kBootPcrs)));
  auto expected = ParseJsonStrict(ReadText(PathOf(LogFile()) + ".expected.json"));
  ASSERT_TRUE(expected.ok()) << expected.error().ToString();
  const Json& expected_sha256 = (*expected)["expected_pcrs"]["sha256"];
  ASSERT_EQ(expected_sha256.size(), std::size(kBootPcrs));
  for (std::uint32_t pcr : kBootPcrs) {
    EXPECT_EQ(replay.at(TPM2_ALG_SHA256).at(pcr), tpm_sha256.at(pcr)) << pcr;
    EXPECT_EQ(HexEncode(tpm_sha256.at(pcr)),
              expected_sha256.at(std::to_string(pcr)).get<std::string>())
        << pcr;
  }
  EXPECT_EQ(tpm_sha256.at(kRuntimePcr), Bytes(32, 0));

  auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_TRUE(ak.ok()) << ak.error().ToString();
  auto quote = tpm().MakeQuote(*ak, nonce_, selection_);
  ASSERT_TRUE(quote.ok()) << quote.error().ToString();
  EXPECT_EQ(quote->pcrs, *values);
  auto key = verifier::ParseAttestationKey(ak->public_area);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  const Evidence good = MakeEvidence(quote->attest, quote->signature, quote->pcrs);
  const Policy policy = LearnedPolicy(good, *key);
  ASSERT_FALSE(HasFailure());
  // The log's four EFI applications (all in PCR 4) became the policy's
  // allowed boot applications.
  ASSERT_TRUE(policy.boot.allowed_boot_applications.has_value());

  Verdict verdict = Verify(good, *key, policy, nonce_);
  EXPECT_TRUE(verdict.trusted) << Describe(verdict);
  EXPECT_EQ(Codes(verdict), CodeList{}) << Describe(verdict);
  EXPECT_EQ(verdict.boot_replay, replay);

  // One byte of PCR 4's EV_SEPARATOR digest: the log no longer replays to
  // the quoted PCR 4, so none of PCR 4's events can establish the boot
  // applications.
  {
    Evidence altered = good;
    altered.boot_log->at(DigestOffset(4, verifier::kEvSeparator)) ^= 0x01;
    Verdict bad = Verify(altered, *key, policy, nonce_);
    EXPECT_FALSE(bad.trusted);
    ASSERT_EQ(Codes(bad), (CodeList{"BOOT_LOG_REPLAY_MISMATCH", "BOOT_POLICY_VIOLATION"}))
        << Describe(bad);
    EXPECT_EQ(bad.reasons[0].pcr, 4u);
    EXPECT_EQ(bad.reasons[0].detail.rfind("PCR 4 (sha256) replays to ", 0), 0u)
        << bad.reasons[0].detail;
    EXPECT_NE(bad.reasons[0].detail.find(HexEncode(tpm_sha256.at(4))), std::string::npos)
        << bad.reasons[0].detail;
  }
  // One byte of the first EFI application's digest in PCR 4: the replay
  // breaks the same way.
  {
    Evidence altered = good;
    altered.boot_log->at(DigestOffset(4, verifier::kEvEfiBootServicesApplication)) ^= 0x01;
    Verdict bad = Verify(altered, *key, policy, nonce_);
    ASSERT_EQ(Codes(bad), (CodeList{"BOOT_LOG_REPLAY_MISMATCH", "BOOT_POLICY_VIOLATION"}))
        << Describe(bad);
    EXPECT_EQ(bad.reasons[0].pcr, 4u);
    EXPECT_EQ(bad.reasons[1].pcr, 4u);
  }
  // No boot log at all: nothing explains the quoted boot PCRs, and the
  // policy's boot application rule has no events to apply to.
  {
    Evidence without = good;
    without.boot_log.reset();
    Verdict bad = Verify(without, *key, policy, nonce_);
    EXPECT_EQ(Codes(bad), (CodeList{"BOOT_LOG_REQUIRED", "BOOT_POLICY_VIOLATION"}))
        << Describe(bad);
  }
}

std::string LogName(const ::testing::TestParamInfo<BootLogFile>& info) { return info.param.name; }

// The repository's fixture always; keylime's log skips, naming the
// variable, when the shared set is missing.
INSTANTIATE_TEST_SUITE_P(Logs, BootLogReplayTest, ::testing::Values(kFixtureLog, kKeylimeLog),
                         LogName);

}  // namespace
}  // namespace attest::test
