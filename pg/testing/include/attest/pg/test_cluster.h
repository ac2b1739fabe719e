// A private PostgreSQL server for one test binary, and a fresh database per
// test on it. Tests link attest_pg_testing; nothing else does.
//
// The cluster lives in a temp dir (initdb, then postgres, from the newest
// /usr/lib/postgresql/*/bin, never from PATH), listens only on a unix socket
// in that dir, trusts local connections as its superuser role "attest", and
// is stopped and removed when the test binary exits. Run as root (CI), the
// data directory belongs to `nobody` and the server runs as nobody. A test
// that needs PostgreSQL and cannot start it fails, naming what is missing.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <sys/types.h>

#include "attest/error.h"
#include "attest/pg/pg.h"

namespace attest::pg::test {

class TestCluster {
 public:
  // The binary's one cluster, started on the first call; later calls return
  // it (or the error the first start met). Call it first from the main
  // thread: the server is tied to the thread that started it and dies with
  // it (PR_SET_PDEATHSIG), so a crashed test binary leaves no server behind.
  static Result<TestCluster*> Shared();

  ~TestCluster();
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  // Creates an empty database and returns its URL
  // (postgresql:///NAME?host=SOCKET_DIR&user=attest).
  Result<std::string> CreateDatabase();
  Status DropDatabase(const std::string& name);

  // Stops the server (fast shutdown: sessions are ended, as at a restart),
  // and starts it again on the same data directory.
  Status Stop();
  Status Start();
  Status Restart();

  const std::string& socket_dir() const { return socket_dir_; }
  // How long initdb and the first start took.
  std::chrono::milliseconds startup_time() const { return startup_time_; }

 private:
  TestCluster() = default;
  Status Initialize();
  Result<Connection*> Maintenance();

  std::string bin_dir_;
  std::string dir_;  // the temp dir: data/, run/, server.log
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_path_;
  pid_t server_pid_ = -1;
  uid_t server_uid_ = 0;
  gid_t server_gid_ = 0;
  bool drop_privileges_ = false;
  int next_database_ = 1;
  std::unique_ptr<Connection> maintenance_;
  std::chrono::milliseconds startup_time_{0};
};

// A fresh database on the shared cluster for one test, dropped when the test
// ends. ok() false (with error()) when there is no cluster.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& url() const { return url_; }
  TestCluster& cluster() const { return *cluster_; }

 private:
  TestCluster* cluster_ = nullptr;
  std::string url_;
  std::string name_;
  std::string error_;
};

// SQL that makes a COMMIT lose its connection: a deferred trigger on
// `table` ends its own session when the inserting transaction commits,
// before the commit is written. The one way to cause "the answer to COMMIT
// was lost" for real; the transaction does not commit.
std::string DieAtCommitTriggerSql(const std::string& table);

}  // namespace attest::pg::test
