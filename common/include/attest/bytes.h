// Byte buffers shared by every component: an owning Bytes, a non-owning
// ByteView, and the conversions between them and text.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attest {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}
inline std::string_view AsText(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline Bytes ToBytes(std::string_view text) {
  ByteView view = AsBytes(text);
  return {view.begin(), view.end()};
}
// Appends `piece` to `out`. Use it instead of out.insert(out.end(), ...):
// GCC 12 at -O3 reports a false -Wstringop-overflow on that insert into an
// empty vector.
inline void AppendBytes(Bytes& out, ByteView piece) {
  if (piece.empty()) return;
  const std::size_t size = out.size();
  out.resize(size + piece.size());
  std::memcpy(out.data() + size, piece.data(), piece.size());
}

// Compares in time that depends only on the lengths, never on the contents:
// for MACs, secrets and anything an attacker may probe byte by byte.
bool ConstantTimeEquals(ByteView a, ByteView b);

}  // namespace attest
