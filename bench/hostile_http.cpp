// Hostile HTTP client for `divrec serve` (loopback only, bounded in requests and time): good
// keep-alive clients measure latency alone (quiet), then again while attackers send malformed
// JSON, wrong types, huge k, oversized bodies, unknown items, truncated requests, silent
// connections, requests closed midway and non-HTTP bytes. Raw sockets, so each misbehaviour is
// exactly what is sent. Prints one JSON line: quiet/attack p50/p99 of the good requests, their
// ratio, answers per attack kind, the server's RSS before/after (--server-pid) and whether it
// still answers. bench/hostile_http.sh starts a server on a small artifact and runs this.
//   hostile_http --port P [--server-pid PID] [--requests 100000] [--quiet-requests 4000]
//                [--good 2] [--attackers 6] [--silent-ms 3000] [--max-silent 8]
//                [--max-seconds 300] [--items N]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Args {
  int port = 0;
  int server_pid = 0;
  int64_t requests = 100000;      // good + attack requests in all (quiet phase included)
  int64_t quiet_requests = 4000;  // good requests measured before the attack
  int good = 2;                   // good keep-alive connections
  int attackers = 6;              // attacking threads (one misbehaving connection each)
  int silent_ms = 3000;           // how long a silent client waits for the server to drop it
  int max_silent = 8;             // silent / truncated connections held at once
  double max_seconds = 300;
  int items = 100;  // good histories use raw ids 1..items
};

// The attacks, in the order the attackers cycle through them.
const char* const kKinds[] = {"malformed_json", "wrong_types",       "huge_k",
                              "oversized_body", "unknown_items",     "truncated_then_silent",
                              "silent",         "close_mid_request", "not_http"};
constexpr int kNumKinds = sizeof(kKinds) / sizeof(kKinds[0]);

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{10, 0};  // never hang on a broken server
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// One response: status (-1 when the connection closed or timed out first) and whether the
// server announced it closes the connection.
struct Response {
  int status = -1;
  bool close = false;
};

Response read_response(int fd) {
  std::string buf;
  char tmp[8192];
  size_t header_end = std::string::npos;
  while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return {};
    buf.append(tmp, static_cast<size_t>(n));
  }
  Response r;
  if (buf.compare(0, 9, "HTTP/1.1 ") != 0) return {};
  r.status = std::atoi(buf.c_str() + 9);
  std::string headers = buf.substr(0, header_end);
  std::transform(headers.begin(), headers.end(), headers.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  r.close = headers.find("connection: close") != std::string::npos;
  size_t length = 0;
  if (auto p = headers.find("content-length:"); p != std::string::npos) {
    length = static_cast<size_t>(std::atoll(headers.c_str() + p + 15));
  }
  size_t have = buf.size() - header_end - 4;
  while (have < length) {
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return {};
    have += static_cast<size_t>(n);
  }
  return r;
}

std::string post(const std::string& body, const std::string& extra_headers = "") {
  return "POST /v1/recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Silent connections (and truncated requests) are parked here, at most --max-silent at a time,
// so an attacker thread opens the next one at once; a watcher notes when the server drops each
// one (its read timeout) and closes those it keeps past --silent-ms.
struct SilentPool {
  std::mutex m;
  std::vector<std::pair<int, Clock::time_point>> fds;
  int max = 8;
  int64_t dropped_by_server = 0, held_to_limit = 0, skipped_full = 0;
  double dropped_ms_sum = 0;

  bool park(int fd) {
    std::lock_guard<std::mutex> l(m);
    if (static_cast<int>(fds.size()) >= max) {
      ++skipped_full;
      return false;
    }
    fds.emplace_back(fd, Clock::now());
    return true;
  }
  // One pass of the watcher; all = close everything (end of the run).
  void sweep(int silent_ms, bool all) {
    std::lock_guard<std::mutex> l(m);
    char tmp[4096];
    for (size_t i = 0; i < fds.size();) {
      auto [fd, since] = fds[i];
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - since).count();
      ssize_t n;
      while ((n = ::recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT)) > 0) {
      }
      const bool closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
      if (closed || ms > silent_ms || all) {
        if (closed) {
          ++dropped_by_server;
          dropped_ms_sum += ms;
        } else {
          ++held_to_limit;
        }
        ::close(fd);
        fds[i] = fds.back();
        fds.pop_back();
      } else {
        ++i;
      }
    }
  }
};

