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
  ASSERT_EQ(parsed->verifiers.size(), 1u);
  EXPECT_EQ(parsed->verifiers[0].host, "verifier.example.internal");
  EXPECT_EQ(parsed->verifiers[0].port, 8443);
  EXPECT_EQ(parsed->runtime_files.size(), 3u);
  // A relative path resolves against the file's directory.
  EXPECT_EQ(minimal->verifier_ca_bundle, "/etc/attestd/ca.pem");
}

TEST(AttestdConfigTest, EveryKeyIsInTheReadmeTableAndTheExample) {
  const std::string readme = ReadText(ATTEST_ATTESTD_SOURCE_DIR "/README.md");
  const std::string example = ReadText(ATTEST_ATTESTD_SOURCE_DIR "/examples/attestd.toml");
  const std::vector<std::string> keys = AttestdConfigKeys();
  EXPECT_EQ(keys.size(), 19u);
  for (const std::string& key : keys) {
    EXPECT_NE(readme.find("| `" + key + "` |"), std::string::npos) << key << " not in README.md";
    const std::string name = key.substr(key.rfind('.') + 1);
    // verifier.urls excludes verifier.url, so the example shows it commented out.
    const bool shown =
        example.find("\n" + name + " = ") != std::string::npos ||
        (key == "verifier.urls" && example.find("\n# " + name + " = ") != std::string::npos);
    EXPECT_TRUE(shown) << key << " not in the example";
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

TEST(AttestdConfigTest, SeveralVerifiersAreTriedInTheOrderGiven) {
  Result<AttestdConfig> parsed = ParseAttestdConfig(
      "[verifier]\nurls = [\"https://a.example:8443\", \"https://b.example\"]\n"
      "ca_bundle = \"ca.pem\"\n",
      "/etc/attestd/attestd.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  ASSERT_EQ(parsed->verifiers.size(), 2u);
  EXPECT_EQ(parsed->verifiers[0].host, "a.example");
  EXPECT_EQ(parsed->verifiers[0].port, 8443);
  EXPECT_EQ(parsed->verifiers[1].host, "b.example");
  EXPECT_EQ(parsed->verifiers[1].port, 443);
}

TEST(AttestdConfigTest, VerifierUrlListMistakesAreRefused) {
  const std::string bundle = "ca_bundle = \"ca.pem\"\n";
  EXPECT_NE(ErrorOf("[verifier]\nurl = \"https://a:1\"\nurls = [\"https://b:1\"]\n" + bundle)
                .find("verifier.urls: is given with verifier.url"),
            std::string::npos);
  // Whichever comes first in the file (toml++ reads a table's keys sorted).
  EXPECT_NE(ErrorOf("[verifier]\nurls = [\"https://b:1\"]\nurl = \"https://a:1\"\n" + bundle)
                .find("verifier.urls: is given with verifier.url"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[verifier]\nurls = []\n" + bundle).find("verifier.urls: must list 1 to 8"),
            std::string::npos);
  std::string nine = "[verifier]\nurls = [";
  for (int i = 0; i < 9; ++i)
    nine += (i ? ", " : "") + std::string("\"https://v") + char('0' + i) + "\"";
  EXPECT_NE(ErrorOf(nine + "]\n" + bundle).find("verifier.urls: must list 1 to 8"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[verifier]\nurls = [\"https://a:1\", \"https://a:1/\"]\n" + bundle)
                .find("verifier.urls: names https://a:1/ twice"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[verifier]\nurls = [\"https://a:1\", \"http://b:1\"]\n" + bundle)
                .find("verifier.urls: \"http://b:1\" is not an https:// URL"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[verifier]\nurls = [\"https://a:1\", 2]\n" + bundle).find("verifier.urls"),
            std::string::npos);
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
