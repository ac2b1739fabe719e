// A small router: "METHOD /v1/nodes/{node_id}/evidence" patterns whose
// {name} segments match one non-empty path segment. A path some route
// matches with another method is 405; no match at all is 404. Each route
// also names the largest body it takes, which the server applies before
// reading one.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "attest/http/message.h"

namespace attest::service::api {

using PathParams = std::map<std::string, std::string, std::less<>>;
using RouteHandler = std::function<http::Response(const http::Request&, const PathParams&)>;

// The body limit of every route that names none, and of requests no route
// takes (404, 405): JSON bodies of a few fields.
inline constexpr std::size_t kSmallBodyBytes = 64 * 1024;
// A route that takes up to the server's own limit (limits.max_body_bytes).
inline constexpr std::size_t kServerBodyLimit = std::numeric_limits<std::size_t>::max();

class Router {
 public:
  // `pattern` is "METHOD /path/{param}/...".
  void Add(std::string_view pattern, RouteHandler handler,
           std::size_t max_body_bytes = kSmallBodyBytes);
  http::Response Route(const http::Request& request) const;
  // The body limit of the route `method` and `path` would reach;
  // kSmallBodyBytes when none would.
  std::size_t BodyLimit(std::string_view method, std::string_view path) const;

 private:
  struct Entry {
    std::string method;
    std::vector<std::string> segments;
    RouteHandler handler;
    std::size_t max_body_bytes;
  };
  // Whether `entry`'s pattern matches `segments`, its {params} filled in.
  static bool Matches(const Entry& entry, const std::vector<std::string_view>& segments,
                      PathParams& params);
  std::vector<Entry> routes_;
};

// Path segments of "/a/b/c" (an empty segment anywhere, or a trailing
// slash, makes the path match nothing).
std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace attest::service::api
