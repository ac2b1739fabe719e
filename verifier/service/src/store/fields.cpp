#include "src/store/fields.h"

#include <chrono>

#include "src/store/sqlite_internal.h"

namespace attest::service::internal {
namespace {

std::string_view NthColumn(std::string_view columns, int index) {
  for (int i = 0; i < index; ++i) {
    std::size_t comma = columns.find(',');
    if (comma == std::string_view::npos) return "?";
    columns.remove_prefix(comma + 1);
    while (!columns.empty() && columns.front() == ' ') columns.remove_prefix(1);
  }
  return columns.substr(0, columns.find(','));
}

Problem CheckRange(std::int64_t value, std::int64_t min, std::int64_t max) {
  if (value < min || value > max) {
    return std::to_string(value) + " is outside " + std::to_string(min) + ".." +
           std::to_string(max);
  }
  return std::nullopt;
}

TimePoint MicrosToTime(std::int64_t micros) {
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(micros)));
}

}  // namespace

Problem CheckLowerHex(std::string_view text, std::size_t min_chars, std::size_t max_chars) {
  if (text.size() < min_chars || text.size() > max_chars) {
    return "is " + std::to_string(text.size()) + " characters, not " +
           (min_chars == max_chars ? std::to_string(min_chars)
                                   : std::to_string(min_chars) + ".." + std::to_string(max_chars));
  }
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return "is not lowercase hex";
  }
  return std::nullopt;
}

Problem CheckSize(std::size_t size, std::size_t min_bytes, std::size_t max_bytes) {
  if (size < min_bytes || size > max_bytes) {
    return "is " + std::to_string(size) + " bytes, not " +
           (min_bytes == max_bytes ? std::to_string(min_bytes)
                                   : std::to_string(min_bytes) + ".." + std::to_string(max_bytes));
  }
  return std::nullopt;
}

Result<std::int64_t> TimeToMicros(TimePoint time, std::string_view what) {
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  if (micros < 0) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(what) + ": is before 1970");
  }
  return static_cast<std::int64_t>(micros);
}

// ---- RowReader ---------------------------------------------------------

Error RowReader::Corrupt(int column, std::string_view problem) const {
  std::string message = "service database: table " + std::string(table_) + ", column " +
                        std::string(NthColumn(columns_, column));
  if (!key_.empty()) message += " (row " + key_ + ")";
  message += ": ";
  message += problem;
  return MakeError(ErrorCode::kCorrupt, std::move(message));
}

Status RowReader::NotNull(int column) const {
  if (row_.ColumnIsNull(column)) return Corrupt(column, "is NULL");
  return OkStatus();
}

Result<std::string> RowReader::Text(int column, std::size_t max_bytes) {
  ATTEST_RETURN_IF_ERROR(NotNull(column));
  std::string_view text = row_.ColumnText(column);
  if (Problem problem = CheckSize(text.size(), 0, max_bytes)) return Corrupt(column, *problem);
  return std::string(text);
}

Result<std::optional<std::string>> RowReader::OptionalText(int column, std::size_t max_bytes) {
  if (row_.ColumnIsNull(column)) return std::optional<std::string>();
  ATTEST_ASSIGN_OR_RETURN(std::string text, Text(column, max_bytes));
  return std::optional<std::string>(std::move(text));
}

Result<std::string> RowReader::Hex(int column, std::size_t min_chars, std::size_t max_chars) {
  ATTEST_RETURN_IF_ERROR(NotNull(column));
  std::string_view text = row_.ColumnText(column);
  if (Problem problem = CheckLowerHex(text, min_chars, max_chars)) {
    return Corrupt(column, *problem);
  }
  return std::string(text);
}

Result<Bytes> RowReader::Blob(int column, std::size_t min_bytes, std::size_t max_bytes) {
  ATTEST_RETURN_IF_ERROR(NotNull(column));
  ByteView blob = row_.ColumnBlob(column);
  if (Problem problem = CheckSize(blob.size(), min_bytes, max_bytes)) {
    return Corrupt(column, *problem);
  }
  return Bytes(blob.begin(), blob.end());
}

Result<std::optional<Bytes>> RowReader::OptionalBlob(int column, std::size_t min_bytes,
                                                     std::size_t max_bytes) {
  if (row_.ColumnIsNull(column)) return std::optional<Bytes>();
  ATTEST_ASSIGN_OR_RETURN(Bytes blob, Blob(column, min_bytes, max_bytes));
  return std::optional<Bytes>(std::move(blob));
}

