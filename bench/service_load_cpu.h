// Where the CPU goes while the load generator runs (issue 14 §4): utime +
// stime from /proc/PID/stat of each process it is told about, sampled at
// the start and end of a measured window. A server tree (PostgreSQL's
// postmaster) counts its live children and, through cutime + cstime, the
// children that exited meanwhile. Linux only, like the rest of bench/.
#pragma once

#include <string>
#include <vector>

namespace attest::bench {

struct CpuShare {
  std::string name;
  double seconds = 0;  // CPU seconds in the window
};

class CpuMeter {
 public:
  // One process; pid 0 is this process (the load generator).
  void AddProcess(std::string name, int pid);
  // A server and its children, summed (PostgreSQL's server processes).
  void AddServerTree(std::string name, int pid);

  struct Snapshot {
    std::vector<double> seconds;  // per source, cumulative
  };
  Snapshot Sample() const;
  // What each source spent between two samples.
  std::vector<CpuShare> Spent(const Snapshot& before, const Snapshot& after) const;

 private:
  struct Source {
    std::string name;
    int pid = 0;
    bool tree = false;
  };
  std::vector<Source> sources_;
};

// The postmaster's pid from the lock file PostgreSQL keeps beside its unix
// socket in `socket_dir` (.s.PGSQL.<port>.lock); 0 when there is none.
int PostmasterPid(const std::string& socket_dir);

}  // namespace attest::bench
