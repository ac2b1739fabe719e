#include "attest/ledger/entry.h"

#include <array>

#include "attest/dsse.h"

namespace attest::ledger {
namespace {

void PutU64(std::uint64_t value, std::array<std::uint8_t, 8>& out) {
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value & 0xff);
    value >>= 8;
  }
}

// Feeds the FORMAT.md §2 encoding to `sink`, piece by piece.
template <typename Sink>
void WalkEncoding(std::uint64_t seq, const EntryContent& content, Sink&& sink) {
  std::uint8_t version = kEntryFormatVersion;
  sink(ByteView(&version, 1));
  std::array<std::uint8_t, 8> seq_bytes{};
  PutU64(seq, seq_bytes);
  sink(ByteView(seq_bytes));
  for (const std::string* field :
       {&content.time, &content.kind, &content.actor, &content.payload}) {
    auto length = static_cast<std::uint32_t>(field->size());
    std::array<std::uint8_t, 4> length_bytes = {
        static_cast<std::uint8_t>(length >> 24), static_cast<std::uint8_t>(length >> 16),
        static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
    sink(ByteView(length_bytes));
    sink(AsBytes(*field));
  }
  std::uint8_t is_signed = content.signature ? 1 : 0;
  sink(ByteView(&is_signed, 1));
  if (content.signature) {
    sink(ByteView(content.signature->public_key));
    sink(ByteView(content.signature->signature));
  }
}

}  // namespace

Bytes EncodeEntry(std::uint64_t seq, const EntryContent& content) {
  Bytes out;
  WalkEncoding(seq, content, [&](ByteView piece) { AppendBytes(out, piece); });
  return out;
}

Hash ComputeEntryHash(std::uint64_t seq, const EntryContent& content, Sha256& hasher) {
  hasher.Update(std::uint8_t{0x00});
  WalkEncoding(seq, content, [&](ByteView piece) { hasher.Update(piece); });
  return hasher.Finish();
}

Hash ComputeEntryHash(std::uint64_t seq, const EntryContent& content) {
  Sha256 hasher;
  return ComputeEntryHash(seq, content, hasher);
}

Hash ComputeChainHash(const Hash& previous, const Hash& entry_hash, Sha256& hasher) {
  return hasher.Update(AsBytes(previous)).Update(AsBytes(entry_hash)).Finish();
}

std::string PayloadTypeForKind(std::string_view kind) {
  return "application/vnd.attest." + std::string(kind) + "+json";
}

Bytes SignedMessage(std::string_view kind, std::string_view canonical_payload) {
  return DssePreAuthEncoding(PayloadTypeForKind(kind), AsBytes(canonical_payload));
}

bool VerifyEntrySignature(const EntryContent& content) {
  if (!content.signature) return false;
  return Ed25519Verify(content.signature->public_key, SignedMessage(content.kind, content.payload),
                       content.signature->signature);
}

}  // namespace attest::ledger
