// attestd's configuration file (attestd.toml): the TPM to use, the verifier
// to answer, what to measure and how often. Every key is in
// attestd/README.md and attestd/examples/attestd.toml.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attest/attestd/tpm.h"
#include "attest/error.h"

namespace attest::attestd {

// Where the node's TLS key lives: in the TPM (a TSS2 PRIVATE KEY PEM,
// usable only with this TPM, certified by the AK), or a P-256 key in a 0600
// file, which the verifier accepts only where its policy allows file keys.
enum class NodeKeyKind { kTpm, kFile };

struct VerifierEndpoint {
  std::string url;   // as written: "https://verifier.example.internal:8443"
  std::string host;  // also the name the verifier's certificate must carry
  std::uint16_t port = 443;
};

struct AttestdConfig {
  std::string state_dir = "/var/lib/attestd";
  std::string tcti = std::string(kDefaultTcti);
  EkAlgorithm ek_algorithm = EkAlgorithm::kRsa;
  AkAlgorithm ak_algorithm = AkAlgorithm::kEccP256;

  // One or more verifiers on one database (`verifier.url` or
  // `verifier.urls`), in the order attestd tries them: it stays with the
  // one that answers and moves to the next when it cannot reach it or the
  // verifier cannot reach its database (HTTP 503). Never empty once parsed.
  std::vector<VerifierEndpoint> verifiers;
  std::string verifier_ca_bundle;  // required: never an unauthenticated verifier
  std::chrono::seconds request_timeout{30};

  std::string hostname;  // empty: the machine's name (a label, never an identity)
  std::string certificate_dir = "/var/lib/attestd/identity";
  NodeKeyKind node_key = NodeKeyKind::kTpm;

  std::string boot_log = "/sys/kernel/security/tpm0/binary_bios_measurements";  // "": none
  std::uint32_t runtime_pcr = 15;
  std::vector<std::string> runtime_files;  // paths or globs
  std::string runtime_log = "/run/attestd/runtime-log.json";

  std::chrono::seconds interval{60};
  std::chrono::seconds jitter{10};
  std::chrono::seconds retry_min{1};
  std::chrono::seconds retry_max{300};
};

// Strict: an unknown key, a wrong type or a bad value is kInvalidArgument
// "FILE: key.path: what is wrong". Relative paths resolve against the
// file's directory.
Result<AttestdConfig> ParseAttestdConfig(std::string_view toml_text, std::string_view name);
Result<AttestdConfig> LoadAttestdConfig(const std::string& path);

// The verifiers' URLs, space-separated, for logs and `attestd status`.
std::string VerifierUrls(const AttestdConfig& config);

// "https://HOST[:PORT][/]" only: the verifier is always reached over TLS.
Result<VerifierEndpoint> ParseVerifierUrl(std::string_view url);

// The most verifier URLs a node is given: several verifiers behind one
// database, not a list to sweep.
inline constexpr std::size_t kMaxVerifierUrls = 8;

// Every key ParseAttestdConfig accepts ("tpm.tcti", ...), for the test that
// holds the README's table and the example file to it.
std::vector<std::string> AttestdConfigKeys();

}  // namespace attest::attestd
