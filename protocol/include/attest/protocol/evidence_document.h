// The evidence document a node posts (docs/protocol.md, verifier/FORMAT.md
// §1): the struct both sides share and its JSON writer, for attestd and for
// tests. Reading one from the network is the verifier's job
// (attest/verifier/evidence.h), and only it judges what is inside.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/json.h"
#include "attest/runtime/log.h"
#include "attest/tpm/pcr.h"

namespace attest::protocol {

// A boot log is tens of KiB and a runtime log a few; anything near this is
// an attack or a mistake, refused before parsing.
inline constexpr std::size_t kMaxEvidenceBytes = std::size_t{16} * 1024 * 1024;

// TPM2_Certify of the CSR's key by the AK, with the key's public area (the
// certification names the key by a hash of it).
struct KeyCertification {
  Bytes key_public;  // marshaled TPM2B_PUBLIC of the certified key ("public")
  Bytes attest;      // marshaled TPMS_ATTEST
  Bytes signature;   // marshaled TPMT_SIGNATURE
};

struct Evidence {
  Bytes nonce;      // the verifier's challenge, as the node says it used it
  Bytes attest;     // marshaled TPMS_ATTEST: the signed bytes, kept exactly
  Bytes signature;  // marshaled TPMT_SIGNATURE
  tpm::PcrValues pcrs;
  std::optional<Bytes> boot_log;  // raw TCG event log
  std::optional<runtime::RuntimeLog> runtime_log;
  // How many entries of the node's runtime log `runtime_log` leaves out
  // before its first (its seq numbers start at runtime_log_start + 1): the
  // verifier's cursor (docs/protocol.md §6). 0: the log is whole. Set only
  // with a runtime_log.
  std::uint64_t runtime_log_start = 0;
  std::optional<std::string> csr;  // PKCS#10 PEM
  std::optional<KeyCertification> key_certification;
};

// The same document, for attestd and for tests. Fails only for a runtime
// log that SerializeRuntimeLog refuses.
Result<Json> EvidenceToJson(const Evidence& evidence);

// {"sha256": {"0": "hex", ...}, ...} both ways; banks by name. Reading
// fails with kCorrupt naming `field`.
Json PcrValuesToJson(const tpm::PcrValues& values);
Result<tpm::PcrValues> PcrValuesFromJson(const Json& value, std::string_view field);
// A PCR index as a JSON member name: "0" to "23", no sign, no leading zero.
std::optional<std::uint32_t> ParsePcrIndexKey(std::string_view text);

}  // namespace attest::protocol