// One attack on a fresh connection; returns the HTTP status (-1 none: dropped, closed by us or
// parked silent; -2 connect failed).
int attack(int kind, const Args& args, std::mt19937& rng, SilentPool* pool) {
  int fd = connect_loopback(args.port);
  if (fd < 0) return -2;
  Response r;
  switch (kind) {
    case 0:  // malformed JSON
      send_all(fd, post("{\"history\": [1, 2, \"k\": }"));
      r = read_response(fd);
      break;
    case 1:  // wrong types
      send_all(fd, post("{\"history\": \"12\", \"k\": \"ten\", \"rerank\": [1]}"));
      r = read_response(fd);
      break;
    case 2:  // huge k (and a huge candidate count)
      send_all(fd, post("{\"history\": [\"1\"], \"k\": 1000000000000, \"candidates\": 1e300}"));
      r = read_response(fd);
      break;
    case 3: {  // oversized body: 1 MiB, 16x the default --max-body-bytes, sent in full
      std::string head =
          "POST /v1/recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          "Content-Length: 1048576\r\n\r\n";
      send_all(fd, head + std::string(1 << 20, '1'));
      r = read_response(fd);
      break;
    }
    case 4: {  // unknown items: a valid request the catalog cannot resolve
      std::string h;
      for (int i = 0; i < 50; ++i)
        h += (i ? ",\"" : "\"") + std::string("no-such-item-") + std::to_string(rng() % 100000) +
             "\"";
      send_all(fd, post("{\"history\": [" + h + "], \"k\": 10}"));
      r = read_response(fd);
      break;
    }
    case 5:  // truncated: half a request, then silence until the server gives up
      send_all(fd,
               "POST /v1/recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 40\r\n\r\n"
               "{\"history\": [1");
      if (pool->park(fd)) return -1;
      break;
    case 6:  // connects and never sends a byte
      if (pool->park(fd)) return -1;
      break;
    case 7:  // closes mid-request
      send_all(fd,
               "POST /v1/recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n"
               "{\"history\": [\"1\", \"2\"");
      break;
    case 8: {  // bytes that are not HTTP
      std::string junk(512, '\0');
      for (auto& c : junk) c = static_cast<char>(rng());
      send_all(fd, junk + "\r\n\r\n");
      r = read_response(fd);
      break;
    }
  }
  ::close(fd);
  return r.status;
}

// Good keep-alive requests until `stop`; latencies in ms appended to lat.
void good_client(const Args& args, int id, const std::atomic<bool>& stop,
                 std::atomic<int64_t>* budget, std::vector<double>* lat,
                 std::atomic<int64_t>* failed) {
  std::mt19937 rng(static_cast<uint32_t>(id) * 7919u + 1);
  int fd = -1;
  while (!stop && (*budget)-- > 0) {
    std::string h;
    const int n = 3 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      h += (i ? "," : "") + std::to_string(1 + static_cast<int>(rng() % args.items));
    }
    const std::string req = post("{\"history\": [" + h + "], \"k\": 10}");
    auto t0 = Clock::now();
    Response r;
    for (int attempt = 0; attempt < 2 && r.status < 0; ++attempt) {
      if (fd < 0) fd = connect_loopback(args.port);
      if (fd >= 0 && send_all(fd, req)) r = read_response(fd);
      if (r.status < 0 || r.close) {  // keep-alive limit reached or dropped: reconnect
        if (fd >= 0) ::close(fd);
        fd = -1;
      }
    }
    lat->push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (r.status != 200) ++*failed;
  }
  if (fd >= 0) ::close(fd);
}

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

int64_t proc_status_kb(int pid, const std::string& key) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::atoll(line.c_str() + key.size() + 1);
  }
  return -1;
}

