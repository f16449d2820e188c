// The Solidity contract ABI: type names, encoding, strict decoding, selectors, EIP-55 addresses.
#include "chain/abi.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <stdexcept>

#include "chain/keccak.hpp"
#include "crypto/uint256.hpp"

namespace pg::chain {
namespace {

using Kind = AbiType::Kind;

Error err(std::string_view what, std::string message) {
  return {std::string(what), std::move(message)};
}

// ---- type names ----

class TypeParser {
 public:
  explicit TypeParser(std::string_view s) : s_(s) {}

  Result<AbiType> parse_all() {
    auto t = parse_type();
    if (!t) return t;
    if (pos_ != s_.size()) return fail("unexpected '" + std::string(s_.substr(pos_, 1)) + "'");
    return t;
  }

  Result<AbiType> parse_type() {
    Result<AbiType> base = peek() == '(' ? parse_tuple() : parse_elementary();
    if (!base) return base;
    AbiType t = std::move(base.value());
    while (peek() == '[') {
      ++pos_;
      const std::size_t digits_from = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      const std::string_view digits = s_.substr(digits_from, pos_ - digits_from);
      if (peek() != ']') return fail("expected ']'");
      ++pos_;
      AbiType array;
      array.members.push_back(std::move(t));
      if (digits.empty()) {
        array.kind = Kind::kArray;
      } else {
        if (digits.size() > 6 || (digits.size() > 1 && digits[0] == '0')) {
          return fail("bad array length " + std::string(digits));
        }
        array.kind = Kind::kFixedArray;
        array.size = static_cast<unsigned>(std::stoul(std::string(digits)));
        if (array.size == 0) return fail("an array length must be at least 1");
      }
      t = std::move(array);
    }
    return t;
  }

 private:
  char peek() const noexcept { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  Error fail(std::string message) const {
    return err("type \"" + std::string(s_) + "\"",
               std::move(message) + " at " + std::to_string(pos_));
  }

  Result<AbiType> parse_tuple() {
    ++pos_;  // '('
    AbiType t;
    t.kind = Kind::kTuple;
    if (peek() == ')') {
      ++pos_;
      return t;
    }
    for (;;) {
      auto member = parse_type();
      if (!member) return member;
      t.members.push_back(std::move(member.value()));
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ')') {
        ++pos_;
        return t;
      }
      return fail("expected ',' or ')'");
    }
  }

