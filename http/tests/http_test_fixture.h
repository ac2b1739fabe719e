// What the server tests share: one PKI for the suite, a server on
// 127.0.0.1 port 0 with short timeouts, and clients that trust it.
#pragma once

#include <csignal>
#include <functional>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "attest/http/client.h"
#include "attest/http/server.h"

#include "raw_tls_client.h"
#include "test_certificates.h"

namespace attest::http::test {

class HttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Raw clients write to connections the server cut; that must fail the
    // write, not kill the test binary.
    std::signal(SIGPIPE, SIG_IGN);
    pki_ = new TestPki();
    MakeTestPki(*pki_);
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  // Short timeouts so the suite stays fast; tests change what they probe.
  ServerOptions Options() const {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.certificate_chain_path = pki_->server_chain;
    options.private_key_path = pki_->server_key;
    options.handshake_timeout = std::chrono::milliseconds(1000);
    options.header_timeout = std::chrono::milliseconds(300);
    options.body_timeout = std::chrono::milliseconds(1000);
    options.idle_timeout = std::chrono::milliseconds(300);
    options.max_body_bytes = 1024;
    options.max_header_bytes = 2048;
    return options;
  }

  // Polls `condition` every 10 ms for up to `within`: whether it came true.
  static bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (!condition()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // True when the server counts no connection within `within`.
  static bool AllClosed(const Server& server,
                        std::chrono::milliseconds within = std::chrono::milliseconds(1000)) {
    return Eventually([&server] { return server.open_connections() == 0; }, within);
  }

  std::unique_ptr<Server> StartServer(const ServerOptions& options, Handler handler) {
    auto server = Server::Start(options, std::move(handler));
    EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.error().ToString());
    return server.ok() ? std::move(server).value() : nullptr;
  }

  ClientOptions ClientFor(const Server& server) const {
    ClientOptions options;
    options.port = server.port();
    options.ca_bundle_path = pki_->server_ca;
    options.timeout = std::chrono::milliseconds(5000);
    return options;
  }

  RawTlsOptions RawFor(const Server& server) const {
    RawTlsOptions options;
    options.port = server.port();
    options.ca_path = pki_->server_ca;
    return options;
  }

  static TestPki* pki_;
};

inline TestPki* HttpTest::pki_ = nullptr;

// Echoes the request back as text: "METHOD path|k=v&...|body".
inline Response Echo(const Request& request) {
  Response response;
  response.content_type = "text/plain";
  std::string query;
  for (const auto& [name, value] : request.query) query += name + "=" + value + "&";
  response.body = request.method + " " + request.path + "|" + query + "|" + request.body;
  return response;
}

}  // namespace attest::http::test
