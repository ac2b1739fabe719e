// UTF-8 checks for text that came from outside (CLI arguments, files, the
// network) before it is stored or hashed.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace attest {

// The byte offset of the first ill-formed sequence (overlong forms,
// surrogates and code points above U+10FFFF are ill-formed), or nullopt when
// `text` is valid UTF-8.
std::optional<std::size_t> FindInvalidUtf8(std::string_view text);

inline bool IsValidUtf8(std::string_view text) { return !FindInvalidUtf8(text).has_value(); }

// True when `text` holds an ASCII control character (below 0x20, or 0x7f).
bool HasControlCharacter(std::string_view text);

}  // namespace attest
