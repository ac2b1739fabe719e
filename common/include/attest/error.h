// The project's one error type: a stable machine-readable code plus a message
// a human can act on. Functions return Result<T> (a value or an Error) and
// callers decide; exceptions appear only where a third-party library throws,
// and are caught at that edge.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace attest {

// Stable codes: they appear in logs, CLI output and API responses, so a code
// is never renamed or reused for another meaning.
enum class ErrorCode {
  kInvalidArgument,     // the caller's input is malformed or out of range
  kNotFound,            // a named file, record or key does not exist
  kAlreadyExists,       // creating something that is already there
  kPermissionDenied,    // the OS or the database refuses access
  kIo,                  // reading or writing failed for another reason
  kCorrupt,             // stored or received data fails its own structure checks
  kVerificationFailed,  // data is well-formed but a hash, signature or proof is wrong
  kCrypto,              // a cryptographic library call failed
  kDatabase,            // SQLite reported an error
  kBusy,                // a lock could not be taken in time
  kUnsupported,         // a valid request this build cannot serve
  kInternal,            // a broken invariant of this program
  kTpm,                 // the TPM or its software stack (TSS, TCTI) refused an operation
};

// The stable spelling of a code, e.g. "INVALID_ARGUMENT".
std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;
  // The TPM Software Stack's response code (TSS2_RC) when a TPM or TSS call
  // failed: set by the TPM layer, so callers can tell a lockout from a bad
  // authorization from a retryable TPM (tpm/response_code.h classifies it).
  std::optional<std::uint32_t> tpm_response_code = std::nullopt;
  // The five-character SQLSTATE when a PostgreSQL call failed (pg/): callers
  // tell a unique violation ("23505") or a lost connection (class "08") apart
  // without reading messages.
  std::optional<std::string> sqlstate = std::nullopt;

  // Prefixes context as errors travel up: "open ledger: no such file".
  Error WithContext(std::string_view context) const {
    return Error{code, std::string(context) + ": " + message, tpm_response_code, sqlstate};
  }
  // "INVALID_ARGUMENT: payload is not valid JSON ..."
  std::string ToString() const;
};

inline Error MakeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

// A value or an Error. Result<void> (alias Status) carries only success or
// an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  // Precondition for value(): ok(). For error(): !ok().
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const Error& error() const { return std::get<Error>(state_); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  Result WithContext(std::string_view context) && {
    if (ok()) return std::move(*this);
    return error().WithContext(context);
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error)
      : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

  Result WithContext(std::string_view context) && {
    if (ok()) return std::move(*this);
    return error_.WithContext(context);
  }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool failed_ = false;
};

using Status = Result<void>;

inline Status OkStatus() { return Status(); }

}  // namespace attest

// Propagation helpers. ATTEST_RETURN_IF_ERROR(expr) returns expr's error from
// the enclosing function; ATTEST_ASSIGN_OR_RETURN(lhs, expr) binds the value.
#define ATTEST_CONCAT_INNER(a, b) a##b
#define ATTEST_CONCAT(a, b) ATTEST_CONCAT_INNER(a, b)

// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` is a declaration and `tmp`
// a name; neither can be parenthesized.
#define ATTEST_RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                         \
    auto tmp = (expr);                         \
    if (!tmp.ok()) return tmp.error();         \
  } while (false)

#define ATTEST_RETURN_IF_ERROR(expr) \
  ATTEST_RETURN_IF_ERROR_IMPL(ATTEST_CONCAT(attest_status_, __COUNTER__), expr)

#define ATTEST_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.error();                 \
  lhs = std::move(tmp).value()

#define ATTEST_ASSIGN_OR_RETURN(lhs, expr) \
  ATTEST_ASSIGN_OR_RETURN_IMPL(ATTEST_CONCAT(attest_result_, __COUNTER__), lhs, expr)
// NOLINTEND(bugprone-macro-parentheses)
