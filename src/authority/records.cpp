// Deterministic record generation: a counter-based generator (SHA-256 of seed || kind || counter)
// draws every field, so the records depend on nothing but the kind and their index.
#include "authority/records.hpp"

#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>
#include <stdexcept>

#include "calendar/bikram_sambat.hpp"

namespace pg::authority {

namespace {

namespace json = boost::json;
using issuer::AuthorityKind;

constexpr std::string_view kSeed = "proofgate.sandbox-authority.records.v1";

/// A stream of 64-bit words: word i is bytes 0..7 of SHA-256(seed || 0x00 || kind || 0x00 || i).
class Generator {
 public:
  explicit Generator(AuthorityKind kind) : kind_(issuer::kind_name(kind)) {}

  std::uint64_t next() {
    std::string input(kSeed);
    input.push_back('\0');
    input.append(kind_);
    input.push_back('\0');
    for (int b = 7; b >= 0; --b) input.push_back(static_cast<char>((counter_ >> (8 * b)) & 0xff));
    ++counter_;
    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
    SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
    std::uint64_t word = 0;
    for (int b = 0; b < 8; ++b) word = (word << 8) | digest[static_cast<std::size_t>(b)];
    return word;
  }

  /// Uniform in [lo, hi] (the modulo bias over 2^64 is far below anything a test could see).
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + next() % (hi - lo + 1); }

  std::string digits(int n) {
    std::string out;
    for (int k = 0; k < n; ++k) out.push_back(static_cast<char>('0' + between(0, 9)));
    return out;
  }

  template <class T, std::size_t N>
  const T& pick(const std::array<T, N>& items) {
    return items[static_cast<std::size_t>(between(0, N - 1))];
  }

 private:
  std::string kind_;
  std::uint64_t counter_ = 0;
};

constexpr std::array<std::string_view, 16> kGivenNames = {
    "Aarati", "Bikash", "Chandra", "Deepa", "Gita",   "Hari",   "Indira", "Kamal",
    "Laxmi",  "Manish", "Nabin",   "Pooja", "Ramesh", "Sabina", "Sunil",  "Tara"};
constexpr std::array<std::string_view, 12> kFamilyNames = {
    "Adhikari", "Bhattarai", "Gurung",   "KC",     "Karki", "Magar",
    "Poudel",   "Rai",       "Shrestha", "Tamang", "Thapa", "Yadav"};
constexpr std::array<std::string_view, 6> kInstitutions = {
    "Tri-Chandra Multiple Campus",
    "Amrit Science Campus",
    "Patan Multiple Campus",
    "Padma Kanya Multiple Campus",
    "Institute of Engineering, Pulchowk Campus",
    "Shanker Dev Campus"};

// Built with append, not `"literal" + std::string`: GCC 12's -Wrestrict misfires on the latter.
std::string two(std::uint64_t v) {
  std::string out;
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
  return out;
}

std::string phone(Generator& g) {
  std::string out = "98";
  out.append(g.digits(8));
  return out;
}

SandboxRecord moha(Generator& g) {
  issuer::MohaRecord r;
  // DD-DD-DD-DDDDD: district, office, year and serial digits as the certificates print them.
  r.certificate_no = g.digits(2) + "-" + g.digits(2) + "-" + g.digits(2) + "-" + g.digits(5);
  r.name = std::string(g.pick(kGivenNames)) + " " + std::string(g.pick(kFamilyNames));
  // Day at most 29: every Bikram Sambat month has at least 29 days, so the date always exists.
  r.date_of_birth_bs = std::to_string(g.between(2030, 2075)) + "-" + two(g.between(1, 12)) + "-" +
                       two(g.between(1, 29));
  r.phone = phone(g);
  return {r, r.phone};
}

SandboxRecord tu(Generator& g) {
  issuer::TuRecord r;
  const std::uint64_t registered_ad = g.between(2005, 2019);
  // D-D-DD-DDDD-YYYY: faculty, level, campus, serial and the year (AD) of registration.
  r.registration_no = std::to_string(g.between(1, 9)) + "-" + std::to_string(g.between(1, 9)) +
                      "-" + g.digits(2) + "-" + g.digits(4) + "-" + std::to_string(registered_ad);
  r.degree_level = static_cast<int>(g.between(1, 7));
  // AD + 57 is the BS year for most of it; graduation two to five years after registration.
  r.graduation_year_bs =
      static_cast<int>(std::min<std::uint64_t>(registered_ad + 57 + g.between(2, 5), 2081));
  const auto institution = g.between(0, kInstitutions.size() - 1);
  r.institution_id = static_cast<int>(institution + 1);
  r.institution = std::string(kInstitutions[static_cast<std::size_t>(institution)]);
  return {r, phone(g)};
}

SandboxRecord nrb(Generator& g, int latest_fiscal_year) {
  issuer::NrbRecord r;
  r.pan = std::to_string(g.between(1, 6)) + g.digits(8);
  const int years = static_cast<int>(g.between(2, 3));
  const int first = latest_fiscal_year - years + 1;
  for (int y = 0; y < years; ++y) {
    // Whole thousands of rupees between 2 lakh and 50 lakh.
    r.incomes.push_back({first + y, g.between(200, 5000) * 1000});
  }
  return {r, phone(g)};
}

json::object record_object(const issuer::AuthorityRecord& record) {
  json::object o;
  if (const auto* m = std::get_if<issuer::MohaRecord>(&record)) {
    o["kind"] = "moha";
    o["record"] = m->certificate_no;
    o["name"] = m->name;
    o["date_of_birth_bs"] = m->date_of_birth_bs;
    o["phone"] = m->phone;
  } else if (const auto* t = std::get_if<issuer::TuRecord>(&record)) {
    o["kind"] = "tu";
    o["record"] = t->registration_no;
    o["degree_level"] = t->degree_level;
    o["graduation_year_bs"] = t->graduation_year_bs;
    o["institution_id"] = t->institution_id;
    o["institution"] = t->institution;
  } else {
    const auto& n = std::get<issuer::NrbRecord>(record);
    o["kind"] = "nrb";
    o["record"] = n.pan;
    json::array incomes;
    for (const auto& y : n.incomes) {
      incomes.push_back(json::object{{"fiscal_year_bs", y.fiscal_year_bs},
                                     {"annual_income_npr", y.annual_income_npr}});
    }
    o["incomes"] = std::move(incomes);
  }
  return o;
}

}  // namespace

