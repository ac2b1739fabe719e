#include "attest/runtime/entry.h"

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

namespace attest::runtime {
namespace {

constexpr std::array<std::string_view, 5> kKindNames = {"file", "missing", "unreadable", "unstable",
                                                        "save-failed"};

// Feeds the FORMAT.md §2 encoding to `sink`, piece by piece.
template <typename Sink>
void WalkEncoding(const RuntimeEntry& entry, Sink&& sink) {
  sink(AsBytes(kRuntimeEventDomain));
  sink(std::uint8_t{0x00});
  ByteView digest;
  if (entry.kind == RuntimeKind::kFile) digest = AsBytes(entry.sha256);
  for (ByteView field : {AsBytes(RuntimeKindName(entry.kind)), AsBytes(entry.path), digest}) {
    // Paths are bounded by PATH_MAX long before 4 GiB; the cast cannot lose bits.
    auto length = static_cast<std::uint32_t>(field.size());
    std::array<std::uint8_t, 4> length_bytes = {
        static_cast<std::uint8_t>(length >> 24), static_cast<std::uint8_t>(length >> 16),
        static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
    sink(ByteView(length_bytes));
    sink(field);
  }
}

}  // namespace

std::string_view RuntimeKindName(RuntimeKind kind) {
  auto index = static_cast<std::size_t>(kind);
  return index < kKindNames.size() ? kKindNames[index] : "invalid";
}

std::optional<RuntimeKind> RuntimeKindFromName(std::string_view name) {
  for (std::size_t i = 0; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == name) return static_cast<RuntimeKind>(i);
  }
  return std::nullopt;
}

namespace {

void AppendEncoding(const RuntimeEntry& entry, Bytes& out) {
  WalkEncoding(entry, [&](auto piece) {
    if constexpr (std::is_same_v<decltype(piece), std::uint8_t>) {
      out.push_back(piece);
    } else {
      AppendBytes(out, piece);
    }
  });
}

}  // namespace

Bytes RuntimeEventEncoding(const RuntimeEntry& entry) {
  Bytes out;
  AppendEncoding(entry, out);
  return out;
}

Sha256Digest RuntimeExtendDigest(const RuntimeEntry& entry) {
  // The encoding is a few hundred bytes: built in a buffer kept per thread
  // and hashed with one update, it costs less than an update per piece.
  thread_local Bytes encoding;
  encoding.clear();
  AppendEncoding(entry, encoding);
  return Sha256Of(encoding);
}

RuntimeEntry SaveFailedMarker(std::uint32_t pcr, std::string detail, std::string time) {
  RuntimeEntry marker;
  marker.pcr = pcr;
  marker.path = std::string(kSaveFailedMarkerPath);
  marker.kind = RuntimeKind::kSaveFailed;
  marker.detail = std::move(detail);
  marker.time = std::move(time);
  return marker;
}

Sha256Digest SaveFailedExtendDigest() {
  return RuntimeExtendDigest(SaveFailedMarker(kDefaultRuntimePcr, "", ""));
}

Sha256Digest Replay(std::span<const RuntimeEntry> entries, const Sha256Digest& initial_pcr_value) {
  // PCR || extend digest, hashed with one update.
  std::array<std::uint8_t, 2 * std::tuple_size_v<Sha256Digest>> input{};
  Sha256Digest pcr = initial_pcr_value;
  for (const RuntimeEntry& entry : entries) {
    Sha256Digest extend = RuntimeExtendDigest(entry);
    std::ranges::copy(pcr, input.begin());
    std::ranges::copy(extend, input.begin() + pcr.size());
    pcr = Sha256Of(input);
  }
  return pcr;
}

}  // namespace attest::runtime
