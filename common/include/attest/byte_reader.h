// A bounds-checked cursor over untrusted bytes: every read either succeeds
// or returns nullopt and leaves the cursor where it was, so a parser can
// report the exact byte offset of the field that did not fit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "attest/bytes.h"

namespace attest {

class ByteReader {
 public:
  // `base_offset` is where `data` starts in the enclosing input, so offsets
  // stay absolute when a parser descends into a sub-structure.
  explicit ByteReader(ByteView data, std::size_t base_offset = 0)
      : data_(data), base_offset_(base_offset) {}

  // Absolute offset of the next unread byte.
  std::size_t offset() const { return base_offset_ + position_; }
  std::size_t remaining() const { return data_.size() - position_; }
  bool empty() const { return position_ == data_.size(); }
  ByteView rest() const { return data_.subspan(position_); }

  std::optional<std::uint8_t> ReadU8() {
    if (remaining() < 1) return std::nullopt;
    return data_[position_++];
  }
  std::optional<std::uint16_t> ReadU16Le() { return ReadLittleEndian<std::uint16_t>(); }
  std::optional<std::uint32_t> ReadU32Le() { return ReadLittleEndian<std::uint32_t>(); }
  std::optional<std::uint64_t> ReadU64Le() { return ReadLittleEndian<std::uint64_t>(); }
  std::optional<std::uint16_t> ReadU16Be() { return ReadBigEndian<std::uint16_t>(); }
  std::optional<std::uint32_t> ReadU32Be() { return ReadBigEndian<std::uint32_t>(); }

  // A view of the next `size` bytes (no copy).
  std::optional<ByteView> ReadBytes(std::size_t size) {
    if (remaining() < size) return std::nullopt;
    ByteView bytes = data_.subspan(position_, size);
    position_ += size;
    return bytes;
  }

  // A reader over the next `size` bytes that keeps absolute offsets.
  std::optional<ByteReader> ReadSubReader(std::size_t size) {
    std::size_t start = offset();
    std::optional<ByteView> bytes = ReadBytes(size);
    if (!bytes) return std::nullopt;
    return ByteReader(*bytes, start);
  }

  bool Skip(std::size_t size) { return ReadBytes(size).has_value(); }

 private:
  template <typename T>
  std::optional<T> ReadLittleEndian() {
    if (remaining() < sizeof(T)) return std::nullopt;
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      value |= static_cast<T>(static_cast<T>(data_[position_ + i]) << (8 * i));
    }
    position_ += sizeof(T);
    return value;
  }
  template <typename T>
  std::optional<T> ReadBigEndian() {
    if (remaining() < sizeof(T)) return std::nullopt;
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      value = static_cast<T>((value << 8) | data_[position_ + i]);
    }
    position_ += sizeof(T);
    return value;
  }

  ByteView data_;
  std::size_t base_offset_;
  std::size_t position_ = 0;
};

}  // namespace attest
