// The standard-JSON compiler subprocess and import resolution.
#include "chain/solc.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "chain/solidity_verifier.hpp"

extern char** environ;

namespace pg::chain {
namespace json = boost::json;

namespace {

/// `text` without its comments (strings kept), so an "import" in a comment is not followed.
std::string strip_comments(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      const std::size_t start = i;
      for (++i; i < text.size() && text[i] != c; ++i) {
        if (text[i] == '\\') ++i;
      }
      out.append(text.substr(start, i - start + 1));
    } else if (text.substr(i, 2) == "//") {
      while (i < text.size() && text[i] != '\n') ++i;
      out += '\n';
    } else if (text.substr(i, 2) == "/*") {
      const std::size_t end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 1;
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

/// The paths of the import directives of `text` (every form names its path as a string literal
/// before the ';').
std::vector<std::string> import_paths(std::string_view source) {
  const std::string text = strip_comments(source);
  std::vector<std::string> out;
  for (std::size_t at = text.find("import"); at != std::string::npos;
       at = text.find("import", at + 6)) {
    if ((at > 0 && is_word_char(text[at - 1])) ||
        (at + 6 < text.size() && is_word_char(text[at + 6])))
      continue;
    const std::size_t end = text.find(';', at);
    if (end == std::string::npos) break;
    const std::string_view directive = std::string_view(text).substr(at, end - at);
    const std::size_t q = directive.find_first_of("\"'");
    if (q == std::string_view::npos) continue;
    const std::size_t q2 = directive.find(directive[q], q + 1);
    if (q2 == std::string_view::npos) continue;
    out.emplace_back(directive.substr(q + 1, q2 - q - 1));
  }
  return out;
}

/// "a/b/../c/./d.sol" -> "a/c/d.sol"; nullopt when ".." climbs above the root.
std::optional<std::string> normalize(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t from = 0;
  while (from <= path.size()) {
    std::size_t to = path.find('/', from);
    if (to == std::string_view::npos) to = path.size();
    const std::string_view part = path.substr(from, to - from);
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    from = to + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
  bool timed_out = false;
  bool too_large = false;  // more than max_output: ended, nothing read
};

/// An anonymous in-memory file (memfd) holding `bytes`, rewound; -1 on failure.
int memory_file(const char* name, std::string_view bytes) {
  const int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return -1;
    }
    done += static_cast<std::size_t>(n);
  }
  if (lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/// Everything in the file `fd` from its start.
std::string read_all(int fd) {
  std::string out;
  if (lseek(fd, 0, SEEK_SET) != 0) return out;
  char buffer[65536];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

/// Runs `/bin/sh -c command` with `input` on stdin; stdout and stderr collected. All three are
/// anonymous in-memory files (memfd), not pipes: node makes its standard streams non-blocking,
/// so solcjs's `readFileSync(0)` fails with EAGAIN on a pipe that is momentarily empty, and its
/// `console.log(output); process.exit(0)` cuts an answer larger than a pipe's buffer (64 KiB).
/// Files are read and written to the end in one go. The wait is on a pidfd, with the timeout.
Result<RunResult> run(const std::string& command, const std::string& input,
                      std::chrono::seconds timeout, std::size_t max_output) {
  const int in_fd = memory_file("proofgate-solc-input", input);
  const int out_fd = memory_file("proofgate-solc-output", {});
  const int err_fd = memory_file("proofgate-solc-errors", {});
  const auto close_all = [&] {
    for (const int fd : {in_fd, out_fd, err_fd}) {
      if (fd >= 0) close(fd);
    }
  };
  if (in_fd < 0 || out_fd < 0 || err_fd < 0) {
    close_all();
    return Error{"--solc", "cannot create the compiler's input and output files"};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  std::string sh = "/bin/sh";
  std::string dash_c = "-c";
  std::string line = command;
  char* argv[] = {sh.data(), dash_c.data(), line.data(), nullptr};
  // Its own process group, so that a timeout ends the compiler and whatever it started (solcjs
  // is node behind a shell script).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, sh.c_str(), &actions, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    close_all();
    return Error{"--solc", "cannot start /bin/sh"};
  }
  RunResult r;
  // Until the shell exits (left a zombie, so that its process group id cannot be reused), the
  // deadline passes, or the answer grows past max_output. The wait is on a pidfd; where
  // pidfd_open is not allowed (old kernels, some seccomp profiles) on waitid(WNOWAIT) every 20 ms.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  const auto until = std::chrono::steady_clock::now() + timeout;
  const auto size_of = [](int fd) {
    struct stat st {};
    return fstat(fd, &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
  };
  for (;;) {
    if (size_of(out_fd) + size_of(err_fd) > max_output) {
      r.too_large = true;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    if (pidfd >= 0) {
      pollfd exited{pidfd, POLLIN, 0};
      const int ready = poll(&exited, 1, static_cast<int>(std::min<long long>(left.count(), 200)));
      if (ready > 0) break;
      if (ready < 0 && errno != EINTR) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    } else {
      siginfo_t info{};
      if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (pidfd >= 0) close(pidfd);
  // Whatever is left of the compiler's process group goes, exited or not: nothing it started
  // outlives the run.
  kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!r.too_large) {
    r.out = read_all(out_fd);
    r.err = read_all(err_fd);
  }
  close_all();
  r.status =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return r;
}

std::string tail(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : "…" + s.substr(s.size() - n);
}

}  // namespace

Result<Ok> resolve_imports(SourceMap& sources, const std::filesystem::path& node_modules) {
  std::vector<std::string> pending;
  for (const auto& [path, text] : sources) pending.push_back(path);
  while (!pending.empty()) {
    const std::string importer = pending.back();
    pending.pop_back();
    const auto imports = import_paths(sources.at(importer));
    for (const std::string& wanted : imports) {
      std::optional<std::string> path;
      const bool relative = wanted.starts_with("./") || wanted.starts_with("../");
      if (relative) {
        const std::size_t slash = importer.rfind('/');
        path =
            normalize((slash == std::string::npos ? "" : importer.substr(0, slash + 1)) + wanted);
      } else {
        path = normalize(wanted);
      }
      if (!path || path->empty())
        return Error{importer, "import \"" + wanted + "\" leaves the source tree"};
      if (sources.contains(*path)) continue;
      const std::filesystem::path file = node_modules / *path;
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        return Error{importer, "import \"" + wanted + "\" not found (looked for " + file.string() +
                                   "; --node-modules names the directory)"};
      }
      std::stringstream ss;
      ss << in.rdbuf();
      sources.emplace(*path, ss.str());
      pending.push_back(*path);
    }
  }
  return Ok{};
}

Result<std::map<std::string, Bytes>> compile_standard_json(const SourceMap& sources,
                                                           const CompileSettings& settings) {
  json::object input_sources;
  for (const auto& [path, text] : sources) input_sources[path] = json::object{{"content", text}};
  const json::object input{
      {"language", "Solidity"},
      {"sources", std::move(input_sources)},
      {"settings",
       {{"optimizer", {{"enabled", true}, {"runs", settings.optimizer_runs}}},
        {"evmVersion", settings.evm_version},
        {"outputSelection",
         {{"*", {{"*", json::array{"evm.bytecode.object", "evm.deployedBytecode.object"}}}}}}}}};
  auto ran = run(settings.command + " --standard-json", json::serialize(input), settings.timeout,
                 settings.max_output);
  if (!ran) return ran.error();
  const std::string what = "--solc " + settings.command;
  if (ran->timed_out)
    return Error{what, "did not finish within " + std::to_string(settings.timeout.count()) + " s"};
  if (ran->too_large)
    return Error{what,
                 "answered more than " + std::to_string(settings.max_output) + " bytes; ended"};
  if (ran->status != 0) {
    return Error{what, "exited with status " + std::to_string(ran->status) +
                           (ran->err.empty() ? "" : ": " + tail(ran->err, 2000))};
  }
  // solc-js may print a notice line before the JSON: the answer starts at the first line that
  // opens an object.
  std::size_t start = ran->out.find("\n{");
  start =
      ran->out.starts_with("{") ? 0 : (start == std::string::npos ? std::string::npos : start + 1);
  boost::system::error_code ec;
  const json::value output =
      start == std::string::npos ? json::value() : json::parse(ran->out.substr(start), ec);
  if (start == std::string::npos || ec || !output.is_object()) {
    return Error{what, "did not answer standard JSON: " + tail(ran->out + ran->err, 2000)};
  }
  std::string errors;
  if (const auto* list = output.as_object().if_contains("errors"); list && list->is_array()) {
    for (const auto& e : list->as_array()) {
      const auto* severity = e.is_object() ? e.as_object().if_contains("severity") : nullptr;
      if (severity == nullptr || *severity != "error") continue;
      const auto* message = e.as_object().if_contains("formattedMessage");
      if (message == nullptr) message = e.as_object().if_contains("message");
      errors +=
          message && message->is_string() ? std::string(message->as_string()) : json::serialize(e);
      errors += "\n";
    }
  }
  if (!errors.empty()) return Error{"Solidity compilation", "failed:\n" + errors};
  std::map<std::string, Bytes> out;
  const auto* contracts = output.as_object().if_contains("contracts");
  if (contracts == nullptr || !contracts->is_object()) return Error{what, "answered no contracts"};
  for (const auto& [file, by_name] : contracts->as_object()) {
    if (!by_name.is_object()) continue;
    for (const auto& [name, c] : by_name.as_object()) {
      const json::value* object = nullptr;
      if (const auto* evm = c.is_object() ? c.as_object().if_contains("evm") : nullptr;
          evm && evm->is_object()) {
        if (const auto* bc = evm->as_object().if_contains("bytecode"); bc && bc->is_object()) {
          object = bc->as_object().if_contains("object");
        }
      }
      if (object == nullptr || !object->is_string()) continue;
      auto code = from_hex(object->as_string());
      if (!code)
        return Error{what, std::string(file) + ":" + std::string(name) +
                               ": bytecode is not hex (unlinked library?)"};
      if (code->empty()) continue;  // interfaces and abstract contracts
      // EIP-170: a contract whose runtime code is larger cannot be created; say so before a
      // deployment sends anything.
      const auto& evm = c.as_object().at("evm").as_object();
      if (const auto* deployed = evm.if_contains("deployedBytecode");
          deployed && deployed->is_object()) {
        const auto* runtime = deployed->as_object().if_contains("object");
        const std::size_t size =
            runtime && runtime->is_string() ? runtime->as_string().size() / 2 : 0;
        if (size > kMaxCodeSize) {
          return Error{std::string(file) + ":" + std::string(name),
                       std::to_string(size) + " bytes of runtime code, above EIP-170's " +
                           std::to_string(kMaxCodeSize) + ": it cannot be deployed"};
        }
      }
      out.emplace(std::string(file) + ":" + std::string(name), std::move(*code));
    }
  }
  return out;
}

}  // namespace pg::chain
