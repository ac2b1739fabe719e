#include "boot_facts_test_util.h"

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/testdata.h"
#include "attest/tpm/algorithms.h"

#include "event_log_test_util.h"

namespace attest::verifier::test {
namespace {

tpm::PcrValues SidecarPcrs(const std::string& path) {
  tpm::PcrValues values;
  const nlohmann::json sidecar = ReadSidecarAt(path);
  for (const auto& [bank_name, pcrs] : sidecar["expected_pcrs"].items()) {
    std::uint16_t bank = tpm::HashAlgorithmByName(bank_name).value().id;
    for (const auto& [pcr, hex] : pcrs.items()) {
      values[bank][static_cast<std::uint32_t>(std::stoul(pcr))] =
          HexDecode(hex.get<std::string>()).value();
    }
  }
  return values;
}

}  // namespace

std::unique_ptr<Checked> Check(Bytes bytes, const tpm::PcrValues& quoted) {
  auto checked = std::make_unique<Checked>();
  checked->bytes = std::move(bytes);
  Result<EventLog> log = ParseEventLog(checked->bytes);
  EXPECT_TRUE(log.ok()) << log.error().ToString();
  if (!log.ok()) return checked;
  checked->log = std::move(log).value();
  checked->replayed = ReplayEventLog(checked->log);
  checked->verified = VerifyEventLog(checked->log, checked->replayed, quoted, {});
  checked->facts = ExtractBootFacts(*checked->verified);
  return checked;
}

std::size_t LoggedIndex(const SyntheticLog& log, std::uint32_t pcr, std::size_t position) {
  return log.IndexOf(pcr, position) + 1;
}

tpm::PcrValues TpmValues(const SyntheticLog& measured) {
  Bytes bytes = measured.Serialize();
  return ReplayEventLog(ParseEventLog(bytes).value());
}

std::unique_ptr<Checked> CheckLogAt(const std::string& path) {
  return Check(ReadEventLogAt(path), SidecarPcrs(path));
}

std::unique_ptr<Checked> CheckRealLog(const std::string& name) {
  return CheckLogAt(EventLogDir() + "/" + name);
}

std::unique_ptr<Checked> CheckFixtureLog(const std::string& name) {
  return CheckLogAt(testdata::FixturePath("eventlogs/" + name));
}

}  // namespace attest::verifier::test
