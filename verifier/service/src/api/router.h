// A small router: "METHOD /v1/nodes/{node_id}/evidence" patterns whose
// {name} segments match one non-empty path segment. A path some route
// matches with another method is 405; no match at all is 404.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "attest/http/message.h"

namespace attest::service::api {

using PathParams = std::map<std::string, std::string, std::less<>>;
using RouteHandler = std::function<http::Response(const http::Request&, const PathParams&)>;

class Router {
 public:
  // `pattern` is "METHOD /path/{param}/...".
  void Add(std::string_view pattern, RouteHandler handler);
  http::Response Route(const http::Request& request) const;

 private:
  struct Entry {
    std::string method;
    std::vector<std::string> segments;
    RouteHandler handler;
  };
  std::vector<Entry> routes_;
};

// Path segments of "/a/b/c" (an empty segment anywhere, or a trailing
// slash, makes the path match nothing).
std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace attest::service::api
