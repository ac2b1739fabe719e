// Text encodings used on the wire and in files: lowercase hex for hashes and
// nonces, standard base64 (RFC 4648 §4, padded) for other bytes.
#pragma once

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
// Strict: padding required, no whitespace, no trailing garbage.
Result<Bytes> Base64Decode(std::string_view base64);

}  // namespace attest
