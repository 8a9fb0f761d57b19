#pragma once
// A route table: method + path pattern -> handler. Patterns are literal
// segments and "{name}" parameters ("/api/v1/peers/{fingerprint}/trust");
// parameters are percent-decoded. A path that matches with another method is
// 405 (with the allowed methods), one that matches nothing is 404.

#include <sipsite/webadmin/http.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::webadmin {

using RouteParams = std::map<std::string, std::string, std::less<>>;

template <class Handler>
class Router {
 public:
  struct Route {
    http::verb method;
    std::string pattern;
    Handler handler;
  };

  struct Match {
    enum class Kind { found, not_found, method_not_allowed, bad_path } kind = Kind::not_found;
    const Route* route = nullptr;
    RouteParams params;
    std::vector<http::verb> allowed;  // for method_not_allowed
  };

  void add(http::verb method, std::string pattern, Handler handler) {
    routes_.push_back(Route{method, std::move(pattern), std::move(handler)});
  }

  const std::vector<Route>& routes() const { return routes_; }

  // `path` still percent-encoded (as in the request target, without query).
  Match match(http::verb method, std::string_view path) const {
    Match m;
    const auto segments = split(path);
    for (const Route& r : routes_) {
      RouteParams params;
      bool bad = false;
      if (!matches(r.pattern, segments, params, bad)) {
        if (bad) m.kind = Match::Kind::bad_path;
        continue;
      }
      if (r.method == method) {
        m.kind = Match::Kind::found;
        m.route = &r;
        m.params = std::move(params);
        return m;
      }
      m.allowed.push_back(r.method);
    }
    if (!m.allowed.empty()) m.kind = Match::Kind::method_not_allowed;
    return m;
  }

 private:
  static std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.starts_with('/')) path.remove_prefix(1);
    while (true) {
      const auto slash = path.find('/');
      out.push_back(path.substr(0, slash));
      if (slash == std::string_view::npos) break;
      path.remove_prefix(slash + 1);
    }
    return out;
  }

  static bool matches(std::string_view pattern, const std::vector<std::string_view>& segments, RouteParams& params,
                      bool& bad) {
    const auto parts = split(pattern);
    if (parts.size() != segments.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const std::string_view p = parts[i];
      if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
        if (segments[i].empty()) return false;
        auto value = percent_decode(segments[i]);
        if (!value) {
          bad = true;
          return false;
        }
        params.emplace(std::string(p.substr(1, p.size() - 2)), std::move(*value));
      } else if (p != segments[i]) {
        return false;
      }
    }
    return true;
  }

  std::vector<Route> routes_;
};

}  // namespace sipsite::webadmin
