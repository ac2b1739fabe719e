#include "service_load_storage.h"

#include <cstdio>
#include <cstdlib>

#include "service_load_cpu.h"

#ifdef ATTEST_BENCH_PG_CLUSTER
#include "attest/pg/test_cluster.h"
#endif

namespace attest::bench {
namespace {

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "service_load: --storage: %s\n", message.c_str());
  std::exit(1);
}

// The unix socket directory of a URL's host= parameter, percent-decoded;
// "" when the URL names none (a TCP host, or libpq's default).
std::string SocketDirOf(const std::string& url) {
  const std::size_t query = url.find('?');
  if (query == std::string::npos) return "";
  std::size_t at = url.find("host=", query);
  while (at != std::string::npos && url[at - 1] != '?' && url[at - 1] != '&') {
    at = url.find("host=", at + 1);
  }
  if (at == std::string::npos) return "";
  const std::size_t end = url.find('&', at);
  const std::string value = url.substr(at + 5, end == std::string::npos ? end : end - at - 5);
  std::string decoded;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size()) {
      decoded += static_cast<char>(std::strtol(value.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      decoded += value[i];
    }
  }
  return decoded.starts_with("/") ? decoded : "";
}

}  // namespace

BenchStorage BenchStorage::Open(const std::string& flag) {
  BenchStorage storage;
  if (flag == "sqlite") return storage;
  if (flag == "postgres") {
#ifdef ATTEST_BENCH_PG_CLUSTER
    auto cluster = pg::test::TestCluster::Shared();
    if (!cluster.ok()) Fail(cluster.error().ToString());
    auto url = (*cluster)->CreateDatabase();
    if (!url.ok()) Fail(url.error().ToString());
    storage.url_ = *url;
    storage.origin_ = "private cluster, socket in " + (*cluster)->socket_dir();
#else
    Fail("this build has no pg/testing (configure with ATTEST_BUILD_TESTS=ON), or pass a URL");
#endif
  } else if (flag.starts_with("postgresql://") || flag.starts_with("postgres://")) {
    storage.url_ = flag;
    storage.origin_ = "given URL";
  } else {
    Fail("\"" + flag + "\": sqlite, postgres or a postgresql:// URL");
  }
  if (std::string dir = SocketDirOf(storage.url_); !dir.empty()) {
    storage.postmaster_pid_ = PostmasterPid(dir);
  }
  return storage;
}

std::string BenchStorage::description() const {
  if (!postgres()) return "SQLite (service.db, ledger.db in the state directory)";
  return "PostgreSQL (" + origin_ + ")";
}

}  // namespace attest::bench
