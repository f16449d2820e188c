// http::parse_multipart (RFC 7578 / RFC 2046 §5.1): the bodies curl -F and fetch(FormData) send,
// and each malformed shape refused with its reason.
#include "http/multipart.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pg::http {
namespace {

const std::string kType = "multipart/form-data; boundary=----xyz";

std::string part(const std::string& name, const std::string& body,
                 const std::string& extra = "; filename=\"f\"") {
  std::string out = "------xyz\r\nContent-Disposition: form-data; name=\"";
  out += name;
  out += "\"";
  out += extra;
  out += "\r\nContent-Type: application/octet-stream\r\n\r\n";
  out += body;
  out += "\r\n";
  return out;
}

std::string why(const std::string& type, const std::string& body) {
  auto r = parse_multipart(type, body);
  if (r.index() == 0) return "parsed";
  return std::get<1>(r);
}

TEST(Multipart, ParsesPartsWithBinaryBodiesAndIgnoresPreambleAndEpilogue) {
  const std::string binary("a\0b\r\nc--", 8);
  std::string body = "preamble\r\n";
  body += part("manifest.json", "{}");
  body += part("circuit.zkey", binary);
  body += "------xyz--\r\nepilogue";
  auto r = parse_multipart(kType, body);
  ASSERT_EQ(r.index(), 0u) << std::get<1>(r);
  const auto& parts = std::get<0>(r);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].name, "manifest.json");
  EXPECT_EQ(parts[0].filename, "f");
  EXPECT_EQ(parts[0].content_type, "application/octet-stream");
  EXPECT_EQ(parts[0].body, "{}");
  EXPECT_EQ(parts[1].name, "circuit.zkey");
  EXPECT_EQ(std::string(parts[1].body), binary);
}

TEST(Multipart, EmptyPartBodyAndQuotedBoundary) {
  const std::string body = "--b 1\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--b 1--";
  auto r = parse_multipart("Multipart/Form-Data; boundary=\"b 1\"", body);
  ASSERT_EQ(r.index(), 0u) << std::get<1>(r);
  EXPECT_EQ(std::get<0>(r)[0].name, "x");
  EXPECT_EQ(std::get<0>(r)[0].body, "");
}

TEST(Multipart, RefusesContentTypesWithoutAUsableBoundary) {
  const std::string body = part("a", "1") + "------xyz--";
  EXPECT_NE(why("application/json", body).find("multipart/form-data"), std::string::npos);
  EXPECT_NE(why("multipart/form-data", body).find("no boundary"), std::string::npos);
  EXPECT_NE(why("multipart/form-data; charset=utf-8", body).find("no boundary"), std::string::npos);
  EXPECT_NE(why("multipart/form-data; boundary=", body).find("malformed"), std::string::npos);
  std::string long_boundary = "multipart/form-data; boundary=";
  long_boundary.append(71, 'a');
  EXPECT_NE(why(long_boundary, body).find("1 to 70"), std::string::npos);
  EXPECT_NE(why("multipart/form-data; boundary=\"a\\\"b\"", body).find("malformed"),
            std::string::npos);
}

TEST(Multipart, RefusesMalformedBodies) {
  EXPECT_NE(why(kType, "no boundary here").find("does not occur"), std::string::npos);
  EXPECT_NE(why(kType, part("a", "1")).find("closing delimiter"), std::string::npos);
  EXPECT_NE(why(kType, "------xyz--").find("no part"), std::string::npos);
  EXPECT_NE(why(kType, part("a", "1") + part("a", "2") + "------xyz--").find("two parts"),
            std::string::npos);
  EXPECT_NE(why(kType, "------xyz\r\nContent-Type: text/plain\r\n\r\nx\r\n------xyz--")
                .find("no Content-Disposition"),
            std::string::npos);
  EXPECT_NE(why(kType,
                "------xyz\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n"
                "------xyz--")
                .find("not form-data"),
            std::string::npos);
  EXPECT_NE(why(kType,
                "------xyz\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n"
                "------xyz--")
                .find("no name"),
            std::string::npos);
  EXPECT_NE(why(kType,
                "------xyz\r\nContent-Disposition: form-data; name=\"a\"\r\nbroken\r\n\r\n"
                "x\r\n------xyz--")
                .find("no name"),
            std::string::npos);
  EXPECT_NE(why(kType, "------xyzjunk\r\n").find("CRLF"), std::string::npos);
  EXPECT_NE(why(kType, "------xyz\r\nContent-Disposition: form-data; name=\"a\"").find("header"),
            std::string::npos);
  EXPECT_NE(why(kType,
                "------xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                "Content-Disposition: form-data; name=\"b\"\r\n\r\nx\r\n------xyz--")
                .find("two Content-Disposition"),
            std::string::npos);
  std::string long_header = "------xyz\r\nX: ";
  long_header.append(2000, 'a');
  long_header += "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n------xyz--";
  EXPECT_NE(why(kType, long_header).find("longer than 1024"), std::string::npos);
}

TEST(Multipart, RefusesMorePartsThanAllowed) {
  std::string body;
  for (const char* name : {"p0", "p1", "p2", "p3", "p4"}) body += part(name, "x");
  body += "------xyz--";
  EXPECT_EQ(parse_multipart(kType, body, 5).index(), 0u);
  auto r = parse_multipart(kType, body, 4);
  ASSERT_EQ(r.index(), 1u);
  EXPECT_NE(std::get<1>(r).find("more than 4 parts"), std::string::npos);
}

}  // namespace
}  // namespace pg::http