int healthz(int port) {
  int fd = connect_loopback(port);
  if (fd < 0) return -2;
  send_all(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  int s = read_response(fd).status;
  ::close(fd);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--port")
      a.port = std::stoi(v);
    else if (k == "--server-pid")
      a.server_pid = std::stoi(v);
    else if (k == "--requests")
      a.requests = std::stoll(v);
    else if (k == "--quiet-requests")
      a.quiet_requests = std::stoll(v);
    else if (k == "--good")
      a.good = std::stoi(v);
    else if (k == "--attackers")
      a.attackers = std::stoi(v);
    else if (k == "--silent-ms")
      a.silent_ms = std::stoi(v);
    else if (k == "--max-silent")
      a.max_silent = std::stoi(v);
    else if (k == "--max-seconds")
      a.max_seconds = std::stod(v);
    else if (k == "--items")
      a.items = std::stoi(v);
    else {
      std::cerr << "hostile_http: unknown option " << k << "\n";
      return 2;
    }
  }
  if (a.port <= 0) {
    std::cerr << "hostile_http: --port is required (a divrec serve on 127.0.0.1)\n";
    return 2;
  }
  const int64_t rss_before = proc_status_kb(a.server_pid, "VmRSS");

  // Quiet: the good clients alone.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> quiet_budget{a.quiet_requests}, quiet_failed{0};
  std::vector<std::vector<double>> quiet(a.good);
  {
    std::vector<std::thread> t;
    for (int g = 0; g < a.good; ++g) {
      t.emplace_back(good_client, std::cref(a), g, std::cref(stop), &quiet_budget, &quiet[g],
                     &quiet_failed);
    }
    for (auto& x : t) x.join();
  }

  // Attack: attackers and good clients together until the request budget or time runs out.
  std::atomic<int64_t> remaining{a.requests - a.quiet_requests}, good_budget{INT64_MAX};
  std::atomic<int64_t> attack_failed{0};
  SilentPool pool;
  pool.max = a.max_silent;
  std::atomic<bool> attack_done{false};
  std::thread watcher([&] {
    while (!attack_done) {
      pool.sweep(a.silent_ms, false);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pool.sweep(a.silent_ms, true);
  });
  std::vector<std::vector<double>> during(a.good);
  std::vector<std::vector<int64_t>> by_kind(kNumKinds, std::vector<int64_t>(5, 0));
  std::mutex kind_mutex;
  auto t0 = Clock::now();
  std::vector<std::thread> attackers, goods;
  for (int g = 0; g < a.good; ++g) {
    goods.emplace_back(good_client, std::cref(a), 100 + g, std::cref(stop), &good_budget,
                       &during[g], &attack_failed);
  }
  for (int t = 0; t < a.attackers; ++t) {
    attackers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t) + 17u);
      for (int64_t i = t; remaining-- > 0; ++i) {  // every attacker cycles through every kind
        if (std::chrono::duration<double>(Clock::now() - t0).count() > a.max_seconds) break;
        const int kind = static_cast<int>(i % kNumKinds);
        const int s = attack(kind, a, rng, &pool);
        // Columns: 2xx, 4xx, 5xx, no status (dropped / not awaited), connect failed.
        const int col = s == -2 ? 4 : s < 0 ? 3 : s >= 500 ? 2 : s >= 400 ? 1 : 0;
        std::lock_guard<std::mutex> l(kind_mutex);
        ++by_kind[static_cast<size_t>(kind)][static_cast<size_t>(col)];
      }
    });
  }
  for (auto& x : attackers) x.join();
  attack_done = true;
  watcher.join();
  stop = true;
  for (auto& x : goods) x.join();
  const double attack_s = std::chrono::duration<double>(Clock::now() - t0).count();

  std::vector<double> q, d;
  for (auto& v : quiet) q.insert(q.end(), v.begin(), v.end());
  for (auto& v : during) d.insert(d.end(), v.begin(), v.end());
  json kinds = json::object();
  int64_t attack_sent = 0, server_errors = 0, connect_failed = 0;
  for (int k = 0; k < kNumKinds; ++k) {
    const auto& c = by_kind[static_cast<size_t>(k)];
    kinds[kKinds[k]] = {
        {"2xx", c[0]}, {"4xx", c[1]}, {"5xx", c[2]}, {"no_status", c[3]}, {"connect_failed", c[4]}};
    attack_sent += c[0] + c[1] + c[2] + c[3] + c[4];
    server_errors += c[2];
    connect_failed += c[4];
  }
  const double quiet_p99 = pct(q, 0.99), attack_p99 = pct(d, 0.99);
  json out = {{"bench", "hostile_http"},
              {"requests_total", static_cast<int64_t>(q.size() + d.size()) + attack_sent},
              {"good_quiet", q.size()},
              {"good_attack", d.size()},
              {"attack_requests", attack_sent},
              {"attackers", a.attackers},
              {"good_connections", a.good},
              {"attack_seconds", attack_s},
              {"quiet_p50_ms", pct(q, 0.5)},
              {"quiet_p99_ms", quiet_p99},
              {"attack_p50_ms", pct(d, 0.5)},
              {"attack_p99_ms", attack_p99},
              {"attack_max_ms", pct(d, 1.0)},
              {"p99_ratio", quiet_p99 > 0 ? attack_p99 / quiet_p99 : 0},
              {"good_failed_quiet", quiet_failed.load()},
              {"good_failed_attack", attack_failed.load()},
              {"attack_5xx", server_errors},
              {"attack_connect_failed", connect_failed},
              {"silent_max_at_once", a.max_silent},
              {"silent_dropped_by_server", pool.dropped_by_server},
              {"silent_dropped_after_ms_mean",
               pool.dropped_by_server > 0
                   ? pool.dropped_ms_sum / static_cast<double>(pool.dropped_by_server)
                   : 0.0},
              {"silent_held_to_limit", pool.held_to_limit},
              {"silent_skipped_pool_full", pool.skipped_full},
              {"by_kind", kinds},
              {"rss_before_kb", rss_before},
              {"rss_after_kb", proc_status_kb(a.server_pid, "VmRSS")},
              {"rss_peak_kb", proc_status_kb(a.server_pid, "VmHWM")},
              {"healthz_after", healthz(a.port)}};
  std::cout << out.dump() << std::endl;
  return out["healthz_after"] == 200 ? 0 : 1;
}
