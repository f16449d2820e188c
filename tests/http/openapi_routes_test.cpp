// docs/openapi.json, as embedded in the binary, against the route table (src/http/routes.hpp) and
// the error table of docs/api.md (read at test time); and the embedded /docs page and assets.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "http/embedded_assets.hpp"
#include "http/routes.hpp"

namespace {

namespace json = boost::json;

constexpr std::string_view kProblemRef = "#/components/schemas/Problem";
constexpr std::string_view kProblemJson = "application/problem+json";

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(PROOFGATE_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

json::value embedded_openapi() {
  const auto asset = pg::http::embedded_asset("/openapi.json");
  if (!asset) return nullptr;
  json::error_code ec;
  json::value doc = json::parse(asset->body, ec);
  if (ec) return nullptr;
  return doc;
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

/// Names in `a` that `b` lacks.
std::set<std::string> missing_from(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  for (const auto& n : a) {
    if (!b.contains(n)) out.insert(n);
  }
  return out;
}

/// The value a local reference ("#/components/...") names, or the value itself; nullptr when the
/// reference does not resolve.
const json::value* resolve(const json::value& doc, const json::value& v) {
  const json::object* o = v.if_object();
  if (o == nullptr || !o->contains("$ref")) return &v;
  const json::string* ref = o->at("$ref").if_string();
  if (ref == nullptr || !ref->starts_with("#")) return nullptr;
  json::error_code ec;
  return doc.find_pointer(std::string_view(*ref).substr(1), ec);
}

/// Whether a schema is the Problem schema by reference, directly or through allOf/oneOf/anyOf.
bool refers_to_problem(const json::value& schema) {
  const json::object* o = schema.if_object();
  if (o == nullptr) return false;
  if (const auto* ref = o->if_contains("$ref"))
    return ref->is_string() && ref->as_string() == kProblemRef;
  for (const char* key : {"allOf", "oneOf", "anyOf"}) {
    const auto* parts = o->if_contains(key);
    if (parts == nullptr || !parts->is_array()) continue;
    for (const auto& part : parts->as_array()) {
      if (refers_to_problem(part)) return true;
    }
  }
  return false;
}

/// The error codes a response schema narrows `error_code` to: every `error_code.enum` met in the
/// schema's own members and its allOf/oneOf/anyOf parts, following references other than Problem
/// itself (whose enum is every code).
void collect_narrowed_codes(const json::value& doc, const json::value& schema,
                            std::set<std::string>& out) {
  const json::object* o = schema.if_object();
  if (o == nullptr) return;
  if (const auto* ref = o->if_contains("$ref")) {
    if (ref->is_string() && ref->as_string() == kProblemRef) return;
    if (const json::value* target = resolve(doc, schema)) collect_narrowed_codes(doc, *target, out);
    return;
  }
  if (const auto* props = o->if_contains("properties"); props != nullptr && props->is_object()) {
    if (const auto* code = props->as_object().if_contains("error_code")) {
      if (const auto* e = code->is_object() ? code->as_object().if_contains("enum") : nullptr) {
        for (const auto& c : e->as_array()) out.insert(std::string(c.as_string()));
      }
    }
  }
  for (const char* key : {"allOf", "oneOf", "anyOf"}) {
    const auto* parts = o->if_contains(key);
    if (parts == nullptr || !parts->is_array()) continue;
    for (const auto& part : parts->as_array()) collect_narrowed_codes(doc, part, out);
  }
}

struct Operation {
  std::string name;  // "POST /api/v1/verify"
  const json::object* op;
};

std::vector<Operation> operations(const json::value& doc) {
  static const std::set<std::string_view> kMethods = {"get",     "put",  "post",  "delete",
                                                      "options", "head", "patch", "trace"};
  std::vector<Operation> out;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      if (!kMethods.contains(method)) continue;
      std::string upper(method);
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.push_back({upper + " " + std::string(path), &op.as_object()});
    }
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

/// docs/api.md's error table: code (the backticked first column) -> HTTP status (second column).
std::map<std::string, int> documented_error_codes(std::string* problem) {
  std::istringstream md(read_source_file("docs/api.md"));
  std::map<std::string, int> codes;
  std::string line;
  bool in_table = false;
  while (std::getline(md, line)) {
    if (!in_table) {
      in_table = line.starts_with("| error_code |");
      continue;
    }
    if (!line.starts_with("|")) break;
    if (line.starts_with("| ---")) continue;
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) cells.push_back(trim(cell));
    const auto open = cells.empty() ? std::string::npos : cells[0].find('`');
    const auto close = open == std::string::npos ? open : cells[0].find('`', open + 1);
    if (close == std::string::npos || cells.size() < 2) {
      *problem = "a row of the error table has no backticked code and status: " + line;
      return {};
    }
    const std::string code = cells[0].substr(open + 1, close - open - 1);
    if (codes.contains(code)) *problem = "docs/api.md lists " + code + " twice";
    codes[code] = std::stoi(cells[1]);
  }
  if (codes.empty() && problem->empty()) *problem = "no `| error_code |` table in docs/api.md";
  return codes;
}

TEST(OpenApi, embedded_document_is_openapi_3_1_0) {
  const json::value doc = embedded_openapi();
  ASSERT_TRUE(doc.is_object()) << "the embedded /openapi.json is missing or not JSON";
  ASSERT_TRUE(doc.as_object().contains("openapi"));
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
}

TEST(OpenApi, paths_describe_exactly_the_documented_routes) {
  const json::value doc = embedded_openapi();
  ASSERT_TRUE(doc.is_object());
  std::set<std::string> described;
  for (const auto& op : operations(doc)) described.insert(op.name);
  std::set<std::string> routed;
  for (const auto& route : pg::http::kRoutes) {
    if (route.documented) routed.insert(std::string(route.method) + " " + std::string(route.path));
  }
  EXPECT_EQ(missing_from(routed, described), std::set<std::string>{})
      << "routes in kRoutes that docs/openapi.json does not describe: "
      << joined(missing_from(routed, described));
  EXPECT_EQ(missing_from(described, routed), std::set<std::string>{})
      << "operations in docs/openapi.json that kRoutes does not route (or marks undocumented): "
      << joined(missing_from(described, routed));
}

TEST(OpenApi, every_operation_has_a_unique_id_and_a_problem_json_4xx) {
  const json::value doc = embedded_openapi();
  ASSERT_TRUE(doc.is_object());
  std::set<std::string> ids;
  for (const auto& [name, op] : operations(doc)) {
    const auto* id = op->if_contains("operationId");
    ASSERT_TRUE(id != nullptr && id->is_string() && !id->as_string().empty())
        << name << " has no operationId";
    EXPECT_TRUE(ids.insert(std::string(id->as_string())).second)
        << name << ": operationId " << id->as_string() << " is used twice";
    bool has_problem_4xx = false;
    for (const auto& [status, response_or_ref] : op->at("responses").as_object()) {
      if (!status.starts_with("4")) continue;
      const json::value* response = resolve(doc, response_or_ref);
      ASSERT_NE(response, nullptr) << name << " " << status << ": unresolved $ref";
      const auto* content = response->as_object().if_contains("content");
      const auto* media = content ? content->as_object().if_contains(kProblemJson) : nullptr;
      const auto* schema = media ? media->as_object().if_contains("schema") : nullptr;
      has_problem_4xx = has_problem_4xx || (schema != nullptr && refers_to_problem(*schema));
    }
    EXPECT_TRUE(has_problem_4xx) << name << " has no 4xx response whose " << kProblemJson
                                 << " schema refers to " << kProblemRef;
  }
}

TEST(OpenApi, error_code_enum_is_the_table_of_docs_api_md) {
  const json::value doc = embedded_openapi();
  ASSERT_TRUE(doc.is_object());
  std::string problem;
  const auto table = documented_error_codes(&problem);
  ASSERT_TRUE(problem.empty()) << problem;
  std::set<std::string> documented;
  for (const auto& [code, status] : table) documented.insert(code);

  json::error_code ec;
  const json::value* e =
      doc.find_pointer("/components/schemas/Problem/properties/error_code/enum", ec);
  ASSERT_TRUE(e != nullptr && e->is_array()) << "no Problem.error_code enum";
  std::set<std::string> listed;
  for (const auto& c : e->as_array()) {
    EXPECT_TRUE(listed.insert(std::string(c.as_string())).second) << c << " is listed twice";
  }
  EXPECT_EQ(missing_from(documented, listed), std::set<std::string>{})
      << "codes of docs/api.md missing from the enum: " << joined(missing_from(documented, listed));
  EXPECT_EQ(missing_from(listed, documented), std::set<std::string>{})
      << "codes in the enum that docs/api.md does not list: "
      << joined(missing_from(listed, documented));
}

TEST(OpenApi, problem_responses_name_only_codes_of_their_status) {
  const json::value doc = embedded_openapi();
  ASSERT_TRUE(doc.is_object());
  std::string problem;
  const auto table = documented_error_codes(&problem);
  ASSERT_TRUE(problem.empty()) << problem;
  for (const auto& [name, op] : operations(doc)) {
    for (const auto& [status, response_or_ref] : op->at("responses").as_object()) {
      if (status.size() != 3 || !std::isdigit(static_cast<unsigned char>(status[2]))) continue;
      const json::value* response = resolve(doc, response_or_ref);
      ASSERT_NE(response, nullptr) << name << " " << status << ": unresolved $ref";
      const auto* content = response->as_object().if_contains("content");
      const auto* media = content ? content->as_object().if_contains(kProblemJson) : nullptr;
      if (media == nullptr) continue;
      std::set<std::string> codes;
      collect_narrowed_codes(doc, media->as_object().at("schema"), codes);
      for (const auto& code : codes) {
        ASSERT_TRUE(table.contains(code)) << name << " " << status << ": unknown code " << code;
        EXPECT_EQ(std::to_string(table.at(code)), std::string(status))
            << name << " answers " << code << " under " << status << "; docs/api.md says "
            << table.at(code);
      }
    }
  }
}

TEST(EmbeddedAssets, docs_page_loads_the_bundle_and_the_init_script_that_loads_openapi_json) {
  const auto page = pg::http::embedded_asset("/docs");
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->content_type.starts_with("text/html"));
  EXPECT_NE(page->body.find("\"/docs/swagger-ui-bundle.js\""), std::string_view::npos);
  EXPECT_NE(page->body.find("\"/docs/swagger-ui.css\""), std::string_view::npos);
  EXPECT_NE(page->body.find("\"/docs/init.js\""), std::string_view::npos);
  // No inline script: a `default-src 'self'` policy must not block the page.
  for (auto at = page->body.find("<script"); at != std::string_view::npos;
       at = page->body.find("<script", at + 1)) {
    EXPECT_EQ(page->body.substr(at, 13), "<script src=\"") << "an inline <script> in the page";
  }
  const auto init = pg::http::embedded_asset("/docs/init.js");
  ASSERT_TRUE(init.has_value());
  EXPECT_TRUE(init->content_type.starts_with("text/javascript"));
  EXPECT_NE(init->body.find("'/openapi.json'"), std::string_view::npos);
  EXPECT_NE(init->body.find("SwaggerUIBundle("), std::string_view::npos);
}

TEST(EmbeddedAssets, console_page_loads_only_its_bundle_and_has_no_inline_script_or_style) {
  const auto page = pg::http::embedded_asset("/console");
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->content_type.starts_with("text/html"));
  EXPECT_TRUE(page->body == read_source_file("clients/console/index.html"));
  EXPECT_NE(page->body.find("src=\"/console/app.js\""), std::string_view::npos);
  EXPECT_NE(page->body.find("href=\"/console/app.css\""), std::string_view::npos);
  // The console's CSP has no 'unsafe-inline': an inline script, style element or style
  // attribute would be blocked.
  for (auto at = page->body.find("<script"); at != std::string_view::npos;
       at = page->body.find("<script", at + 1)) {
    EXPECT_TRUE(page->body.substr(at).starts_with("<script type=\"module\" src=\"/console/"))
        << "an inline <script> in the page";
  }
  EXPECT_EQ(page->body.find("<style"), std::string_view::npos);
  EXPECT_EQ(page->body.find("style=\""), std::string_view::npos);
  for (const std::string_view path : {"/console/app.js", "/console/app.css"}) {
    const auto asset = pg::http::embedded_asset(path);
    ASSERT_TRUE(asset.has_value()) << path;
    EXPECT_GT(asset->body.size(), 1000u) << path << " is not the bundle";
    EXPECT_EQ(asset->etag.size(), 32u) << path;
  }
  EXPECT_TRUE(
      pg::http::embedded_asset("/console/app.js")->content_type.starts_with("text/javascript"));
  EXPECT_FALSE(pg::http::embedded_asset("/console/index.html").has_value());
}

