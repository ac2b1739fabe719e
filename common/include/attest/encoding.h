// Text encodings used on the wire and in files: lowercase hex for hashes and
// nonces, standard base64 (RFC 4648 §4, padded) for other bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/error.h"

namespace attest {

std::string HexEncode(ByteView bytes);
// Accepts upper- or lowercase; rejects odd lengths and non-hex characters.
Result<Bytes> HexDecode(std::string_view hex);
// Decodes exactly out.size() bytes of lowercase hex, the canonical form on
// the wire, without allocating. False on any other length or character.
bool DecodeLowercaseHex(std::string_view hex, std::span<std::uint8_t> out);

std::string Base64Encode(ByteView bytes);
// Strict: padding required, no whitespace, no trailing garbage, and the
// bits under the padding zero (one encoding per byte string).
Result<Bytes> Base64Decode(std::string_view base64);
// The size Base64Decode would give, from the length and padding alone
// (nullopt for a length that is not a multiple of 4); the content is not
// checked. For callers that decode into storage they size themselves.
std::optional<std::size_t> Base64DecodedSize(std::string_view base64);
// Base64Decode into exactly out.size() bytes (Base64DecodedSize), with the
// same checks; on failure `out` holds garbage.
Status Base64DecodeInto(std::string_view base64, std::span<std::uint8_t> out);

}  // namespace attest
