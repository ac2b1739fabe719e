// The request target (RFC 9112 §3.2, origin-form) split into a
// percent-decoded path and decoded query parameters, for Request. Internal
// to attest_http; pure, so the tests drive it directly.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attest/error.h"

namespace attest::http {

struct DecodedTarget {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
};

// Fails (kInvalidArgument, naming the offset) on a target that is not
// origin-form ("/..."), a '%' not followed by two hex digits, an escape
// that decodes to NUL, or one in the path that decodes to '/' (%2F): a
// handler splits the decoded path at '/', so only the client's own slashes
// separate segments. '+' means a space in the query only.
Result<DecodedTarget> DecodeTarget(std::string_view target);

}  // namespace attest::http
