// The standard-JSON compiler subprocess and import resolution.
#include "chain/solc.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

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
};

/// Runs `/bin/sh -c command` with `input` on stdin; stdout and stderr collected.
Result<RunResult> run(const std::string& command, const std::string& input,
                      std::chrono::seconds timeout) {
  int in_pipe[2];
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return Error{"--solc", "cannot create a pipe"};
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    return Error{"--solc", "cannot create a pipe"};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
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
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return Error{"--solc", "cannot start /bin/sh"};
  }
  // The input is written from its own thread while the answer is read (a compiler may write
  // before it has read everything). SIGPIPE, should the compiler exit early, is blocked in that
  // thread so that the write fails with EPIPE instead of ending this process.
  std::thread writer([fd = in_pipe[1], &input] {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
    std::size_t done = 0;
    while (done < input.size()) {
      const ssize_t n = write(fd, input.data() + done, input.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    close(fd);
  });
  RunResult r;
  const auto until = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    const int ready = poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  writer.join();
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
        {"outputSelection", {{"*", {{"*", json::array{"evm.bytecode.object"}}}}}}}}};
  auto ran = run(settings.command + " --standard-json", json::serialize(input), settings.timeout);
  if (!ran) return ran.error();
  const std::string what = "--solc " + settings.command;
  if (ran->timed_out)
    return Error{what, "did not finish within " + std::to_string(settings.timeout.count()) + " s"};
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
      out.emplace(std::string(file) + ":" + std::string(name), std::move(*code));
    }
  }
  return out;
}

}  // namespace pg::chain