std::string record_number(const issuer::AuthorityRecord& record) {
  if (const auto* m = std::get_if<issuer::MohaRecord>(&record)) return m->certificate_no;
  if (const auto* t = std::get_if<issuer::TuRecord>(&record)) return t->registration_no;
  return std::get<issuer::NrbRecord>(record).pan;
}

int latest_completed_fiscal_year(std::uint32_t today_yyyymmdd) noexcept {
  const calendar::Date today{static_cast<int>(today_yyyymmdd / 10000),
                             static_cast<int>(today_yyyymmdd / 100 % 100),
                             static_cast<int>(today_yyyymmdd % 100)};
  const auto bs = calendar::ad_to_bs(today);
  // The year holding today has not ended; the one before it has (on its last day it has not).
  return bs ? calendar::fiscal_year_of(*bs) - 1 : 0;
}

std::vector<SandboxRecord> generate_records(AuthorityKind kind, std::size_t count,
                                            int latest_fiscal_year) {
  Generator g(kind);
  std::vector<SandboxRecord> out;
  out.reserve(count);
  std::set<std::string> numbers;
  while (out.size() < count) {
    SandboxRecord r = kind == AuthorityKind::kMoha ? moha(g)
                      : kind == AuthorityKind::kTu ? tu(g)
                                                   : nrb(g, latest_fiscal_year);
    // A number drawn twice is skipped (the generator moves on), so numbers are unique and the
    // sequence still depends only on the seed.
    if (numbers.insert(record_number(r.record)).second) out.push_back(std::move(r));
  }
  return out;
}

std::string record_json(const issuer::AuthorityRecord& record) {
  return json::serialize(record_object(record));
}

std::string records_file_json(AuthorityKind kind, const std::vector<SandboxRecord>& records) {
  json::array list;
  for (const auto& r : records) {
    json::object o = record_object(r.record);
    o["phone"] = r.phone;
    list.push_back(std::move(o));
  }
  return json::serialize(json::object{{"kind", issuer::kind_name(kind)}, {"records", list}});
}

std::string write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  std::string leaf = ".";
  leaf.append(path.filename().string()).append(".XXXXXX");
  std::string tmp_name = (path.parent_path() / leaf).string();
  const int fd = mkstemp(tmp_name.data());  // mode 0600
  if (fd < 0) return "cannot create a file beside " + path.string() + ": " + std::strerror(errno);
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string problem = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp_name.c_str());
      return "cannot write " + path.string() + ": " + problem;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0600) != 0 || ::close(fd) != 0) {
    ::unlink(tmp_name.c_str());
    return "cannot write " + path.string() + ": " + std::strerror(errno);
  }
  if (std::rename(tmp_name.c_str(), path.c_str()) != 0) {
    const std::string problem = std::strerror(errno);
    ::unlink(tmp_name.c_str());
    return "cannot rename into " + path.string() + ": " + problem;
  }
  return "";
}

}  // namespace pg::authority