Result<std::int64_t> RowReader::Int(int column, std::int64_t min, std::int64_t max) {
  ATTEST_RETURN_IF_ERROR(NotNull(column));
  std::int64_t value = row_.ColumnInt64(column);
  if (Problem problem = CheckRange(value, min, max)) return Corrupt(column, *problem);
  return value;
}

Result<std::optional<std::int64_t>> RowReader::OptionalInt(int column, std::int64_t min,
                                                           std::int64_t max) {
  if (row_.ColumnIsNull(column)) return std::optional<std::int64_t>();
  ATTEST_ASSIGN_OR_RETURN(std::int64_t value, Int(column, min, max));
  return std::optional<std::int64_t>(value);
}

Result<TimePoint> RowReader::Time(int column) {
  ATTEST_ASSIGN_OR_RETURN(std::int64_t micros, Int(column, 0, kMaxMicros));
  return MicrosToTime(micros);
}

Result<std::optional<TimePoint>> RowReader::OptionalTime(int column) {
  if (row_.ColumnIsNull(column)) return std::optional<TimePoint>();
  ATTEST_ASSIGN_OR_RETURN(TimePoint time, Time(column));
  return std::optional<TimePoint>(time);
}

// ---- Binder ------------------------------------------------------------

Error Binder::Invalid(std::string_view field, std::string_view problem) const {
  return MakeError(ErrorCode::kInvalidArgument,
                   std::string(record_) + "." + std::string(field) + ": " + std::string(problem));
}

Status Binder::Text(std::string_view field, std::string_view value, std::size_t max_bytes) {
  if (Problem problem = CheckSize(value.size(), 0, max_bytes)) return Invalid(field, *problem);
  return statement_.BindText(Next(), value);
}

Status Binder::OptionalText(std::string_view field, const std::optional<std::string>& value,
                            std::size_t max_bytes) {
  if (!value) return statement_.BindNull(Next());
  return Text(field, *value, max_bytes);
}

Status Binder::Hex(std::string_view field, std::string_view value, std::size_t min_chars,
                   std::size_t max_chars) {
  if (Problem problem = CheckLowerHex(value, min_chars, max_chars)) {
    return Invalid(field, *problem);
  }
  return statement_.BindText(Next(), value);
}

Status Binder::Blob(std::string_view field, ByteView value, std::size_t min_bytes,
                    std::size_t max_bytes) {
  if (Problem problem = CheckSize(value.size(), min_bytes, max_bytes)) {
    return Invalid(field, *problem);
  }
  return statement_.BindBlob(Next(), value);
}

Status Binder::OptionalBlob(std::string_view field, const std::optional<Bytes>& value,
                            std::size_t min_bytes, std::size_t max_bytes) {
  if (!value) return statement_.BindNull(Next());
  return Blob(field, *value, min_bytes, max_bytes);
}

Status Binder::Int(std::string_view field, std::int64_t value, std::int64_t min, std::int64_t max) {
  if (Problem problem = CheckRange(value, min, max)) return Invalid(field, *problem);
  return statement_.BindInt64(Next(), value);
}

Status Binder::OptionalInt(std::string_view field, std::optional<std::int64_t> value,
                           std::int64_t min, std::int64_t max) {
  if (!value) return statement_.BindNull(Next());
  return Int(field, *value, min, max);
}

Status Binder::Time(std::string_view field, TimePoint value) {
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(value.time_since_epoch()).count();
  if (micros < 0) return Invalid(field, "is before 1970");
  return statement_.BindInt64(Next(), static_cast<std::int64_t>(micros));
}

Status Binder::OptionalTime(std::string_view field, const std::optional<TimePoint>& value) {
  if (!value) return statement_.BindNull(Next());
  return Time(field, *value);
}

Status CheckChallengeRedemption(std::string_view node_id, ByteView nonce, TimePoint expires_at) {
  if (nonce.size() != kChallengeNonceBytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "challenge nonce: " + std::to_string(nonce.size()) + " bytes, not " +
                         std::to_string(kChallengeNonceBytes));
  }
  if (node_id.empty()) return MakeError(ErrorCode::kInvalidArgument, "challenge: empty node id");
  if (expires_at.time_since_epoch().count() < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "challenge: expires before 1970");
  }
  return OkStatus();
}

}  // namespace attest::service::internal
