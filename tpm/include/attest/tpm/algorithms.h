// The hash algorithms a PCR bank can use, by TPM algorithm id and by the
// names operators type ("sha256"), with their OpenSSL digests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "attest/bytes.h"
#include "attest/error.h"

namespace attest::tpm {

struct HashAlgorithm {
  std::uint16_t id;          // TPM_ALG_ID, e.g. 0x000B for SHA-256
  std::string_view name;     // "sha256"
  std::size_t digest_size;   // bytes
  const char* openssl_name;  // for EVP_MD_fetch
};

// nullopt for an algorithm this build does not know.
std::optional<HashAlgorithm> HashAlgorithmById(std::uint16_t id);
Result<HashAlgorithm> HashAlgorithmByName(std::string_view name);

// "0x000b": an algorithm id as a number, in messages.
std::string AlgorithmIdHex(std::uint16_t id);
// The one name of a bank or digest algorithm in messages and output: "sha256"
// for an algorithm this build knows, else AlgorithmIdHex ("0x0012").
std::string AlgorithmName(std::uint16_t id);

// One-shot digest with the bank's algorithm.
Result<Bytes> HashWith(const HashAlgorithm& algorithm, ByteView data);

}  // namespace attest::tpm