  Result<AbiType> parse_elementary() {
    const std::size_t from = pos_;
    while (pos_ < s_.size() && std::isalnum(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    const std::string_view name = s_.substr(from, pos_ - from);
    AbiType t;
    const auto suffix = [&](std::string_view prefix, unsigned& out) {
      const std::string_view d = name.substr(prefix.size());
      if (d.empty() || d.size() > 3 || d[0] == '0' ||
          !std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
      }
      out = static_cast<unsigned>(std::stoul(std::string(d)));
      return true;
    };
    if (name == "uint") {
      t.kind = Kind::kUint;
      t.size = 256;
    } else if (name.starts_with("uint")) {
      t.kind = Kind::kUint;
      if (!suffix("uint", t.size) || t.size % 8 != 0 || t.size > 256) {
        return fail("no type " + std::string(name));
      }
    } else if (name == "bool") {
      t.kind = Kind::kBool;
    } else if (name == "address") {
      t.kind = Kind::kAddress;
    } else if (name == "string") {
      t.kind = Kind::kString;
    } else if (name == "bytes") {
      t.kind = Kind::kBytes;
    } else if (name.starts_with("bytes")) {
      t.kind = Kind::kFixedBytes;
      if (!suffix("bytes", t.size) || t.size > 32) return fail("no type " + std::string(name));
    } else {
      return fail(name.empty() ? std::string("expected a type")
                               : "unsupported type " + std::string(name));
    }
    return t;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// ---- encoding ----

bool value_is_dynamic(const AbiValue& v) {
  switch (v.kind) {
    case Kind::kBytes:
    case Kind::kString:
    case Kind::kArray:
      return true;
    case Kind::kFixedArray:
    case Kind::kTuple:
      return std::any_of(v.items.begin(), v.items.end(), value_is_dynamic);
    default:
      return false;
  }
}

std::size_t value_head_size(const AbiValue& v) {
  if (value_is_dynamic(v)) return 32;
  if (v.kind == Kind::kFixedArray || v.kind == Kind::kTuple) {
    std::size_t n = 0;
    for (const auto& item : v.items) n += value_head_size(item);
    return n;
  }
  return 32;
}

void append_word(Bytes& out, const Word& w) {
  out.insert(out.end(), w.begin(), w.end());
}

void append_padded(Bytes& out, const Bytes& data) {
  append_word(out, word_from_u64(data.size()));
  out.insert(out.end(), data.begin(), data.end());
  out.resize(out.size() + (32 - data.size() % 32) % 32, 0);
}

void encode_value(Bytes& out, const AbiValue& v);

void encode_tuple(Bytes& out, const std::vector<AbiValue>& items) {
  std::size_t head = 0;
  for (const auto& item : items) head += value_head_size(item);
  Bytes heads;
  Bytes tails;
  for (const auto& item : items) {
    if (value_is_dynamic(item)) {
      append_word(heads, word_from_u64(head + tails.size()));
      encode_value(tails, item);
    } else {
      encode_value(heads, item);
    }
  }
  out.insert(out.end(), heads.begin(), heads.end());
  out.insert(out.end(), tails.begin(), tails.end());
}

void encode_value(Bytes& out, const AbiValue& v) {
  switch (v.kind) {
    case Kind::kBytes:
    case Kind::kString:
      append_padded(out, v.data);
      return;
    case Kind::kArray:
      append_word(out, word_from_u64(v.items.size()));
      encode_tuple(out, v.items);
      return;
    case Kind::kFixedArray:
    case Kind::kTuple:
      encode_tuple(out, v.items);
      return;
    default:
      append_word(out, v.word);
  }
}

std::string kind_name(Kind k) {
  switch (k) {
    case Kind::kUint:
      return "an unsigned integer";
    case Kind::kBool:
      return "a bool";
    case Kind::kAddress:
      return "an address";
    case Kind::kFixedBytes:
      return "fixed bytes";
    case Kind::kBytes:
      return "bytes";
    case Kind::kString:
      return "a string";
    case Kind::kFixedArray:
      return "a fixed array";
    case Kind::kArray:
      return "an array";
    case Kind::kTuple:
      return "a tuple";
  }
  return "?";
}

/// The number of significant bits of a word's value.
unsigned word_bits(const Word& w) {
  for (unsigned i = 0; i < 32; ++i) {
    if (w[i] != 0) return (32 - i) * 8 - static_cast<unsigned>(std::countl_zero(w[i]));
  }
  return 0;
}

Result<Ok> check_value(const AbiType& t, const AbiValue& v, const std::string& path) {
  if (t.kind != v.kind) {
    return err(path, "expected " + kind_name(t.kind) + " (" + t.canonical() + "), got " +
                         kind_name(v.kind));
  }
  switch (t.kind) {
    case Kind::kUint:
      if (word_bits(v.word) > t.size) return err(path, "value does not fit in " + t.canonical());
      break;
    case Kind::kFixedBytes:
      if (v.fixed_size != t.size) {
        return err(path,
                   "expected " + t.canonical() + ", got bytes" + std::to_string(v.fixed_size));
      }
      break;
    case Kind::kFixedArray:
    case Kind::kArray:
      if (t.kind == Kind::kFixedArray && v.items.size() != t.size) {
        return err(path, "expected " + std::to_string(t.size) + " elements, got " +
                             std::to_string(v.items.size()));
      }
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        auto r = check_value(t.members[0], v.items[i], path + "[" + std::to_string(i) + "]");
        if (!r) return r;
      }
      break;
    case Kind::kTuple:
      if (v.items.size() != t.members.size()) {
        return err(path, "expected " + std::to_string(t.members.size()) + " values, got " +
                             std::to_string(v.items.size()));
      }
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        auto r = check_value(t.members[i], v.items[i], path + "[" + std::to_string(i) + "]");
        if (!r) return r;
      }
      break;
    default:
      break;
  }
  return Ok{};
}

// ---- decoding ----

class Decoder {
 public:
  Decoder(std::span<const std::uint8_t> data, std::string_view what) : data_(data), what_(what) {}

  Result<Ok> finish(const std::string& types) const {
    if (end_ != data_.size()) {
      return err(what_, "is " + std::to_string(data_.size()) + " bytes, the encoding of " + types +
                            " here is " + std::to_string(end_) + " bytes");
    }
    return Ok{};
  }

  Result<std::vector<AbiValue>> tuple(const std::vector<AbiType>& members, std::size_t start,
                                      const std::string& path) {
    std::vector<AbiValue> out;
    out.reserve(members.size());
    std::size_t at = start;
    for (std::size_t i = 0; i < members.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      const AbiType& t = members[i];
      std::size_t value_at = at;
      if (t.is_dynamic()) {
        auto w = word(at, item_path);
        if (!w) return w.error();
        const auto offset = word_to_u64(*w);
        if (!offset || *offset % 32 != 0 || start > data_.size() ||
            *offset > data_.size() - start) {
          return err(item_path, "bad offset " + word_to_decimal(*w) + " in " + what_);
        }
        value_at = start + static_cast<std::size_t>(*offset);
      }
      auto v = value(t, value_at, item_path);
      if (!v) return v.error();
      out.push_back(std::move(v.value()));
      at += t.head_size();
    }
    return out;
  }

 private:
  Result<Word> word(std::size_t at, const std::string& path) {
    if (at > data_.size() || data_.size() - at < 32) {
      return err(path, what_ + " is " + std::to_string(data_.size()) +
                           " bytes, too short for a word at byte " + std::to_string(at));
    }
    Word w{};
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(at), 32, w.begin());
    end_ = std::max(end_, at + 32);
    return w;
  }

  Result<AbiValue> value(const AbiType& t, std::size_t at, const std::string& path) {
    AbiValue v;
    v.kind = t.kind;
    switch (t.kind) {
      case Kind::kFixedArray: {
        std::vector<AbiType> members(t.size, t.members[0]);
        auto items = tuple(members, at, path);
        if (!items) return items.error();
        v.items = std::move(items.value());
        return v;
      }
      case Kind::kTuple: {
        auto items = tuple(t.members, at, path);
        if (!items) return items.error();
        v.items = std::move(items.value());
        return v;
      }
      default:
        break;
    }
    auto w = word(at, path);
    if (!w) return w.error();
    v.word = *w;
    switch (t.kind) {
      case Kind::kUint:
        if (word_bits(v.word) > t.size) return err(path, "value does not fit in " + t.canonical());
        return v;
      case Kind::kBool:
        if (word_bits(v.word) > 1) return err(path, "a bool must be 0 or 1");
        return v;
      case Kind::kAddress:
        if (word_bits(v.word) > 160) return err(path, "an address must be zero-padded to 32 bytes");
        return v;
      case Kind::kFixedBytes:
        v.fixed_size = t.size;
        if (!std::all_of(v.word.begin() + t.size, v.word.end(),
                         [](std::uint8_t b) { return b == 0; })) {
          return err(path, t.canonical() + " must be zero-padded");
        }
        return v;
      case Kind::kBytes:
      case Kind::kString: {
        const auto len = word_to_u64(v.word);
        const std::size_t from = at + 32;
        if (!len || *len > data_.size() - std::min(from, data_.size())) {
          return err(path, "length " + word_to_decimal(v.word) + " runs past the end of " + what_);
        }
        const std::size_t padded = (static_cast<std::size_t>(*len) + 31) / 32 * 32;
        if (data_.size() - from < padded) return err(path, "padding runs past the end of " + what_);
        const auto first = data_.begin() + static_cast<std::ptrdiff_t>(from);
        v.data.assign(first, first + static_cast<std::ptrdiff_t>(*len));
        if (!std::all_of(first + static_cast<std::ptrdiff_t>(*len),
                         first + static_cast<std::ptrdiff_t>(padded),
                         [](std::uint8_t b) { return b == 0; })) {
          return err(path, "padding is not zero");
        }
        v.word = {};
        end_ = std::max(end_, from + padded);
        return v;
      }
      case Kind::kArray: {
        const auto len = word_to_u64(v.word);
        if (!len || *len > data_.size() / 32) {
          return err(path,
                     "array length " + word_to_decimal(v.word) + " runs past the end of " + what_);
        }
        std::vector<AbiType> members(static_cast<std::size_t>(*len), t.members[0]);
        auto items = tuple(members, at + 32, path);
        if (!items) return items.error();
        v.items = std::move(items.value());
        v.word = {};
        return v;
      }
      default:
        return v;
    }
  }

  std::span<const std::uint8_t> data_;
  std::string what_;
  std::size_t end_ = 0;
};

Result<AbiType> parse_tuple_type(std::string_view types) {
  auto t = parse_abi_type(types);
  if (!t) return t;
  if (t->kind != Kind::kTuple)
    return err("type \"" + std::string(types) + "\"", "expected a tuple \"(...)\"");
  return t;
}

}  // namespace

// ---- addresses ----

std::string Address::to_checksum() const {
  const std::string lower = to_hex(bytes, false);
  const Hash32 h = keccak256(lower);
  std::string out = "0x";
  for (std::size_t i = 0; i < lower.size(); ++i) {
    const unsigned nib = (h[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0f;
    const char c = lower[i];
    out += (c >= 'a' && nib >= 8) ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

bool Address::is_zero() const noexcept {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

Result<Address> parse_address(std::string_view text, std::string_view what) {
  if (text.size() != 42 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
    return err(what, "an address is 0x followed by 40 hex digits");
  }
  const auto raw = from_hex(text);
  if (!raw) return err(what, "an address is 0x followed by 40 hex digits");
  Address a;
  std::copy(raw->begin(), raw->end(), a.bytes.begin());
  const std::string_view digits = text.substr(2);
  const bool has_lower =
      std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'a' && c <= 'f'; });
  const bool has_upper =
      std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'A' && c <= 'F'; });
  if (has_lower && has_upper && a.to_checksum().substr(2) != digits) {
    return err(what,
               "mixed-case address with a wrong EIP-55 checksum (a typo?): " + std::string(text));
  }
  return a;
}

// ---- words ----

Word word_from_u64(std::uint64_t value) noexcept {
  Word w{};
  for (int i = 0; i < 8; ++i) w[31 - i] = static_cast<std::uint8_t>(value >> (8 * i));
  return w;
}

Result<Word> word_from_decimal(std::string_view decimal, std::string_view what) {
  crypto::Limbs limbs{};
  if (!crypto::limbs_from_decimal(decimal, limbs)) {
    return err(what, "expected a canonical decimal number below 2^256");
  }
  Word w{};
  for (int i = 0; i < 32; ++i) w[31 - i] = static_cast<std::uint8_t>(limbs[i / 8] >> (8 * (i % 8)));
  return w;
}

std::optional<std::uint64_t> word_to_u64(const Word& w) noexcept {
  if (!std::all_of(w.begin(), w.begin() + 24, [](std::uint8_t b) { return b == 0; }))
    return std::nullopt;
  std::uint64_t v = 0;
  for (int i = 24; i < 32; ++i) v = v << 8 | w[i];
  return v;
}

std::string word_to_decimal(const Word& w) {
  Word n = w;
  std::string digits;
  while (std::any_of(n.begin(), n.end(), [](std::uint8_t b) { return b != 0; })) {
    unsigned rem = 0;
    for (auto& b : n) {
      const unsigned cur = rem << 8 | b;
      b = static_cast<std::uint8_t>(cur / 10);
      rem = cur % 10;
    }
    digits.insert(digits.begin(), static_cast<char>('0' + rem));
  }
  return digits.empty() ? "0" : digits;
}

// ---- types ----

bool AbiType::is_dynamic() const {
  switch (kind) {
    case Kind::kBytes:
    case Kind::kString:
    case Kind::kArray:
      return true;
    case Kind::kFixedArray:
      return members[0].is_dynamic();
    case Kind::kTuple:
      return std::any_of(members.begin(), members.end(),
                         [](const AbiType& m) { return m.is_dynamic(); });
    default:
      return false;
  }
}

std::size_t AbiType::head_size() const {
  if (is_dynamic()) return 32;
  if (kind == Kind::kFixedArray) return size * members[0].head_size();
  if (kind == Kind::kTuple) {
    std::size_t n = 0;
    for (const auto& m : members) n += m.head_size();
    return n;
  }
  return 32;
}

std::string AbiType::canonical() const {
  switch (kind) {
    case Kind::kUint:
      return "uint" + std::to_string(size);
    case Kind::kBool:
      return "bool";
    case Kind::kAddress:
      return "address";
    case Kind::kFixedBytes:
      return "bytes" + std::to_string(size);
    case Kind::kBytes:
      return "bytes";
    case Kind::kString:
      return "string";
    case Kind::kFixedArray:
      return members[0].canonical() + "[" + std::to_string(size) + "]";
    case Kind::kArray:
      return members[0].canonical() + "[]";
    case Kind::kTuple: {
      std::string s = "(";
      for (std::size_t i = 0; i < members.size(); ++i) s += (i ? "," : "") + members[i].canonical();
      return s + ")";
    }
  }
  return "?";
}

Result<AbiType> parse_abi_type(std::string_view name) {
  return TypeParser(name).parse_all();
}

// ---- values ----

AbiValue AbiValue::uint(const Word& w) {
  AbiValue v;
  v.kind = Kind::kUint;
  v.word = w;
  return v;
}
AbiValue AbiValue::uint(std::uint64_t x) {
  return uint(word_from_u64(x));
}
AbiValue AbiValue::boolean(bool b) {
  AbiValue v;
  v.kind = Kind::kBool;
  v.word[31] = b ? 1 : 0;
  return v;
}
AbiValue AbiValue::address(const Address& a) {
  AbiValue v;
  v.kind = Kind::kAddress;
  std::copy(a.bytes.begin(), a.bytes.end(), v.word.begin() + 12);
  return v;
}
AbiValue AbiValue::bytes32(const Word& w) {
  AbiValue v;
  v.kind = Kind::kFixedBytes;
  v.word = w;
  v.fixed_size = 32;
  return v;
}
AbiValue AbiValue::fixed_bytes(std::span<const std::uint8_t> data) {
  AbiValue v;
  v.kind = Kind::kFixedBytes;
  // A size above 32 is kept as given so that encode_checked refuses it; only 32 bytes are copied.
  v.fixed_size = static_cast<unsigned>(std::min<std::size_t>(data.size(), 33));
  std::copy_n(data.begin(), std::min<std::size_t>(data.size(), 32), v.word.begin());
  return v;
}
AbiValue AbiValue::bytes(Bytes data) {
  AbiValue v;
  v.kind = Kind::kBytes;
  v.data = std::move(data);
  return v;
}
AbiValue AbiValue::string(std::string_view text) {
  AbiValue v;
  v.kind = Kind::kString;
  v.data.assign(text.begin(), text.end());
  return v;
}
AbiValue AbiValue::fixed_array(std::vector<AbiValue> items) {
  AbiValue v;
  v.kind = Kind::kFixedArray;
  v.items = std::move(items);
  return v;
}
AbiValue AbiValue::array(std::vector<AbiValue> items) {
  AbiValue v;
  v.kind = Kind::kArray;
  v.items = std::move(items);
  return v;
}
AbiValue AbiValue::tuple(std::vector<AbiValue> items) {
  AbiValue v;
  v.kind = Kind::kTuple;
  v.items = std::move(items);
  return v;
}

Address AbiValue::as_address() const noexcept {
  Address a;
  std::copy(word.begin() + 12, word.end(), a.bytes.begin());
  return a;
}

// ---- calls ----

Result<std::array<std::uint8_t, 4>> selector(std::string_view signature) {
  const std::size_t paren = signature.find('(');
  if (paren == 0 || paren == std::string_view::npos) {
    return err("signature \"" + std::string(signature) + "\"", "expected name(types)");
  }
  const std::string_view name = signature.substr(0, paren);
  const bool good_name = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
  });
  if (!good_name) return err("signature \"" + std::string(signature) + "\"", "bad function name");
  auto params = parse_tuple_type(signature.substr(paren));
  if (!params) return params.error();
  const Hash32 h = keccak256(std::string(name) + params->canonical());
  return std::array<std::uint8_t, 4>{h[0], h[1], h[2], h[3]};
}

Bytes encode(const std::vector<AbiValue>& values) {
  Bytes out;
  encode_tuple(out, values);
  return out;
}

Result<Bytes> encode_checked(std::string_view types, const std::vector<AbiValue>& values) {
  auto t = parse_tuple_type(types);
  if (!t) return t.error();
  auto checked = check_value(*t, AbiValue::tuple(values), "arguments of " + std::string(types));
  if (!checked) return checked.error();
  return encode(values);
}

Result<Bytes> encode_call(std::string_view signature, const std::vector<AbiValue>& args) {
  auto sel = selector(signature);
  if (!sel) return sel.error();
  auto body = encode_checked(signature.substr(signature.find('(')), args);
  if (!body) return body.error();
  Bytes out(sel->begin(), sel->end());
  out.insert(out.end(), body->begin(), body->end());
  return out;
}

Bytes must_encode_call(std::string_view signature, const std::vector<AbiValue>& args) {
  auto out = encode_call(signature, args);
  if (!out)
    throw std::logic_error("encoding " + std::string(signature) + ": " + out.error().to_string());
  return std::move(*out);
}

Result<std::vector<AbiValue>> decode(std::string_view types, std::span<const std::uint8_t> data,
                                     std::string_view what) {
  auto t = parse_tuple_type(types);
  if (!t) return t.error();
  Decoder d(data, what);
  auto values = d.tuple(t->members, 0, std::string(what));
  if (!values) return values;
  auto done = d.finish(t->canonical());
  if (!done) return done.error();
  return values;
}

}  // namespace pg::chain
