// One HTTP exchange as the verifier's API handlers see it: a parsed request
// in, a response out. The server (server.h) owns sockets, TLS and limits; a
// handler never sees them, so handlers are tested without a network and the
// transport can change without touching them.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attest::http {

struct Request {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // the request target as sent: path and query
  std::string path;    // percent-decoded path, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // "127.0.0.1" (no port): what rate limits key on. From a trusted proxy,
  // the client its PROXY header names (ServerOptions::trusted_proxies).
  std::string client_address;
  // The client's certificate (PEM) when it presented one that chains to the
  // configured client CA (mutual TLS); absent otherwise.
  std::optional<std::string> client_certificate_pem;

  // The first header of that (lower-case) name.
  std::optional<std::string_view> Header(std::string_view lower_case_name) const;
  // The first query parameter of that name.
  std::optional<std::string_view> Query(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// Called on the server's worker threads, concurrently: it must be thread safe.
// It never throws; a handler that does is answered 500 by the server and
// logged.
using Handler = std::function<Response(const Request&)>;

}  // namespace attest::http
