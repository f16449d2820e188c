// Embeds the docs and console assets (the verifier's and the issuer node's) into the binary with
// the GNU assembler's .incbin (g++ and clang alike), from the absolute paths CMake passes as
// PROOFGATE_* definitions (src/http/CMakeLists.txt, which also makes an edit of any embedded file
// rebuild this object).
#include "http/embedded_assets.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>

// Each blob: a global start symbol (16-byte aligned) and, after it, a global 8-byte size, both in
// .rodata. .pushsection/.popsection leave the section the compiler believes it is in untouched.
// `%object` rather than `@object`: `@` starts a comment in the ARM assembler.
// clang-format off
#define PG_EMBED(sym, file)                                                              \
  ".balign 16\n"                                                                          \
  ".global " #sym "\n"                                                                    \
  ".type " #sym ", %object\n"                                                             \
  #sym ":\n"                                                                              \
  ".incbin \"" file "\"\n"                                                                 \
  ".L" #sym "_end:\n"                                                                     \
  ".size " #sym ", .L" #sym "_end - " #sym "\n"                                           \
  ".balign 8\n"                                                                           \
  ".global " #sym "_size\n"                                                               \
  ".type " #sym "_size, %object\n"                                                        \
  #sym "_size:\n"                                                                         \
  ".quad .L" #sym "_end - " #sym "\n"                                                     \
  ".size " #sym "_size, 8\n"
__asm__(
    ".pushsection .rodata\n"
    PG_EMBED(pg_asset_openapi_json, PROOFGATE_OPENAPI_JSON)
    PG_EMBED(pg_asset_docs_page_html, PROOFGATE_DOCS_PAGE_HTML)
    PG_EMBED(pg_asset_docs_init_js, PROOFGATE_DOCS_INIT_JS)
    PG_EMBED(pg_asset_swagger_ui_bundle_js, PROOFGATE_SWAGGER_UI_BUNDLE_JS)
    PG_EMBED(pg_asset_swagger_ui_css, PROOFGATE_SWAGGER_UI_CSS)
    PG_EMBED(pg_asset_console_html, PROOFGATE_CONSOLE_HTML)
    PG_EMBED(pg_asset_console_js, PROOFGATE_CONSOLE_JS)
    PG_EMBED(pg_asset_console_css, PROOFGATE_CONSOLE_CSS)
    PG_EMBED(pg_asset_issuer_console_html, PROOFGATE_ISSUER_CONSOLE_HTML)
    PG_EMBED(pg_asset_issuer_console_js, PROOFGATE_ISSUER_CONSOLE_JS)
    PG_EMBED(pg_asset_issuer_console_css, PROOFGATE_ISSUER_CONSOLE_CSS)
    ".popsection\n");
#undef PG_EMBED
// clang-format on

extern "C" {
extern const char pg_asset_openapi_json[];
extern const std::uint64_t pg_asset_openapi_json_size;
extern const char pg_asset_docs_page_html[];
extern const std::uint64_t pg_asset_docs_page_html_size;
extern const char pg_asset_docs_init_js[];
extern const std::uint64_t pg_asset_docs_init_js_size;
extern const char pg_asset_swagger_ui_bundle_js[];
extern const std::uint64_t pg_asset_swagger_ui_bundle_js_size;
extern const char pg_asset_swagger_ui_css[];
extern const std::uint64_t pg_asset_swagger_ui_css_size;
extern const char pg_asset_console_html[];
extern const std::uint64_t pg_asset_console_html_size;
extern const char pg_asset_console_js[];
extern const std::uint64_t pg_asset_console_js_size;
extern const char pg_asset_console_css[];
extern const std::uint64_t pg_asset_console_css_size;
extern const char pg_asset_issuer_console_html[];
extern const std::uint64_t pg_asset_issuer_console_html_size;
extern const char pg_asset_issuer_console_js[];
extern const std::uint64_t pg_asset_issuer_console_js_size;
extern const char pg_asset_issuer_console_css[];
extern const std::uint64_t pg_asset_issuer_console_css_size;
}

