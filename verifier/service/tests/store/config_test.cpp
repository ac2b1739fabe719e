// ParseServiceConfig: defaults, every key, and errors that name the file
// and the key.
#include "attest/service/config.h"

#include <gtest/gtest.h>

#include "attest/testing/test_support.h"

namespace attest::service {
namespace {

constexpr std::string_view kName = "/etc/attest/verifier.toml";
const std::string kMinimal = "state_dir = \"/var/lib/attest-verifier\"\n";

ServiceConfig MustParse(const std::string& text) {
  auto config = ParseServiceConfig(text, kName);
  EXPECT_TRUE(config.ok()) << config.error().ToString();
  return config.ok() ? std::move(config).value() : ServiceConfig{};
}

// The error for `text`, which must name the file and `key`.
void ExpectKeyError(const std::string& text, const std::string& key,
                    const std::string& detail = "") {
  auto config = ParseServiceConfig(text, kName);
  ASSERT_FALSE(config.ok()) << "accepted:\n" << text;
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
  const std::string prefix = std::string(kName) + ": " + key + ": ";
  EXPECT_EQ(config.error().message.substr(0, prefix.size()), prefix) << config.error().message;
  EXPECT_NE(config.error().message.find(detail), std::string::npos) << config.error().message;
}

TEST(ConfigTest, OnlyStateDirIsRequiredAndTheRestHasDefaults) {
  ServiceConfig config = MustParse(kMinimal);
  ServiceConfig defaults;
  EXPECT_EQ(config.state_dir, "/var/lib/attest-verifier");
  EXPECT_EQ(config.listen, "127.0.0.1:8443");
  EXPECT_FALSE(config.threads.has_value());  // by the storage: ServingThreads
  EXPECT_EQ(config.max_body_bytes, defaults.max_body_bytes);
  EXPECT_EQ(config.enrollment_lifetime, std::chrono::seconds(300));
  EXPECT_EQ(config.crl_validity, std::chrono::hours(24));
  EXPECT_FALSE(config.require_approval);
  EXPECT_TRUE(config.webhooks.empty());
}

TEST(ConfigTest, EveryKeyIsRead) {
  ServiceConfig config = MustParse(R"(
listen = "[::1]:9443"
state_dir = "/srv/verifier"
[tls]
server_names = ["verifier.example", "10.0.0.5"]
client_ca = "orchestrators.pem"
[enrollment]
tpm_ca_bundle = "/etc/attest/tpm-vendors.pem"
ek_allowlist = "allowlist.txt"
require_approval = true
lifetime_seconds = 600
[policy]
file = "policy.json"
policy_keys = ["keys/admin.pub"]
approval_keys = ["keys/release.pub", "/etc/attest/ci.pem"]
trust_max_age_seconds = 240
[certificates]
allow_file_keys = true
crl_validity_seconds = 3600
[limits]
max_connections = 200
max_connections_per_address = 7
max_body_bytes = 1048576
header_timeout_ms = 5000
body_timeout_ms = 20000
idle_timeout_ms = 30000
threads = 4
rate_per_second = 2.5
rate_burst = 10
[proxy_protocol]
trusted_proxies = ["10.0.0.2", "10.0.1.0/28", "fd00:1::/64"]
[[webhooks]]
url = "https://hooks.example/attest"
ca_bundle = "hooks-ca.pem"
[[webhooks]]
url = "http://127.0.0.1:8080/hook"
)");
  EXPECT_EQ(config.listen, "[::1]:9443");
  EXPECT_EQ(config.state_dir, "/srv/verifier");
  EXPECT_EQ(config.server_names, (std::vector<std::string>{"verifier.example", "10.0.0.5"}));
  EXPECT_EQ(config.client_ca, "/etc/attest/orchestrators.pem");
  EXPECT_EQ(config.tpm_ca_bundle, "/etc/attest/tpm-vendors.pem");
  EXPECT_EQ(config.ek_allowlist, "/etc/attest/allowlist.txt");
  EXPECT_TRUE(config.require_approval);
  EXPECT_EQ(config.enrollment_lifetime, std::chrono::seconds(600));
  EXPECT_EQ(config.policy_file, "/etc/attest/policy.json");
  EXPECT_EQ(config.policy_keys, std::vector<std::string>{"/etc/attest/keys/admin.pub"});
  EXPECT_EQ(config.approval_keys,
            (std::vector<std::string>{"/etc/attest/keys/release.pub", "/etc/attest/ci.pem"}));
  EXPECT_EQ(config.trust_max_age, std::chrono::seconds(240));
  EXPECT_TRUE(config.allow_file_keys);
  EXPECT_EQ(config.crl_validity, std::chrono::seconds(3600));
  EXPECT_EQ(config.max_connections, 200u);
  EXPECT_EQ(config.max_connections_per_address, 7u);
  EXPECT_EQ(config.max_body_bytes, 1048576u);
  EXPECT_EQ(config.header_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(config.body_timeout, std::chrono::milliseconds(20000));
  EXPECT_EQ(config.idle_timeout, std::chrono::milliseconds(30000));
  EXPECT_EQ(config.threads, 4u);
  EXPECT_TRUE(MustParse(kMinimal).trusted_proxies.empty());
  EXPECT_DOUBLE_EQ(config.rate_limit.per_second, 2.5);
  EXPECT_DOUBLE_EQ(config.rate_limit.burst, 10);
  EXPECT_EQ(config.trusted_proxies,
            (std::vector<std::string>{"10.0.0.2", "10.0.1.0/28", "fd00:1::/64"}));
  ASSERT_EQ(config.webhooks.size(), 2u);
  EXPECT_EQ(config.webhooks[0].url, "https://hooks.example/attest");
  EXPECT_EQ(config.webhooks[0].ca_bundle, "/etc/attest/hooks-ca.pem");
  EXPECT_EQ(config.webhooks[1].url, "http://127.0.0.1:8080/hook");
  EXPECT_FALSE(config.webhooks[1].ca_bundle.has_value());
}

// Unset, the threads follow the storage: 2 with SQLite; with PostgreSQL,
// whose requests wait on round trips with their thread held, twice the
// cores, never under 4 nor over 16 (each holds a connection).
TEST(ConfigTest, ServingThreadsFollowTheStorageUnlessSet) {
  const ServiceConfig sqlite = MustParse(kMinimal);
  const ServiceConfig sqlite_dir = MustParse(kMinimal + "storage = \"/srv/attest\"\n");
  const ServiceConfig postgres =
      MustParse(kMinimal + "storage = \"postgresql:///attest?host=/run/postgresql\"\n");
  const ServiceConfig postgres_short = MustParse(kMinimal + "storage = \"postgres:///attest\"\n");
  for (unsigned cores : {0u, 1u, 2u, 8u, 64u}) {
    EXPECT_EQ(ServingThreads(sqlite, cores), 2u) << cores;
    EXPECT_EQ(ServingThreads(sqlite_dir, cores), 2u) << cores;
  }
  EXPECT_EQ(ServingThreads(postgres, 0), 4u);  // hardware_concurrency() may not know
  EXPECT_EQ(ServingThreads(postgres, 1), 4u);
  EXPECT_EQ(ServingThreads(postgres, 2), 4u);
  EXPECT_EQ(ServingThreads(postgres, 3), 6u);
  EXPECT_EQ(ServingThreads(postgres_short, 3), 6u);
  EXPECT_EQ(ServingThreads(postgres, 8), 16u);
  EXPECT_EQ(ServingThreads(postgres, 64), 16u);

  const ServiceConfig set_sqlite = MustParse(kMinimal + "[limits]\nthreads = 3\n");
  const ServiceConfig set_postgres =
      MustParse(kMinimal + "storage = \"postgresql:///attest\"\n[limits]\nthreads = 1\n");
  EXPECT_EQ(ServingThreads(set_sqlite, 64), 3u);
  EXPECT_EQ(ServingThreads(set_postgres, 64), 1u);
}

TEST(ConfigTest, TrustedProxiesMustBeAddressesOrPrefixes) {
  ExpectKeyError(kMinimal + "[proxy_protocol]\ntrusted_proxies = \"10.0.0.2\"\n",
                 "proxy_protocol.trusted_proxies", "an array");
  ExpectKeyError(kMinimal + "[proxy_protocol]\ntrusted_proxies = [\"10.0.0.2\", \"lb.example\"]\n",
                 "proxy_protocol.trusted_proxies[1]", "not an IP address or a prefix");
  ExpectKeyError(kMinimal + "[proxy_protocol]\ntrusted_proxies = [\"10.0.0.0/33\"]\n",
                 "proxy_protocol.trusted_proxies[0]", "prefix length must be 0..32");
  ExpectKeyError(kMinimal + "[proxy_protocol]\ntrusted_proxies = [\"10.0.0.1/24\"]\n",
                 "proxy_protocol.trusted_proxies[0]", "bits set past its prefix length");
  ExpectKeyError(kMinimal + "[proxy_protocol]\ntrusted_proxies = [5]\n",
                 "proxy_protocol.trusted_proxies[0]", "a string");
  ExpectKeyError(kMinimal + "[proxy_protocol]\ntrusted = [\"10.0.0.2\"]\n",
                 "proxy_protocol.trusted", "unknown key");
}

TEST(ConfigTest, UnknownKeysAreErrorsAtEveryLevel) {
  ExpectKeyError(kMinimal + "listn = \"127.0.0.1:1\"\n", "listn", "unknown key");
  ExpectKeyError(kMinimal + "[limits]\nthread = 2\n", "limits.thread", "unknown key");
  ExpectKeyError(kMinimal + "[server]\nport = 1\n", "server", "unknown key");
  ExpectKeyError(kMinimal + "[[webhooks]]\nurl = \"https://a.example/\"\nsecret = \"x\"\n",
                 "webhooks[0].secret", "unknown key");
}

TEST(ConfigTest, WrongTypesAreErrorsNamingTheExpectedType) {
  ExpectKeyError(kMinimal + "[limits]\nthreads = \"4\"\n", "limits.threads", "an integer");
  ExpectKeyError(kMinimal + "[enrollment]\nrequire_approval = 1\n", "enrollment.require_approval",
                 "true or false");
  ExpectKeyError(kMinimal + "[tls]\nserver_names = \"a.example\"\n", "tls.server_names", "array");
  ExpectKeyError(kMinimal + "[tls]\nserver_names = [\"a.example\", 5]\n", "tls.server_names[1]",
                 "a string");
  ExpectKeyError(kMinimal + "tls = 5\n", "tls", "a table");
  ExpectKeyError(kMinimal + "webhooks = \"https://a.example\"\n", "webhooks", "array of tables");
  ExpectKeyError(kMinimal + "[limits]\nrate_per_second = true\n", "limits.rate_per_second",
                 "a number");
  ExpectKeyError(kMinimal + "[policy]\npolicy_keys = [\"\"]\n", "policy.policy_keys[0]",
                 "empty path");
}

TEST(ConfigTest, OutOfRangeValuesAreErrors) {
  ExpectKeyError(kMinimal + "[policy]\ntrust_max_age_seconds = -1\n",
                 "policy.trust_max_age_seconds", "0..604800");
  EXPECT_EQ(MustParse(kMinimal).trust_max_age, std::chrono::seconds(0));  // from the policy
  ExpectKeyError(kMinimal + "[limits]\nthreads = 0\n", "limits.threads", "1..64");
  ExpectKeyError(kMinimal + "[limits]\nthreads = 65\n", "limits.threads", "not 65");
  EXPECT_EQ(MustParse(kMinimal + "[limits]\nthreads = 64\n").threads, 64u);
  ExpectKeyError(kMinimal + "[limits]\nmax_body_bytes = 10\n", "limits.max_body_bytes");
  ExpectKeyError(kMinimal + "[limits]\nheader_timeout_ms = -1\n", "limits.header_timeout_ms");
  ExpectKeyError(kMinimal + "[limits]\nrate_per_second = 0\n", "limits.rate_per_second");
  ExpectKeyError(kMinimal + "[limits]\nrate_burst = nan\n", "limits.rate_burst");
  ExpectKeyError(kMinimal + "[limits]\nrate_burst = inf\n", "limits.rate_burst");
  ExpectKeyError(kMinimal + "[enrollment]\nlifetime_seconds = 0\n", "enrollment.lifetime_seconds");
  ExpectKeyError(kMinimal + "[certificates]\ncrl_validity_seconds = 99999999\n",
                 "certificates.crl_validity_seconds");
}

TEST(ConfigTest, ListenMustBeHostColonPort) {
  for (const char* good : {"127.0.0.1:8443", "0.0.0.0:443", "verifier.example:1", "[::]:8443",
                           "[::1]:0", "localhost:65535"}) {
    EXPECT_EQ(MustParse(kMinimal + "listen = \"" + good + "\"\n").listen, good);
  }
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":8443", "127.0.0.1:65536", "127.0.0.1:http",
                          "::1:8443", "[::1]8443", "[::1", "host name:1", "127.0.0.1:123456"}) {
    ExpectKeyError(kMinimal + "listen = \"" + bad + "\"\n", "listen");
  }
}

TEST(ConfigTest, StateDirIsRequiredAndAbsolute) {
  ExpectKeyError("listen = \"127.0.0.1:1\"\n", "state_dir", "missing");
  ExpectKeyError("state_dir = \"var/lib/verifier\"\n", "state_dir", "absolute");
  ExpectKeyError("state_dir = \"\"\n", "state_dir", "absolute");
}

TEST(ConfigTest, WebhooksNeedHttpsExceptToLoopback) {
  auto hook = [](const std::string& url) {
    return kMinimal + "[[webhooks]]\nurl = \"" + url + "\"\n";
  };
  for (const char* good :
       {"https://hooks.example/x", "https://hooks.example:8443", "http://127.0.0.1:9000/hook",
        "http://[::1]:9000/", "https://[2001:db8::1]/"}) {
    EXPECT_EQ(MustParse(hook(good)).webhooks.at(0).url, good);
  }
  ExpectKeyError(hook("http://hooks.example/x"), "webhooks[0].url", "https");
  ExpectKeyError(hook("http://localhost:9000/"), "webhooks[0].url", "127.0.0.1");
  ExpectKeyError(hook("ftp://hooks.example/"), "webhooks[0].url");
  ExpectKeyError(hook("https:///path"), "webhooks[0].url");
  ExpectKeyError(hook("https://user:pw@hooks.example/"), "webhooks[0].url", "credentials");
  ExpectKeyError(hook("https://hooks.example:0/"), "webhooks[0].url");
  ExpectKeyError(kMinimal + "[[webhooks]]\nca_bundle = \"ca.pem\"\n", "webhooks[0].url", "missing");
}

TEST(ConfigTest, TomlSyntaxErrorsNameTheLine) {
  auto config = ParseServiceConfig(kMinimal + "[limits\nthreads = 2\n", kName);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(config.error().message.rfind(std::string(kName) + ":2:", 0), 0u)
      << config.error().message;
  auto duplicate = ParseServiceConfig(kMinimal + kMinimal, kName);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, ErrorCode::kInvalidArgument);
}

TEST(ConfigTest, RelativePathsAreResolvedAgainstTheFilesDirectory) {
  attest::test::TempDir dir("service_config");
  const std::string path = dir.File("verifier.toml");
  attest::test::WriteText(path, kMinimal +
                                    "[policy]\nfile = \"policies/base.json\"\n"
                                    "[enrollment]\ntpm_ca_bundle = \"/abs/ca.pem\"\n");
  auto config = LoadServiceConfig(path);
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->policy_file, dir.path() + "/policies/base.json");
  EXPECT_EQ(config->tpm_ca_bundle, "/abs/ca.pem");

  auto missing = LoadServiceConfig(dir.File("absent.toml"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace attest::service
