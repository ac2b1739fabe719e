#include "e2e_test_support.h"

#include <algorithm>
#include <cctype>

namespace attest::test {

std::int64_t UnixNow() {
  return std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void E2eTest::SetUp() {
  auto created = E2eDeployment::Create(Options());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  deployment_ = std::move(created).value();
  ASSERT_NO_FATAL_FAILURE(BeforeVerifierStarts());
  Status serving = deployment_->StartVerifier();
  ASSERT_TRUE(serving.ok()) << serving.error().ToString();
}

void E2eTest::StartNode(const std::map<std::string, std::string>& environment) {
  const std::int64_t started = UnixNow();
  Status attestd = deployment_->StartAttestd(environment);
  ASSERT_TRUE(attestd.ok()) << attestd.error().ToString();
  ASSERT_NO_FATAL_FAILURE(WaitUntilTrusted(started));
  auto id = deployment_->NodeId();
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  node_id_ = *id;
}

void E2eTest::WaitUntilTrusted(std::int64_t since, seconds timeout) {
  auto status = deployment_->WaitForAttestd(
      [since](const attestd::AttestationStatus& last) {
        return last.state == "trusted" && last.time >= since &&
               last.certificate_not_after > UnixNow();
      },
      E2eDeployment::In(timeout), "trusted with a certificate");
  ASSERT_TRUE(status.ok()) << status.error().ToString();
}

std::vector<std::string> Serials(const Json& node) {
  std::vector<std::string> serials;
  for (const Json& certificate : node["certificates"]) {
    serials.push_back(certificate["serial"].get<std::string>());
  }
  return serials;
}

std::vector<Json> EntriesOf(const std::vector<Json>& entries, const std::string& kind,
                            const std::string& node_id) {
  std::vector<Json> found;
  for (const Json& entry : entries) {
    if (entry["kind"] != kind) continue;
    const Json& payload = entry["payload"];
    if (payload.is_object() && payload.contains("node_id") && payload["node_id"] == node_id) {
      found.push_back(entry);
    }
  }
  return found;
}

std::string CertificateSerial(const std::string& pem_path) {
  CommandResult result = RunCommand({"openssl", "x509", "-in", pem_path, "-noout", "-serial"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::string serial = result.out;
  const std::size_t equals = serial.find('=');
  if (equals != std::string::npos) serial = serial.substr(equals + 1);
  while (!serial.empty() && std::isspace(static_cast<unsigned char>(serial.back()))) {
    serial.pop_back();
  }
  std::transform(serial.begin(), serial.end(), serial.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  // The API writes the serial without leading zeros.
  while (serial.size() > 1 && serial[0] == '0') serial.erase(0, 1);
  return serial;
}

}  // namespace attest::test
