#include "router.h"

#include "responses.h"

namespace attest::service::api {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.starts_with('/')) return {};
  path.remove_prefix(1);
  while (true) {
    std::size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (segment.empty()) return {};
    segments.push_back(segment);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

void Router::Add(std::string_view pattern, RouteHandler handler, std::size_t max_body_bytes) {
  std::size_t space = pattern.find(' ');
  Entry entry;
  entry.method = std::string(pattern.substr(0, space));
  for (std::string_view segment : SplitPath(pattern.substr(space + 1))) {
    entry.segments.emplace_back(segment);
  }
  entry.handler = std::move(handler);
  entry.max_body_bytes = max_body_bytes;
  routes_.push_back(std::move(entry));
}

bool Router::Matches(const Entry& entry, const std::vector<std::string_view>& segments,
                     PathParams& params) {
  if (entry.segments.size() != segments.size() || segments.empty()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& want = entry.segments[i];
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      params.emplace(want.substr(1, want.size() - 2), std::string(segments[i]));
    } else if (want != segments[i]) {
      return false;
    }
  }
  return true;
}

std::size_t Router::BodyLimit(std::string_view method, std::string_view path) const {
  std::vector<std::string_view> segments = SplitPath(path);
  for (const Entry& entry : routes_) {
    PathParams params;
    if (entry.method == method && Matches(entry, segments, params)) return entry.max_body_bytes;
  }
  return kSmallBodyBytes;
}

http::Response Router::Route(const http::Request& request) const {
  std::vector<std::string_view> segments = SplitPath(request.path);
  bool path_matched = false;
  std::string allowed;
  for (const Entry& entry : routes_) {
    PathParams params;
    if (!Matches(entry, segments, params)) continue;
    if (entry.method == request.method) return entry.handler(request, params);
    path_matched = true;
    allowed += (allowed.empty() ? "" : ", ") + entry.method;
  }
  if (path_matched) {
    http::Response response =
        ErrorResponse({405, "METHOD_NOT_ALLOWED",
                       request.method + " is not allowed here (only " + allowed + ")"});
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  return ErrorResponse(NotFound("no such endpoint: " + request.path));
}

}  // namespace attest::service::api
