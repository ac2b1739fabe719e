// The verifier service: the /v1 REST API of docs/protocol.md over the
// verification core, the CA, the store and the ledger. Transport-free: the
// HTTPS server (attest/http/server.h) calls Handle on its threads.
#pragma once

#include <memory>

#include "attest/clock.h"
#include "attest/error.h"
#include "attest/http/message.h"
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

  // Stops background work (webhook delivery, outbox drain) after what is
  // queued, within a bounded time. Called on SIGTERM after the server drained.
  void Shutdown();

 private:
  struct Impl;
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace attest::service
