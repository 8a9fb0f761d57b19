// The console's static files: gzip when Accept-Encoding admits it, entity
// tags and If-None-Match -> 304, the plain bytes otherwise.

#include "static_assets.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sipsite::webadmin {
namespace {

Request get(std::string target, std::string accept_encoding = {}, std::string if_none_match = {}) {
  Request req{http::verb::get, target, 11};
  if (!accept_encoding.empty()) req.set(http::field::accept_encoding, accept_encoding);
  if (!if_none_match.empty()) req.set(http::field::if_none_match, if_none_match);
  return req;
}

bool is_gzip(std::string_view bytes) { return bytes.size() > 18 && bytes.substr(0, 2) == "\x1f\x8b"; }

TEST(AcceptsGzip, NamedOrWildcardWithAPositiveQValue) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, GZip;q=0.5"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("identity, *;q=0.1"));
  EXPECT_TRUE(accepts_gzip("gzip ; q=0.001"));
  EXPECT_TRUE(accepts_gzip("gzip;q=1"));
}

TEST(AcceptsGzip, AbsentRefusedOrMalformedMeansPlain) {
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("deflate, br"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0, *"));  // named beats the wildcard
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=abc"));
  EXPECT_FALSE(accepts_gzip("gzip;q=1.5"));
  EXPECT_FALSE(accepts_gzip("gzipx"));
  EXPECT_FALSE(accepts_gzip(",,;;=,"));
}

TEST(EtagMatches, WeakComparisonOverAList) {
  EXPECT_TRUE(etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"x\", W/\"y\" ,\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches(" * ", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"a,b\"", "\"a,b\""));
  EXPECT_FALSE(etag_matches("\"abcd\"", "\"abc\""));
  EXPECT_FALSE(etag_matches("abc", "\"abc\""));
  EXPECT_FALSE(etag_matches("\"abc", "\"abc\""));
  EXPECT_FALSE(etag_matches("", "\"abc\""));
  EXPECT_FALSE(etag_matches("bad, \"abc\"", "\"abc\""));  // malformed from the first member on
}

TEST(StaticAssets, EveryUiFileIsEmbeddedWithASmallerGzipTwin) {
  for (const char* name : {"index.html", "app.js", "style.css", "openapi.json"}) {
    const StaticAsset* a = find_static_asset(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_FALSE(a->plain.empty()) << name;
    EXPECT_TRUE(is_gzip(a->gzip)) << name;
    EXPECT_LT(a->gzip.size(), a->plain.size()) << name;
    EXPECT_NE(a->etag, a->etag_gzip);
  }
  EXPECT_EQ(find_static_asset("app.js.gz"), nullptr);  // a twin is not a file of its own
  EXPECT_EQ(find_static_asset("nope"), nullptr);
}

TEST(StaticAssets, GzipWhenAcceptedWithVaryAndItsOwnEtag) {
  const StaticAsset& a = *find_static_asset("app.js");
  const Response gz = static_response(get("/app.js", "gzip, deflate"), a, "text/javascript");
  EXPECT_EQ(gz.result(), http::status::ok);
  EXPECT_EQ(gz[http::field::content_encoding], "gzip");
  EXPECT_EQ(gz[http::field::vary], "Accept-Encoding");
  EXPECT_EQ(gz[http::field::etag], a.etag_gzip);
  EXPECT_EQ(gz[http::field::content_type], "text/javascript");
  EXPECT_EQ(gz.body(), a.gzip);

  const Response plain = static_response(get("/app.js", "br"), a, "text/javascript");
  EXPECT_EQ(plain.result(), http::status::ok);
  EXPECT_EQ(plain.find(http::field::content_encoding), plain.end());
  EXPECT_EQ(plain[http::field::vary], "Accept-Encoding");
  EXPECT_EQ(plain[http::field::etag], a.etag);
  EXPECT_EQ(plain.body(), a.plain);
  EXPECT_EQ(static_response(get("/app.js"), a, "text/javascript").body(), a.plain);
}

TEST(StaticAssets, IfNoneMatchGives304WithoutBodyForTheSameRepresentationOnly) {
  const StaticAsset& a = *find_static_asset("style.css");
  const Response hit = static_response(get("/style.css", "gzip", a.etag_gzip), a, "text/css");
  EXPECT_EQ(hit.result(), http::status::not_modified);
  EXPECT_TRUE(hit.body().empty());
  EXPECT_EQ(hit[http::field::etag], a.etag_gzip);
  EXPECT_EQ(hit[http::field::vary], "Accept-Encoding");
  EXPECT_EQ(hit[http::field::cache_control], "no-cache");

  EXPECT_EQ(static_response(get("/style.css", "", a.etag), a, "text/css").result(), http::status::not_modified);
  EXPECT_EQ(static_response(get("/style.css", "", "W/" + a.etag), a, "text/css").result(), http::status::not_modified);
  // The plain tag does not stand for the gzip bytes, nor the reverse.
  EXPECT_EQ(static_response(get("/style.css", "gzip", a.etag), a, "text/css").result(), http::status::ok);
  EXPECT_EQ(static_response(get("/style.css", "", a.etag_gzip), a, "text/css").result(), http::status::ok);
  EXPECT_EQ(static_response(get("/style.css", "", "\"stale\""), a, "text/css").result(), http::status::ok);
}

TEST(StaticAssets, ACompressedFormNoSmallerThanThePlainIsNotUsed) {
  const StaticAsset a = make_static_asset("tiny", "\x1f\x8b-longer-than-tiny");
  EXPECT_TRUE(a.gzip.empty());
  const Response r = static_response(get("/x", "gzip"), a, "text/plain");
  EXPECT_EQ(r.body(), "tiny");
  EXPECT_EQ(r.find(http::field::content_encoding), r.end());
  EXPECT_EQ(r[http::field::etag], a.etag);
}

}  // namespace
}  // namespace sipsite::webadmin
