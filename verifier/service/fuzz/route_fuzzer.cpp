// Fuzzes what stands between a request line and a handler: the request
// target's decoding (attest_http's DecodeTarget) and the service router's
// path matching, over the service's own route patterns. Beyond "no crash":
// an escaped '/' never survives into a decoded path; a route is chosen only
// when substituting its parameters back into its pattern gives the path;
// and the body limit the server applies is the limit of the route the
// router then picks.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "router.h"
#include "target.h"

namespace {

using attest::service::api::PathParams;
using attest::service::api::Router;

void Fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "route fuzzer: %s: %.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

struct Route {
  const char* pattern;
  std::size_t max_body;
};

// The patterns the service registers (service.cpp's Add*Routes), with
// distinct limits so a mix-up shows.
constexpr Route kRoutes[] = {
    {"POST /v1/enrollments", 1},
    {"POST /v1/enrollments/{enrollment_id}/activate", 2},
    {"POST /v1/nodes/{node_id}/challenges", 3},
    {"POST /v1/nodes/{node_id}/evidence", attest::service::api::kServerBodyLimit},
    {"GET /v1/nodes", 5},
    {"GET /v1/nodes/{node_id}", 6},
    {"POST /v1/nodes/{node_id}/revoke", 7},
    {"POST /v1/nodes/{node_id}/approve", 8},
    {"GET /v1/ca/certificates", 9},
    {"GET /v1/ca/crl", 10},
    {"GET /v1/policy", 11},
    {"PUT /v1/policy", 12},
    {"GET /v1/ledger/entries", 13},
    {"GET /v1/ledger/checkpoint", 14},
    {"GET /v1/ledger/proofs/inclusion", 15},
    {"GET /v1/ledger/proofs/consistency", 16},
    {"GET /v1/ledger/export", 17},
    {"POST /v1/tokens", 18},
    {"GET /v1/tokens", 19},
    {"DELETE /v1/tokens/{token_id}", 20},
    {"GET /healthz", 21},
    {"GET /metrics", 22},
    {"GET /v1/webhooks/key", 23},
};

// The pattern's path with each {name} replaced by its parameter.
std::string Substitute(std::string_view pattern, const PathParams& params) {
  std::string path;
  std::string_view rest = pattern.substr(pattern.find(' ') + 1);
  while (!rest.empty()) {
    std::size_t open = rest.find('{');
    if (open == std::string_view::npos) {
      path += rest;
      break;
    }
    std::size_t close = rest.find('}', open);
    path += rest.substr(0, open);
    auto found = params.find(rest.substr(open + 1, close - open - 1));
    if (found != params.end()) path += found->second;
    rest.remove_prefix(close + 1);
  }
  return path;
}

const Router& TheRouter() {
  static const Router router = [] {
    Router built;
    for (const Route& route : kRoutes) {
      built.Add(
          route.pattern,
          [&route](const attest::http::Request&, const PathParams& params) {
            attest::http::Response response;
            response.status = 299;  // "a handler ran"
            response.body = Substitute(route.pattern, params);
            response.headers.emplace_back("limit", std::to_string(route.max_body));
            for (const auto& [name, value] : params) {
              if (value.empty() || value.find('/') != std::string::npos) {
                Fail("a path parameter is empty or holds a '/'", value);
              }
            }
            return response;
          },
          route.max_body);
    }
    return built;
  }();
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
  const char* method = kMethods[data[0] % 4];
  std::string_view target(reinterpret_cast<const char*>(data + 1), size - 1);

  auto decoded = attest::http::DecodeTarget(target);
  std::string_view raw_path = target.substr(0, target.find('?'));
  for (std::size_t i = 0; i + 2 < raw_path.size(); ++i) {
    if (raw_path[i] == '%' && raw_path[i + 1] == '2' && (raw_path[i + 2] | 0x20) == 'f' &&
        decoded.ok()) {
      Fail("an escaped '/' in the path was decoded", target);
    }
  }
  if (!decoded.ok()) return 0;
  if (decoded->path.empty() || decoded->path.front() != '/') Fail("path not absolute", target);
  if (decoded->path.find('\0') != std::string::npos) Fail("NUL in the path", target);

  attest::http::Request request;
  request.method = method;
  request.target = std::string(target);
  request.path = decoded->path;
  request.query = decoded->query;
  attest::http::Response response = TheRouter().Route(request);
  const std::size_t limit = TheRouter().BodyLimit(method, request.path);
  if (response.status == 299) {
    if (response.body != request.path) Fail("the route does not spell the path", target);
    if (response.headers.empty() || response.headers[0].second != std::to_string(limit)) {
      Fail("the body limit is not the chosen route's", target);
    }
  } else {
    if (response.status != 404 && response.status != 405)
      Fail("neither routed nor 404/405", target);
    if (limit != attest::service::api::kSmallBodyBytes) Fail("unrouted limit", target);
  }
  return 0;
}
