// The deployment file: its JSON form, strict parsing, and the atomic no-overwrite write.
#include "chain/deployment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "chain/hex.hpp"

namespace pg::chain {
namespace json = boost::json;

namespace {

void pretty(std::ostream& os, const json::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) {
      os << "{}";
      return;
    }
    os << "{\n";
    std::size_t i = 0;
    for (const auto& [k, member] : o) {
      os << pad << "  " << json::serialize(json::value(k)) << ": ";
      pretty(os, member, indent + 1);
      os << (++i < o.size() ? ",\n" : "\n");
    }
    os << pad << "}";
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) {
      os << "[]";
      return;
    }
    os << "[\n";
    for (std::size_t i = 0; i < a.size(); ++i) {
      os << pad << "  ";
      pretty(os, a[i], indent + 1);
      os << (i + 1 < a.size() ? ",\n" : "\n");
    }
    os << pad << "]";
  } else {
    os << json::serialize(v);
  }
}

Result<const json::value*> field(const json::object& o, std::string_view key,
                                 const std::string& path) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Error{path + std::string(key), "is missing"};
  return v;
}

Result<std::uint64_t> integer(const json::object& o, std::string_view key,
                              const std::string& path) {
  auto v = field(o, key, path);
  if (!v) return v.error();
  if ((*v)->is_uint64()) return (*v)->as_uint64();
  if ((*v)->is_int64() && (*v)->as_int64() >= 0)
    return static_cast<std::uint64_t>((*v)->as_int64());
  return Error{path + std::string(key), "is not a non-negative integer"};
}

Result<std::string> string(const json::object& o, std::string_view key, const std::string& path) {
  auto v = field(o, key, path);
  if (!v) return v.error();
  if (!(*v)->is_string()) return Error{path + std::string(key), "is not a string"};
  return std::string((*v)->as_string());
}

Result<Address> address(const json::object& o, std::string_view key, const std::string& path) {
  auto s = string(o, key, path);
  if (!s) return s.error();
  return parse_address(*s, path + std::string(key));
}

/// `prefix` and strerror(err) (appended, not with operator+, which trips GCC 12's -Wrestrict).
std::string reason(std::string prefix, int err) {
  prefix.append(std::strerror(err));
  return prefix;
}

}  // namespace

std::string deployment_to_json(const Deployment& d) {
  json::array verifiers;
  for (const auto& v : d.verifiers) {
    verifiers.push_back(json::object{{"claim_type", v.claim_type},
                                     {"version", v.version},
                                     {"address", v.address.to_checksum()},
                                     {"public_inputs", v.public_inputs},
                                     {"vkey_sha256", v.vkey_sha256}});
  }
  const json::object o{{"chain_id", d.chain_id},
                       {"circuit_registry", d.circuit_registry.to_checksum()},
                       {"root_registry", d.root_registry.to_checksum()},
                       {"timelock", d.timelock.to_checksum()},
                       {"safe", d.safe.to_checksum()},
                       {"deployed_block", d.deployed_block},
                       {"verifiers", std::move(verifiers)}};
  std::ostringstream os;
  pretty(os, o, 0);
  os << "\n";
  return os.str();
}

Result<Deployment> parse_deployment(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Error{"deployment", "is not a JSON object"};
  const auto& o = v.as_object();
  Deployment d;
  auto chain_id = integer(o, "chain_id", "");
  if (!chain_id) return chain_id.error();
  if (*chain_id == 0) return Error{"chain_id", "must be positive"};
  d.chain_id = *chain_id;
  for (const auto& [key, out] :
       {std::pair<std::string_view, Address*>{"circuit_registry", &d.circuit_registry},
        {"root_registry", &d.root_registry},
        {"timelock", &d.timelock},
        {"safe", &d.safe}}) {
    auto a = address(o, key, "");
    if (!a) return a.error();
    *out = *a;
  }
  auto block = integer(o, "deployed_block", "");
  if (!block) return block.error();
  d.deployed_block = *block;
  auto list = field(o, "verifiers", "");
  if (!list) return list.error();
  if (!(*list)->is_array()) return Error{"verifiers", "is not an array"};
  for (std::size_t i = 0; i < (*list)->as_array().size(); ++i) {
    const std::string path = "verifiers[" + std::to_string(i) + "].";
    const auto& item = (*list)->as_array()[i];
    if (!item.is_object()) return Error{path.substr(0, path.size() - 1), "is not an object"};
    const auto& vo = item.as_object();
    DeployedVerifier dv;
    auto claim_type = string(vo, "claim_type", path);
    if (!claim_type) return claim_type.error();
    dv.claim_type = *claim_type;
    auto version = string(vo, "version", path);
    if (!version) return version.error();
    dv.version = *version;
    auto a = address(vo, "address", path);
    if (!a) return a.error();
    dv.address = *a;
    auto n = integer(vo, "public_inputs", path);
    if (!n) return n.error();
    dv.public_inputs = *n;
    auto sha = string(vo, "vkey_sha256", path);
    if (!sha) return sha.error();
    if (sha->size() != 64 || !std::all_of(sha->begin(), sha->end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        })) {
      return Error{path + "vkey_sha256", "is not 64 lowercase hex digits"};
    }
    dv.vkey_sha256 = *sha;
    d.verifiers.push_back(std::move(dv));
  }
  return d;
}

Result<Ok> check_vkey_digest(std::string_view claim_type, std::string_view version,
                             std::string_view vkey_json, std::string_view vkey_sha256) {
  const std::string hex = sha256_hex(vkey_json);
  if (hex != vkey_sha256) {
    return Error{std::string(claim_type) + " " + std::string(version),
                 "verification_key.json's SHA-256 is " + hex + ", not the manifest's " +
                     std::string(vkey_sha256) + " (changed since the catalog checked it)"};
  }
  return Ok{};
}

Result<Deployment> read_deployment_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"deployment file " + path, "cannot be read"};
  std::stringstream ss;
  ss << in.rdbuf();
  auto d = parse_deployment(ss.str());
  if (!d) return Error{"deployment file " + path, d.error().to_string()};
  return d;
}

Result<Ok> write_deployment_file(const std::string& path, const Deployment& d) {
  const std::string what = "--out " + path;
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::random_device random;
  std::string tmp_name = ".";
  tmp_name.append(target.filename().string()).append(".tmp-").append(std::to_string(random()));
  const std::filesystem::path tmp = dir / tmp_name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Error{what, reason("cannot write in its directory: ", errno)};
  const std::string text = deployment_to_json(d);
  std::size_t done = 0;
  bool ok = ::fchmod(fd, 0644) == 0;  // whatever the umask
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(tmp.c_str());
    return Error{what, "cannot be written"};
  }
  if (::link(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) return Error{what, "exists already; a deployment file is never overwritten"};
    return Error{what, reason("cannot be created: ", err)};
  }
  ::unlink(tmp.c_str());
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Ok{};
}

}  // namespace pg::chain
