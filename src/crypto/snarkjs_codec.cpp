// Strict snarkjs JSON decoding (see snarkjs_codec.hpp for the rules).
#include "crypto/snarkjs_codec.hpp"

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <set>
#include <vector>

namespace pg::crypto::snarkjs {

namespace json = boost::json;

namespace {

Error refuse(InputError code, std::string field, std::string message) {
  return Error{code, std::move(field), std::move(message)};
}

std::string at(const std::string& prefix, std::size_t i) {
  return prefix + "[" + std::to_string(i) + "]";
}

std::string member(const std::string& prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : prefix + "." + std::string(name);
}

/// The canonical decimal integer in `v`, below `modulus`.
Result<Limbs> decimal_below(const json::value& v, const std::string& field, const Limbs& modulus,
                            const char* bound_name) {
  if (!v.is_string()) {
    return refuse(InputError::kNotCanonical, field, "must be a decimal number in a JSON string");
  }
  const json::string& s = v.get_string();
  Limbs l{};
  if (!limbs_from_decimal(std::string_view(s.data(), s.size()), l)) {
    const bool digits_only =
        !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits_only && !(s.size() > 1 && s[0] == '0')) {
      return refuse(InputError::kOutOfRange, field, std::string("is not below ") + bound_name);
    }
    return refuse(InputError::kNotCanonical, field,
                  "is not a canonical decimal string (digits only, no sign, no leading zeros)");
  }
  if (compare_limbs(l, modulus) >= 0) {
    return refuse(InputError::kOutOfRange, field, std::string("is not below ") + bound_name);
  }
  return l;
}

Result<Fp> fp_from(const json::value& v, const std::string& field) {
  auto l = decimal_below(v, field, Fp::kModulus, "the field modulus p");
  if (!l) return l.error();
  return Fp::from_canonical(*l);
}

/// Exactly `n` elements, or a refusal naming the expected shape.
Result<const json::array*> array_of(const json::value& v, std::size_t n, const std::string& field,
                                    const char* shape) {
  if (!v.is_array() || v.get_array().size() != n) {
    return refuse(InputError::kWrongType, field, std::string("must be ") + shape);
  }
  return &v.get_array();
}

bool is_string_equal(const json::value& v, std::string_view s) {
  return v.is_string() && v.get_string() == s;
}

/// A G1 point [x, y, "1"], or the identity exactly as ["0", "1", "0"]; on the curve.
Result<G1Affine> g1_from(const json::value& v, const std::string& field) {
  auto arr = array_of(v, 3, field, "an array of 3 decimal strings [x, y, z]");
  if (!arr) return arr.error();
  const json::array& a = **arr;
  auto x = fp_from(a[0], at(field, 0));
  if (!x) return x.error();
  auto y = fp_from(a[1], at(field, 1));
  if (!y) return y.error();
  auto z = fp_from(a[2], at(field, 2));
  if (!z) return z.error();
  if (z->is_zero()) {
    if (x->is_zero() && *y == Fp::one()) return G1Affine::identity();
    return refuse(InputError::kNotOnCurve, field,
                  "has z = 0 but is not the point at infinity [\"0\", \"1\", \"0\"]");
  }
  if (!(*z == Fp::one())) {
    return refuse(InputError::kNotCanonical, at(field, 2), "must be \"1\" (affine coordinates)");
  }
  const G1Affine p = G1Affine::from_xy(*x, *y);
  if (!p.is_on_curve()) return refuse(InputError::kNotOnCurve, field, "is not on the curve");
  return p;
}

Result<Fp2> fp2_from(const json::value& v, const std::string& field) {
  auto arr = array_of(v, 2, field, "an array of 2 decimal strings [c0, c1]");
  if (!arr) return arr.error();
  auto c0 = fp_from((**arr)[0], at(field, 0));
  if (!c0) return c0.error();
  auto c1 = fp_from((**arr)[1], at(field, 1));
  if (!c1) return c1.error();
  return Fp2{*c0, *c1};
}

/// A G2 point [[x0, x1], [y0, y1], ["1", "0"]], or the identity exactly as
/// [["0", "0"], ["1", "0"], ["0", "0"]]; on the twist and in G2.
Result<G2Affine> g2_from(const json::value& v, const std::string& field) {
  auto arr = array_of(v, 3, field, "an array of 3 Fp2 pairs [x, y, z]");
  if (!arr) return arr.error();
  const json::array& a = **arr;
  auto x = fp2_from(a[0], at(field, 0));
  if (!x) return x.error();
  auto y = fp2_from(a[1], at(field, 1));
  if (!y) return y.error();
  auto z = fp2_from(a[2], at(field, 2));
  if (!z) return z.error();
  if (z->is_zero()) {
    if (x->is_zero() && *y == Fp2::one()) return G2Affine::identity();
    return refuse(InputError::kNotOnCurve, field,
                  "has z = 0 but is not the point at infinity [[\"0\",\"0\"],[\"1\",\"0\"],"
                  "[\"0\",\"0\"]]");
  }
  if (!(*z == Fp2::one())) {
    return refuse(InputError::kNotCanonical, at(field, 2),
                  "must be [\"1\", \"0\"] (affine coordinates)");
  }
  const G2Affine q = G2Affine::from_xy(*x, *y);
  if (!q.is_on_curve()) return refuse(InputError::kNotOnCurve, field, "is not on the twist curve");
  if (!g2_in_subgroup_vartime(q)) {
    return refuse(InputError::kNotInSubgroup, field, "is not in the order-r subgroup G2");
  }
  return q;
}

Result<const json::value*> required(const json::object& o, std::string_view name,
                                    const std::string& prefix) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return refuse(InputError::kMissingField, member(prefix, name), "is missing");
  return v;
}

