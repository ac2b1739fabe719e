// Checked reading and binding of the service database's columns: what a
// reader finds out of range is kCorrupt naming the table and column, what
// a caller passes out of range is kInvalidArgument naming the field. The
// limits are the same both ways, so whatever the store writes it can read.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/error.h"
#include "attest/service/store.h"
#include "attest/sqlite.h"

namespace attest::service::internal {

// Sizes the store accepts. Generous: the API enforces its own, tighter ones.
inline constexpr std::size_t kMaxTpmPublicBytes = 2048;        // TPM2B_PUBLIC
inline constexpr std::size_t kMaxCertificateDerBytes = 16384;  // an EK certificate
inline constexpr std::size_t kMaxCertificatePemBytes = 65536;  // a node certificate chain
inline constexpr std::size_t kMaxHostnameBytes = 255;
inline constexpr std::size_t kMaxShortTextBytes = 1024;        // labels, reasons
inline constexpr std::size_t kMaxJsonBytes = 8 * 1024 * 1024;  // verdicts, policies, envelopes
inline constexpr std::size_t kDigestBytes = 32;                // SHA-256
// Microseconds since the epoch a TimePoint (int64 nanoseconds) can hold.
inline constexpr std::int64_t kMaxMicros = std::numeric_limits<std::int64_t>::max() / 1000;
inline constexpr std::int64_t kMaxUint32 = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();

// What is wrong with a value, or nullopt when it is acceptable.
using Problem = std::optional<std::string>;
Problem CheckLowerHex(std::string_view text, std::size_t min_chars, std::size_t max_chars);
Problem CheckSize(std::size_t size, std::size_t min_bytes, std::size_t max_bytes);

// Reads one row's columns, each named in errors as "table T, column C".
class RowReader {
 public:
  // `columns` is the comma-separated column list the row was selected with.
  RowReader(const SqliteStatement& row, std::string_view table, std::string_view columns)
      : row_(row), table_(table), columns_(columns) {}

  // Names the row in later errors (its primary key).
  void SetKey(std::string key) { key_ = std::move(key); }

  Result<std::string> Text(int column, std::size_t max_bytes);
  Result<std::optional<std::string>> OptionalText(int column, std::size_t max_bytes);
  Result<std::string> Hex(int column, std::size_t min_chars, std::size_t max_chars);
  Result<Bytes> Blob(int column, std::size_t min_bytes, std::size_t max_bytes);
  Result<std::optional<Bytes>> OptionalBlob(int column, std::size_t min_bytes,
                                            std::size_t max_bytes);
  Result<std::int64_t> Int(int column, std::int64_t min, std::int64_t max);
  Result<std::optional<std::int64_t>> OptionalInt(int column, std::int64_t min, std::int64_t max);
  Result<TimePoint> Time(int column);
  Result<std::optional<TimePoint>> OptionalTime(int column);

  Error Corrupt(int column, std::string_view problem) const;

 private:
  Status NotNull(int column) const;
  const SqliteStatement& row_;
  std::string_view table_;
  std::string_view columns_;
  std::string key_;
};

// Binds a record's fields in order from parameter 1, each checked.
class Binder {
 public:
  Binder(SqliteStatement& statement, std::string_view record)
      : statement_(statement), record_(record) {}

  Status Text(std::string_view field, std::string_view value, std::size_t max_bytes);
  Status OptionalText(std::string_view field, const std::optional<std::string>& value,
                      std::size_t max_bytes);
  Status Hex(std::string_view field, std::string_view value, std::size_t min_chars,
             std::size_t max_chars);
  Status Blob(std::string_view field, ByteView value, std::size_t min_bytes, std::size_t max_bytes);
  Status OptionalBlob(std::string_view field, const std::optional<Bytes>& value,
                      std::size_t min_bytes, std::size_t max_bytes);
  Status Int(std::string_view field, std::int64_t value, std::int64_t min, std::int64_t max);
  Status OptionalInt(std::string_view field, std::optional<std::int64_t> value, std::int64_t min,
                     std::int64_t max);
  Status Time(std::string_view field, TimePoint value);
  Status OptionalTime(std::string_view field, const std::optional<TimePoint>& value);

  Error Invalid(std::string_view field, std::string_view problem) const;

 private:
  int Next() { return next_++; }
  SqliteStatement& statement_;
  std::string_view record_;
  int next_ = 1;
};

// What RedeemChallenge accepts, the same for every backend: a 32-byte
// nonce, a node, an expiry from 1970 on.
inline constexpr std::size_t kChallengeNonceBytes = 32;
Status CheckChallengeRedemption(std::string_view node_id, ByteView nonce, TimePoint expires_at);

}  // namespace attest::service::internal
