// The audit trail's hash chain, its export line and the offline check of an export.
#include "core/audit_chain.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <unordered_map>

#include "core/secrets.hpp"

namespace pg::core {

namespace json = boost::json;

namespace {

json::value sorted(const json::value& v) {
  if (v.is_object()) {
    std::vector<const json::key_value_pair*> members;
    for (const auto& kv : v.get_object()) members.push_back(&kv);
    std::sort(members.begin(), members.end(),
              [](const auto* a, const auto* b) { return a->key() < b->key(); });
    json::object out;
    for (const auto* kv : members) out[kv->key()] = sorted(kv->value());
    return out;
  }
  if (v.is_array()) {
    json::array out;
    for (const auto& item : v.get_array()) out.push_back(sorted(item));
    return out;
  }
  return v;
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_field(std::string& out, std::string_view s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(s);
}

std::string iso_millis(UnixMillis ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(ms)};
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<milliseconds> hms(t - day);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  return buf;
}

bool is_hash(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

/// One parsed export line: the fields the hash covers, or why the line is not one.
struct Line {
  std::size_t number = 0;
  std::int64_t seq = 0;
  UnixMillis at = 0;
  std::string actor_type, actor_id, action, details, prev_hash, hash;
};

std::optional<std::string> parse_line(std::string_view text, Line& out) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return "not a JSON object";
  const json::object& o = v.get_object();
  const auto text_field = [&](std::string_view name,
                              std::string& to) -> std::optional<std::string> {
    const json::value* f = o.if_contains(name);
    if (f == nullptr || !f->is_string()) return std::string(name) + " is missing or not a string";
    to = std::string(f->get_string());
    return std::nullopt;
  };
  const auto int_field = [&](std::string_view name,
                             std::int64_t& to) -> std::optional<std::string> {
    const json::value* f = o.if_contains(name);
    if (f == nullptr || !f->is_int64()) return std::string(name) + " is missing or not an integer";
    to = f->get_int64();
    return std::nullopt;
  };
  if (auto e = int_field("seq", out.seq)) return e;
  if (auto e = int_field("at_ms", out.at)) return e;
  for (auto [name, to] : {std::pair{"actor_type", &out.actor_type},
                          std::pair{"actor_id", &out.actor_id}, std::pair{"action", &out.action},
                          std::pair{"prev_hash", &out.prev_hash}, std::pair{"hash", &out.hash}}) {
    if (auto e = text_field(name, *to)) return e;
  }
  if (out.seq < 1) return "seq must be at least 1";
  if (!is_hash(out.prev_hash)) return "prev_hash is not 64 lowercase hex digits";
  if (!is_hash(out.hash)) return "hash is not 64 lowercase hex digits";
  const json::value* details = o.if_contains("details");
  if (details == nullptr || !details->is_object()) return "details is missing or not an object";
  out.details = json::serialize(sorted(*details));
  return std::nullopt;
}

}  // namespace

std::optional<std::string> canonical_details(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text.empty() ? std::string_view("{}") : text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return json::serialize(sorted(v));
}

std::string audit_entry_hash(std::int64_t seq, std::string_view prev_hash,
                             std::string_view actor_type, std::string_view actor_id,
                             std::string_view action, std::string_view canonical, UnixMillis at) {
  std::string in = "proofgate-audit-v1";
  put_u64(in, static_cast<std::uint64_t>(seq));
  in.append(prev_hash);
  put_field(in, actor_type);
  put_field(in, actor_id);
  put_field(in, action);
  put_field(in, canonical);
  put_u64(in, static_cast<std::uint64_t>(at));
  return hex(sha256(in));
}

AuditChainHead chain_audit_entry(AuditEntry& entry, const AuditChainHead& head, bool keep_at) {
  entry.seq = head.seq + 1;
  entry.prev_hash = head.hash;
  if (auto canonical = canonical_details(entry.details_json)) entry.details_json = *canonical;
  if (!keep_at) entry.at = std::max(entry.at, head.at);
  entry.hash = audit_entry_hash(entry.seq, entry.prev_hash, entry.actor_type, entry.actor_id,
                                entry.action, entry.details_json, entry.at);
  return AuditChainHead{entry.seq, entry.hash, std::max(entry.at, head.at)};
}

std::string audit_export_line(const AuditEntry& e) {
  json::object o{{"id", e.id},
                 {"seq", e.seq},
                 {"at", iso_millis(e.at)},
                 {"at_ms", e.at},
                 {"actor_type", e.actor_type},
                 {"actor_id", e.actor_id},
                 {"action", e.action}};
  boost::system::error_code ec;
  json::value details = json::parse(e.details_json.empty() ? "{}" : e.details_json, ec);
  o["details"] = ec ? json::value(json::object{}) : std::move(details);
  o["prev_hash"] = e.prev_hash;
  o["hash"] = e.hash;
  return json::serialize(o);
}

AuditChainCheck check_audit_export(const std::vector<std::string>& lines,
                                   std::optional<std::string_view> anchor,
                                   std::optional<std::string_view> head) {
  AuditChainCheck check;
  std::vector<Line> parsed;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
    Line line;
    line.number = i + 1;
    if (auto why = parse_line(lines[i], line)) {
      check.verdict = AuditChainCheck::Verdict::kMalformed;
      check.line = i + 1;
      check.reason = *why;
      return check;
    }
    parsed.push_back(std::move(line));
  }
  const auto broken = [&](const Line& at, std::string reason) {
    check.verdict = AuditChainCheck::Verdict::kBroken;
    check.line = at.number;
    check.seq = at.seq;
    check.reason = std::move(reason);
    return check;
  };
  // Where each seq appears, to tell a reordering from a removal.
  std::unordered_map<std::int64_t, std::size_t> line_of_seq;
  for (const Line& l : parsed) line_of_seq.emplace(l.seq, l.number);

  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const Line& l = parsed[i];
    const std::string recomputed =
        audit_entry_hash(l.seq, l.prev_hash, l.actor_type, l.actor_id, l.action, l.details, l.at);
    if (recomputed != l.hash) {
      return broken(l, "edited: the entry's fields do not match its hash");
    }
    if (i == 0) {
      if (anchor && l.prev_hash != *anchor) {
        return broken(l, "removed: the first entry's prev_hash is not the anchor " +
                             std::string(*anchor) + " (entries before it are missing)");
      }
      if (l.seq == 1 && l.prev_hash != kAuditGenesisHash) {
        return broken(l, "edited: seq 1 must have the genesis prev_hash (64 zeros)");
      }
      check.first_seq = l.seq;
      continue;
    }
    const Line& p = parsed[i - 1];
    if (l.seq <= p.seq) {
      return broken(l, "reordered: seq " + std::to_string(l.seq) + " comes after seq " +
                           std::to_string(p.seq));
    }
    if (l.seq > p.seq + 1) {
      const auto later = line_of_seq.find(p.seq + 1);
      if (later != line_of_seq.end() && later->second > l.number) {
        return broken(l, "reordered: seq " + std::to_string(p.seq + 1) + " comes later, at line " +
                             std::to_string(later->second));
      }
      return broken(l, "removed: seq " + std::to_string(p.seq + 1) +
                           (l.seq - 1 > p.seq + 1 ? " to " + std::to_string(l.seq - 1) : "") +
                           " missing after seq " + std::to_string(p.seq));
    }
    if (l.prev_hash != p.hash) {
      return broken(l, "removed: prev_hash is not the hash of seq " + std::to_string(p.seq) +
                           " (line " + std::to_string(p.number) +
                           "): that entry was replaced or rewritten");
    }
  }
  check.entries = parsed.size();
  if (!parsed.empty()) {
    check.last_seq = parsed.back().seq;
    check.head = parsed.back().hash;
  }
  if (head) {
    const std::string_view last =
        parsed.empty() ? (anchor ? *anchor : kAuditGenesisHash) : std::string_view(check.head);
    if (last != *head) {
      Line end;
      end.number = parsed.empty() ? 0 : parsed.back().number;
      end.seq = parsed.empty() ? 0 : parsed.back().seq;
      check.entries = 0;
      return broken(end, "truncated: the last entry's hash is not the head " + std::string(*head) +
                             " (entries after it are missing)");
    }
  }
  return check;
}

}  // namespace pg::core