namespace pg::http {

namespace {

struct Entry {
  std::string_view path;
  std::string_view content_type;
  const char* data;
  const std::uint64_t* size;
};

constexpr std::array kEntries{
    Entry{"/openapi.json", "application/json", pg_asset_openapi_json, &pg_asset_openapi_json_size},
    Entry{"/docs", "text/html; charset=utf-8", pg_asset_docs_page_html,
          &pg_asset_docs_page_html_size},
    Entry{"/docs/init.js", "text/javascript; charset=utf-8", pg_asset_docs_init_js,
          &pg_asset_docs_init_js_size},
    Entry{"/docs/swagger-ui-bundle.js", "text/javascript; charset=utf-8",
          pg_asset_swagger_ui_bundle_js, &pg_asset_swagger_ui_bundle_js_size},
    Entry{"/docs/swagger-ui.css", "text/css; charset=utf-8", pg_asset_swagger_ui_css,
          &pg_asset_swagger_ui_css_size},
    Entry{"/console", "text/html; charset=utf-8", pg_asset_console_html,
          &pg_asset_console_html_size},
    Entry{"/console/app.js", "text/javascript; charset=utf-8", pg_asset_console_js,
          &pg_asset_console_js_size},
    Entry{"/console/app.css", "text/css; charset=utf-8", pg_asset_console_css,
          &pg_asset_console_css_size},
    Entry{"/issuer/console", "text/html; charset=utf-8", pg_asset_issuer_console_html,
          &pg_asset_issuer_console_html_size},
    Entry{"/issuer/console/app.js", "text/javascript; charset=utf-8", pg_asset_issuer_console_js,
          &pg_asset_issuer_console_js_size},
    Entry{"/issuer/console/app.css", "text/css; charset=utf-8", pg_asset_issuer_console_css,
          &pg_asset_issuer_console_css_size},
};

std::string_view body_of(const Entry& e) noexcept {
  return {e.data, static_cast<std::size_t>(*e.size)};
}

// 128 bits of SHA-256 tell versions of a file apart far beyond any collision risk. Unquoted hex:
// the server writes the quotes of an entity tag (RFC 9110 §8.8.3).
constexpr std::size_t kEtagDigestBytes = 16;

struct Etag {
  std::array<char, 2 * kEtagDigestBytes> text{};
  std::size_t size = 0;  // 0 when hashing failed
};

Etag etag_of(std::string_view body) noexcept {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  Etag etag;
  if (EVP_Digest(body.data(), body.size(), digest.data(), &digest_size, EVP_sha256(), nullptr) !=
          1 ||
      digest_size < kEtagDigestBytes) {
    return etag;
  }
  constexpr std::string_view kHex = "0123456789abcdef";
  for (std::size_t i = 0; i < kEtagDigestBytes; ++i) {
    etag.text[2 * i] = kHex[digest[i] >> 4];
    etag.text[2 * i + 1] = kHex[digest[i] & 0x0f];
  }
  etag.size = etag.text.size();
  return etag;
}

// Hashed on first use (about 2 MB, a few milliseconds) rather than at start-up; a function-local
// static is initialised exactly once even when threads race to it.
const std::array<Etag, kEntries.size()>& etags() noexcept {
  static const std::array<Etag, kEntries.size()> computed = [] {
    std::array<Etag, kEntries.size()> out;
    for (std::size_t i = 0; i < kEntries.size(); ++i) out[i] = etag_of(body_of(kEntries[i]));
    return out;
  }();
  return computed;
}

}  // namespace

std::optional<Asset> embedded_asset(std::string_view path) noexcept {
  for (std::size_t i = 0; i < kEntries.size(); ++i) {
    if (kEntries[i].path != path) continue;
    const Etag& etag = etags()[i];
    return Asset{kEntries[i].content_type, body_of(kEntries[i]),
                 std::string_view(etag.text.data(), etag.size)};
  }
  return std::nullopt;
}

}  // namespace pg::http
