// The verifier service: the /v1 REST API of docs/protocol.md over the
// verification core, the CA, the store and the ledger. Transport-free: the
// HTTPS server (attest/http/server.h) calls Handle on its threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "attest/clock.h"
#include "attest/error.h"
#include "attest/http/message.h"
#include "attest/http/server.h"
#include "attest/service/config.h"

namespace attest::service {

class Service {
 public:
  // Opens the state directory `verifier init` made (StateLayout): the
  // store, the ledger and its key, the CA, the current policy (the config's
  // policy file is applied as serial 0 on first start), and replays the
  // ledger outbox. `clock` outlives the service.
  static Result<std::unique_ptr<Service>> Open(const ServiceConfig& config, const Clock& clock);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Thread safe; never throws.
  http::Response Handle(const http::Request& request);
  // The largest body the route `method` and `path` takes (evidence: the
  // server's limit; PUT /v1/policy: 2 MiB + 64 KiB; every other route and
  // unknown paths: 64 KiB), for http::ServerOptions::body_limit.
  std::size_t BodyLimit(std::string_view method, std::string_view path) const;

  // Stops background work (webhook delivery, outbox drain) after what is
  // queued, within a bounded time. Called on SIGTERM after the server drained.
  void Shutdown();

 private:
  struct Impl;
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The HTTPS server's options for `service` under `config`: the listen
// address, the TLS files `verifier init` made, the [limits], and each
// route's body limit. `service` must outlive the server.
http::ServerOptions ServerOptionsFor(const ServiceConfig& config, const Service& service);

}  // namespace attest::service