/// "protocol" and "curve": must be groth16 / bn128 (snarkjs's name for BN254) when present, and
/// present when `mandatory`.
Result<bool> check_protocol_and_curve(const json::object& o, const std::string& prefix,
                                      bool mandatory) {
  const json::value* protocol = o.if_contains("protocol");
  if (protocol == nullptr && mandatory) {
    return refuse(InputError::kMissingField, member(prefix, "protocol"), "is missing");
  }
  if (protocol != nullptr && !is_string_equal(*protocol, "groth16")) {
    return refuse(InputError::kUnsupported, member(prefix, "protocol"), "must be \"groth16\"");
  }
  const json::value* curve = o.if_contains("curve");
  if (curve == nullptr && mandatory) {
    return refuse(InputError::kMissingField, member(prefix, "curve"), "is missing");
  }
  if (curve != nullptr && !is_string_equal(*curve, "bn128") && !is_string_equal(*curve, "bn254")) {
    return refuse(InputError::kUnsupported, member(prefix, "curve"),
                  "must be \"bn128\" (BN254, the only curve supported)");
  }
  return true;
}

Result<const json::object*> object_of(const json::value& v, const std::string& prefix) {
  if (!v.is_object()) {
    return refuse(InputError::kWrongType, prefix.empty() ? "document" : prefix,
                  "must be a JSON object");
  }
  return &v.get_object();
}

}  // namespace

namespace {

/// A SAX handler that only looks for a member named twice in one object (Boost.JSON's DOM keeps
/// the last one silently; JSON.parse does too). Its first duplicate key is kept for the error.
struct DuplicateKeyFinder {
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  std::vector<std::set<std::string>> objects;
  std::string key;
  std::string duplicate;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    objects.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    objects.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
    key.append(s.data(), s.size());
    if (!objects.back().insert(key).second) {
      duplicate = key;
      ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
      return false;
    }
    key.clear();
    return true;
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, boost::system::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, boost::system::error_code&) { return true; }
  bool on_double(double, json::string_view, boost::system::error_code&) { return true; }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }
};

}  // namespace

Result<json::value> parse_json(std::string_view text, const std::string& what) {
  json::parse_options opts;
  opts.max_depth = 32;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, json::storage_ptr(), opts);
  if (ec) {
    return refuse(InputError::kBadJson, what, "is not valid JSON (" + ec.message() + ")");
  }
  // The text is valid JSON; now refuse a member named twice in one object.
  json::basic_parser<DuplicateKeyFinder> dup(opts);
  boost::system::error_code dup_ec;
  dup.write_some(false, text.data(), text.size(), dup_ec);
  if (!dup.handler().duplicate.empty()) {
    return refuse(InputError::kBadJson, what,
                  "names the member \"" + dup.handler().duplicate + "\" twice in one object");
  }
  return v;
}

Result<Fr> fr_from_decimal(const json::value& v, const std::string& field) {
  auto l = decimal_below(v, field, Fr::kModulus, "the group order r");
  if (!l) return l.error();
  return Fr::from_canonical(*l);
}

