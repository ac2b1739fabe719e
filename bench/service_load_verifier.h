// The verifier the load generator drives: the Service and its HTTPS server
// in this process, or `verifier serve` as a subprocess (so its memory is
// read alone, and the CLI's serving path is what is measured).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "attest/clock.h"
#include "attest/http/server.h"
#include "attest/service/config.h"
#include "attest/service/service.h"

#include "service_load_report.h"

namespace attest::bench {

class VerifierUnderTest {
 public:
  // Exits the program with a message when the verifier does not start.
  static VerifierUnderTest InProcess(const service::ServiceConfig& config, const Clock& clock);
  // Writes `config` as TOML to `config_path` and runs `binary serve --config`.
  static VerifierUnderTest Subprocess(const std::string& binary,
                                      const service::ServiceConfig& config,
                                      const std::string& config_path);
  // A moved-from verifier owns nothing (its destructor stops nothing).
  VerifierUnderTest(VerifierUnderTest&& other) noexcept;
  ~VerifierUnderTest();

  std::uint16_t port() const { return port_; }
  int pid() const { return pid_; }  // 0 in-process
  std::string description() const;
  bench::Memory Memory() const;
  // Drains the server (SIGTERM for the subprocess) and waits for it.
  void Stop();

 private:
  VerifierUnderTest() = default;
  std::unique_ptr<service::Service> service_;
  std::unique_ptr<http::Server> server_;
  int pid_ = 0;
  std::unique_ptr<std::thread> stderr_reader_;
  std::uint16_t port_ = 0;
};

}  // namespace attest::bench
