// The libpq connection parameters Connection::Open passes: the caller's URL
// checked (no password, no key passphrase, TLS verified to a TCP host) and
// our defaults for what it leaves unset (sslmode, keepalives, timeouts).
// Separate from pg.cpp so tests can check the defaults without a TLS server.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "attest/error.h"
#include "attest/pg/pg.h"

namespace attest::pg {

struct ConnectParameters {
  // keyword/value pairs for PQconnectdbParams, the URL ("dbname", expanded)
  // last so that what it says wins.
  std::vector<std::pair<std::string, std::string>> keywords;
  // The sslmode the connection will use (the URL's, else PGSSLMODE's, else
  // ours).
  std::string sslmode;
  // Whether any host reaches the server over TCP rather than a unix socket.
  bool tcp = false;
  // The URL's `options` (server settings sent at startup, "-c name=value"),
  // so that Open does not override a timeout the URL sets.
  std::string url_options;

  // The value for `keyword`, empty when unset.
  std::string Get(const std::string& keyword) const;
};

// kInvalidArgument for a URL libpq cannot parse (with a message that does not
// repeat the URL: libpq's would echo a malformed password), one that carries
// a password or sslpassword, or one that would send data to a TCP host
// without a verified TLS connection while options.allow_insecure_transport is
// false.
Result<ConnectParameters> BuildConnectParameters(const std::string& url,
                                                 const ConnectOptions& options);

}  // namespace attest::pg