TEST(EmbeddedAssets, every_asset_is_its_source_file_with_its_own_etag) {
  const std::map<std::string, std::string> sources = {
      {"/openapi.json", "docs/openapi.json"},
      {"/docs", "src/http/docs_page.html"},
      {"/docs/init.js", "src/http/docs_init.js"},
      {"/docs/swagger-ui-bundle.js", "node_modules/swagger-ui-dist/swagger-ui-bundle.js"},
      {"/docs/swagger-ui.css", "node_modules/swagger-ui-dist/swagger-ui.css"},
  };
  std::set<std::string> etags;
  for (const auto& [path, source] : sources) {
    const auto asset = pg::http::embedded_asset(path);
    ASSERT_TRUE(asset.has_value()) << path;
    EXPECT_FALSE(asset->content_type.empty()) << path;
    const std::string file = read_source_file(source);
    ASSERT_FALSE(file.empty()) << source << " is missing or empty";
    EXPECT_TRUE(asset->body == file) << path << " is not the current " << source << " (embedded "
                                     << asset->body.size() << " bytes, file " << file.size() << ")";
    const std::string etag(asset->etag);
    // 32 hex digits, unquoted (the server adds the quotes of an entity tag).
    EXPECT_EQ(etag.size(), 32u) << path << ": " << etag;
    EXPECT_EQ(etag.find_first_not_of("0123456789abcdef"), std::string::npos)
        << path << ": " << etag;
    EXPECT_TRUE(etags.insert(etag).second) << path << " shares its ETag with another asset";
    EXPECT_EQ(pg::http::embedded_asset(path)->etag, asset->etag) << "the ETag must be stable";
  }
}

TEST(EmbeddedAssets, other_paths_have_no_asset) {
  for (const char* path :
       {"/nope", "", "/", "/docs/", "/DOCS", "/openapi.json/", "/docs/index.html",
        "/docs/swagger-initializer.js", "docs", "/docs/../openapi.json"}) {
    EXPECT_FALSE(pg::http::embedded_asset(path).has_value()) << path;
  }
}

TEST(RouteTable, every_partner_admin_and_token_route_is_throttled_and_no_other) {
  // The token endpoint authenticates a client secret: guessing it counts like guessing a key.
  for (const auto& r : pg::http::kRoutes)
    EXPECT_EQ(pg::http::throttled_route(r.id),
              r.path.starts_with("/api/") || r.path == "/oauth/token")
        << r.path;
}

}  // namespace