Result<VerifyingKey> verifying_key_from_json(const json::value& v, const std::string& prefix) {
  auto obj = object_of(v, prefix);
  if (!obj) return obj.error();
  const json::object& o = **obj;
  if (auto r = check_protocol_and_curve(o, prefix, true); !r) return r.error();
  VerifyingKey vk;
  auto alpha = required(o, "vk_alpha_1", prefix);
  if (!alpha) return alpha.error();
  auto a = g1_from(**alpha, member(prefix, "vk_alpha_1"));
  if (!a) return a.error();
  vk.alpha = *a;
  const std::pair<const char*, G2Affine*> g2_fields[] = {
      {"vk_beta_2", &vk.beta}, {"vk_gamma_2", &vk.gamma}, {"vk_delta_2", &vk.delta}};
  for (const auto& [name, out] : g2_fields) {
    auto f = required(o, name, prefix);
    if (!f) return f.error();
    auto q = g2_from(**f, member(prefix, name));
    if (!q) return q.error();
    *out = *q;
  }
  auto n_public = required(o, "nPublic", prefix);
  if (!n_public) return n_public.error();
  if (!(*n_public)->is_int64() || (*n_public)->get_int64() < 0 ||
      (*n_public)->get_int64() > static_cast<std::int64_t>(kMaxPublicSignals)) {
    return refuse(InputError::kWrongType, member(prefix, "nPublic"),
                  "must be an integer from 0 to " + std::to_string(kMaxPublicSignals));
  }
  auto ic = required(o, "IC", prefix);
  if (!ic) return ic.error();
  const std::string ic_field = member(prefix, "IC");
  if (!(*ic)->is_array()) {
    return refuse(InputError::kWrongType, ic_field, "must be an array of G1 points");
  }
  const json::array& ic_arr = (*ic)->get_array();
  const auto expected = static_cast<std::size_t>((*n_public)->get_int64()) + 1;
  if (ic_arr.size() != expected) {
    return refuse(InputError::kWrongCount, ic_field,
                  "holds " + std::to_string(ic_arr.size()) +
                      " points but nPublic + 1 = " + std::to_string(expected));
  }
  vk.ic.reserve(ic_arr.size());
  for (std::size_t i = 0; i < ic_arr.size(); ++i) {
    auto p = g1_from(ic_arr[i], at(ic_field, i));
    if (!p) return p.error();
    vk.ic.push_back(*p);
  }
  return vk;
}

Result<Proof> proof_from_json(const json::value& v, const std::string& prefix) {
  auto obj = object_of(v, prefix);
  if (!obj) return obj.error();
  const json::object& o = **obj;
  if (auto r = check_protocol_and_curve(o, prefix, false); !r) return r.error();
  auto a = required(o, "pi_a", prefix);
  if (!a) return a.error();
  auto pa = g1_from(**a, member(prefix, "pi_a"));
  if (!pa) return pa.error();
  auto b = required(o, "pi_b", prefix);
  if (!b) return b.error();
  auto pb = g2_from(**b, member(prefix, "pi_b"));
  if (!pb) return pb.error();
  auto c = required(o, "pi_c", prefix);
  if (!c) return c.error();
  auto pc = g1_from(**c, member(prefix, "pi_c"));
  if (!pc) return pc.error();
  // g1_from and g2_from checked the curves and the subgroup; what remains is the identity,
  // which no honest prover produces.
  const std::pair<const char*, bool> identity[] = {
      {"pi_a", pa->infinity}, {"pi_b", pb->infinity}, {"pi_c", pc->infinity}};
  for (const auto& [name, is_identity] : identity) {
    if (is_identity) {
      return refuse(InputError::kIdentity, member(prefix, name), "is the point at infinity");
    }
  }
  return Proof{*pa, *pb, *pc};
}

Result<std::vector<Fr>> public_signals_from_json(const json::value& v, const std::string& prefix) {
  if (!v.is_array()) {
    return refuse(InputError::kWrongType, prefix, "must be an array of decimal strings");
  }
  const json::array& arr = v.get_array();
  std::vector<Fr> out;
  out.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    auto s = fr_from_decimal(arr[i], at(prefix, i));
    if (!s) return s.error();
    out.push_back(*s);
  }
  return out;
}

Result<VerifyingKey> decode_verifying_key(std::string_view text) {
  auto v = parse_json(text, "vkey");
  if (!v) return v.error();
  return verifying_key_from_json(*v, "vkey");
}

Result<Proof> decode_proof(std::string_view text) {
  auto v = parse_json(text, "proof");
  if (!v) return v.error();
  return proof_from_json(*v, "proof");
}

Result<std::vector<Fr>> decode_public_signals(std::string_view text) {
  auto v = parse_json(text, "public");
  if (!v) return v.error();
  return public_signals_from_json(*v, "public");
}

Result<std::shared_ptr<const PreparedVerifyingKey>> load_verifying_key(std::string_view text) {
  auto vk = decode_verifying_key(text);
  if (!vk) return vk.error();
  auto prepared = PreparedVerifyingKey::prepare(*vk);
  if (!prepared) {
    Error e = prepared.error();
    e.field = member("vkey", e.field);
    return e;
  }
  return prepared;
}

std::string to_decimal(const Limbs& value) {
  Limbs v = value;
  std::string out;
  do {
    u128 rem = 0;
    for (int i = 3; i >= 0; --i) {
      const u128 cur = (rem << 64) | v[i];
      v[i] = static_cast<std::uint64_t>(cur / 10);
      rem = cur % 10;
    }
    out.push_back(static_cast<char>('0' + static_cast<int>(rem)));
  } while (!is_zero_limbs(v));
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace pg::crypto::snarkjs
