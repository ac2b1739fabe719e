// attestd.toml: the example file parses to the documented defaults, every
// key the parser takes is in the README's table and the example, and each
// kind of mistake is refused naming the key.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "attest/attestd/config.h"
#include "attest/testing/test_support.h"

namespace attest::attestd {
namespace {

using test::ReadText;

const std::string kMinimal =
    "[verifier]\nurl = \"https://verifier.example:8443\"\nca_bundle = \"ca.pem\"\n";

std::string ErrorOf(const std::string& text) {
  Result<AttestdConfig> config = ParseAttestdConfig(text, "/etc/attestd/attestd.toml");
  EXPECT_FALSE(config.ok()) << text;
  if (config.ok()) return "";
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
  return config.error().message;
}

TEST(AttestdConfigTest, TheExampleFileHasEveryKeyAtItsDefault) {
  const std::string example = ReadText(ATTEST_ATTESTD_SOURCE_DIR "/examples/attestd.toml");
  Result<AttestdConfig> parsed = ParseAttestdConfig(example, "/etc/attestd/attestd.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  Result<AttestdConfig> minimal = ParseAttestdConfig(kMinimal, "/etc/attestd/attestd.toml");
  ASSERT_TRUE(minimal.ok()) << minimal.error().ToString();
  // Everything but the required keys and the runtime files is the default.
  EXPECT_EQ(parsed->state_dir, minimal->state_dir);
  EXPECT_EQ(parsed->tcti, minimal->tcti);
  EXPECT_EQ(parsed->tcti, "device:/dev/tpmrm0");
  EXPECT_EQ(parsed->ek_algorithm, minimal->ek_algorithm);
  EXPECT_EQ(parsed->ak_algorithm, minimal->ak_algorithm);
  EXPECT_EQ(parsed->request_timeout, minimal->request_timeout);
  EXPECT_EQ(parsed->hostname, minimal->hostname);
  EXPECT_EQ(parsed->certificate_dir, minimal->certificate_dir);
  EXPECT_EQ(parsed->node_key, NodeKeyKind::kTpm);
  EXPECT_EQ(parsed->boot_log, minimal->boot_log);
  EXPECT_EQ(parsed->runtime_pcr, 15u);
  EXPECT_EQ(parsed->runtime_log, minimal->runtime_log);
  EXPECT_EQ(parsed->interval, minimal->interval);
  EXPECT_EQ(parsed->jitter, minimal->jitter);
  EXPECT_EQ(parsed->retry_min, minimal->retry_min);
  EXPECT_EQ(parsed->retry_max, minimal->retry_max);
  EXPECT_EQ(parsed->verifier.host, "verifier.example.internal");
  EXPECT_EQ(parsed->verifier.port, 8443);
  EXPECT_EQ(parsed->runtime_files.size(), 3u);
  // A relative path resolves against the file's directory.
  EXPECT_EQ(minimal->verifier_ca_bundle, "/etc/attestd/ca.pem");
}

TEST(AttestdConfigTest, EveryKeyIsInTheReadmeTableAndTheExample) {
  const std::string readme = ReadText(ATTEST_ATTESTD_SOURCE_DIR "/README.md");
  const std::string example = ReadText(ATTEST_ATTESTD_SOURCE_DIR "/examples/attestd.toml");
  const std::vector<std::string> keys = AttestdConfigKeys();
  EXPECT_EQ(keys.size(), 18u);
  for (const std::string& key : keys) {
    EXPECT_NE(readme.find("| `" + key + "` |"), std::string::npos) << key << " not in README.md";
    const std::string name = key.substr(key.rfind('.') + 1);
    EXPECT_NE(example.find("\n" + name + " = "), std::string::npos) << key << " not in the example";
  }
}

TEST(AttestdConfigTest, MistakesAreRefusedNamingTheKey) {
  EXPECT_EQ(ErrorOf(kMinimal + "[tpm]\ntcti = 3\n"),
            "/etc/attestd/attestd.toml: tpm.tcti: must be a string, not an integer");
  EXPECT_EQ(ErrorOf(kMinimal + "[tpm]\ntctl = \"x\"\n"),
            "/etc/attestd/attestd.toml: tpm.tctl: unknown key");
  EXPECT_EQ(ErrorOf("colour = 1\n" + kMinimal), "/etc/attestd/attestd.toml: colour: unknown key");
  EXPECT_NE(ErrorOf("[verifier]\nca_bundle = \"ca.pem\"\n").find("verifier.url: missing"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[verifier]\nurl = \"https://v:1\"\n").find("verifier.ca_bundle: missing"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(kMinimal + "[measurement]\nruntime_pcr = 17\n").find("measurement.runtime_pcr: "),
      std::string::npos);
  EXPECT_NE(ErrorOf(kMinimal + "[schedule]\nretry_min_seconds = 10\nretry_max_seconds = 5\n")
                .find("schedule.retry_min_seconds: is larger"),
            std::string::npos);
  EXPECT_NE(ErrorOf(kMinimal + "[schedule]\ninterval_seconds = 0\n")
                .find("schedule.interval_seconds: must be 1..86400, not 0"),
            std::string::npos);
  EXPECT_NE(ErrorOf(kMinimal + "[node]\nkey = \"hsm\"\n").find("node.key: must be"),
            std::string::npos);
  // A syntax error names the line.
  EXPECT_EQ(ErrorOf(kMinimal + "[tpm\n").rfind("/etc/attestd/attestd.toml:4:", 0), 0u);
}

TEST(AttestdConfigTest, OnlyHttpsUrlsWithAHostAndNothingElse) {
  Result<VerifierEndpoint> plain = ParseVerifierUrl("https://127.0.0.1:8443/");
  ASSERT_TRUE(plain.ok()) << plain.error().ToString();
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 8443);
  Result<VerifierEndpoint> default_port = ParseVerifierUrl("https://verifier.example");
  ASSERT_TRUE(default_port.ok());
  EXPECT_EQ(default_port->port, 443);
  for (const char* bad : {"http://verifier:8443", "https://", "https://:8443", "https://v:0",
                          "https://v:65536", "https://v:80a", "https://v/path", "https://user@v",
                          "https://v?x=1", "https://v_1", "verifier:8443"}) {
    EXPECT_FALSE(ParseVerifierUrl(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace attest::attestd
