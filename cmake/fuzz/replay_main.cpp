// Replays seed corpora through a fuzz target without libFuzzer, so the
// sanitizer build (gcc, ASan + UBSan) runs every seed as a regression test
// without a second, clang-only build of the whole tree. Arguments are files
// or directories of files; libFuzzer-style flags ("-runs=0") are ignored.
// libFuzzer's 2 GiB allocation limit is ASAN_OPTIONS' max_allocation_size_mb,
// which cmake/Fuzzing.cmake sets on the seed tests.
// A path that does not exist, or a run that replays nothing, is a failure:
// a corpus that silently vanished would otherwise pass.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// A heap copy of exactly the input's size (never null, as libFuzzer never
// passes null), so ASan flags a read one byte past the end, empty inputs too.
void RunOne(const std::vector<char>& bytes) {
  std::unique_ptr<std::uint8_t[]> input(new std::uint8_t[bytes.size()]);
  std::copy(bytes.begin(), bytes.end(), input.get());
  LLVMFuzzerTestOneInput(input.get(), bytes.size());
}

bool ReplayFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  RunOne(bytes);
  return true;
}

// Files of a directory and its subdirectories (not those whose names start
// with '.', as libFuzzer reads them), in path order, so a failure
// reproduces in the same order.
std::vector<std::filesystem::path> FilesIn(const std::filesystem::path& directory,
                                           std::error_code& error) {
  std::vector<std::filesystem::path> files;
  std::filesystem::recursive_directory_iterator it(directory, error), end;
  for (; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && name.starts_with(".")) {
      it.disable_recursion_pending();
    } else if (it->is_regular_file()) {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  RunOne({});  // libFuzzer always tries the empty input first
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument.starts_with("-")) continue;
    std::filesystem::path path(argument);
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      auto files = FilesIn(path, error);
      if (error) {
        std::fprintf(stderr, "replay: cannot list %s: %s\n", path.c_str(), error.message().c_str());
        return 1;
      }
      for (const auto& file : files) {
        if (!ReplayFile(file)) return 1;
        ++replayed;
      }
    } else if (std::filesystem::is_regular_file(path, error)) {
      if (!ReplayFile(path)) return 1;
      ++replayed;
    } else {
      std::fprintf(stderr, "replay: no such corpus file or directory: %s\n", path.c_str());
      return 1;
    }
  }
  if (replayed == 0) {
    std::fprintf(stderr, "replay: no inputs replayed; name the corpus directories\n");
    return 1;
  }
  std::printf("replay: %zu inputs, no finding\n", replayed);
  return 0;
}
