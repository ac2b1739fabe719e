// The TPM's key derivation functions (TPM 2.0 Part 1 §11.4.10): KDFa
// (SP 800-108 counter mode with HMAC) and KDFe (SP 800-56A concatenation
// KDF). Internal to attest_credential; exposed to its tests.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/tpm/algorithms.h"

namespace attest::verifier::internal {

// Fills `out` with KDFa(hash, key, label, context_u, context_v, bits) where
// bits = 8 * out.size(). `label` is given without its terminating NUL,
// which the TPM appends (and which is hashed).
Status KDFa(const tpm::HashAlgorithm& hash, ByteView key, std::string_view label,
            ByteView context_u, ByteView context_v, std::span<std::uint8_t> out);

// Fills `out` with KDFe(hash, z, use, party_u_info, party_v_info, bits):
// for ECDH, z is the shared point's x coordinate, party U the ephemeral
// key's x and party V the static (EK) key's x. `use` without its NUL.
Status KDFe(const tpm::HashAlgorithm& hash, ByteView z, std::string_view use, ByteView party_u_info,
            ByteView party_v_info, std::span<std::uint8_t> out);

}  // namespace attest::verifier::internal
