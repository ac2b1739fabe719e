// `attestd run`: enroll once, then attest every interval (with jitter),
// renew the certificate at two thirds of its lifetime, back off
// exponentially (with jitter) after failures while keeping the current
// certificate, and answer signals: SIGTERM or SIGINT stop it cleanly (exit
// 0), SIGHUP reloads the configuration.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>

namespace attest::attestd {

// The wait before the next try after `failures` failures in a row: a
// random time in [min, min * 2^failures], capped at max ("full jitter"), so
// a fleet that lost its verifier does not come back in step.
std::chrono::milliseconds BackoffDelay(unsigned failures, std::chrono::seconds min,
                                       std::chrono::seconds max, std::mt19937_64& random);

// The wait after a successful cycle: the interval plus up to `jitter`.
std::chrono::milliseconds NextInterval(std::chrono::seconds interval, std::chrono::seconds jitter,
                                       std::mt19937_64& random);

// Runs the daemon with the configuration at `config_path`, logging to `log`.
// Returns the exit code: 0 after SIGTERM/SIGINT, 2 for a configuration that
// does not load at start (a bad reload keeps the running one), 1 when the
// state directory is held by another attestd.
int RunDaemon(const std::string& config_path, std::ostream& log);

}  // namespace attest::attestd
