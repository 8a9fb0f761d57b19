/* udpfwd: the plain UDP forwarder of tests/bench/relay_bench.sh, written the
 * simplest way on purpose: it is the ceiling the media relay is compared
 * with. Per call two sockets on ADDRESS (port 0: the kernel picks), a "LAN"
 * one and a "peer" one; what arrives on the LAN socket goes out of the peer
 * socket to --peer-remote, and back. One epoll set (level-triggered) over
 * every socket; per ready socket one recvfrom() and one sendto(). No
 * batching, no latching, no statistics beyond one counter.
 *
 * It writes --ports-file like relaybench ("LAN_PORT PEER_PORT" per call,
 * atomically), prints "READY calls=N rss_kb=... rss_before_kb=...", runs
 * until SIGTERM/SIGINT or --max-seconds and prints "FWD forwarded=N".
 *
 * Usage: udpfwd --calls N --lan-remote ADDR:PORT --peer-remote ADDR:PORT
 *               --ports-file FILE [--address 127.0.0.1] [--max-seconds 300]
 * Bad arguments: one line on stderr, exit 2. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void die(const char *what) {
  fprintf(stderr, "udpfwd: %s\n", what);
  exit(2);
}

static struct sockaddr_in endpoint(const char *s) {
  char host[64];
  const char *colon = strrchr(s, ':');
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  if (colon == NULL || (size_t)(colon - s) >= sizeof host) die("an endpoint must be ADDR:PORT");
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = '\0';
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) die("bad IPv4 address");
  a.sin_port = htons((unsigned short)atoi(colon + 1));
  if (a.sin_port == 0) die("bad port");
  return a;
}

static long rss_kb(void) {
  char line[256];
  long kb = 0;
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) return 0;
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  fclose(f);
  return kb;
}

int main(int argc, char **argv) {
  long calls = 0, max_seconds = 300;
  const char *lan_remote = NULL, *peer_remote = NULL, *ports_file = NULL, *address = "127.0.0.1";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--calls") == 0) calls = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--lan-remote") == 0) lan_remote = argv[i + 1];
    else if (strcmp(argv[i], "--peer-remote") == 0) peer_remote = argv[i + 1];
    else if (strcmp(argv[i], "--ports-file") == 0) ports_file = argv[i + 1];
    else if (strcmp(argv[i], "--address") == 0) address = argv[i + 1];
    else if (strcmp(argv[i], "--max-seconds") == 0) max_seconds = atol(argv[i + 1]);
    else die("unknown argument");
  }
  if (argc % 2 != 1) die("missing value after the last argument");
  if (calls <= 0 || calls > 30000 || !lan_remote || !peer_remote || !ports_file)
    die("--calls N (1..30000), --lan-remote, --peer-remote and --ports-file are required");

  /* remote[s]: where what arrives on socket s goes (out of socket s ^ 1). */
  const struct sockaddr_in remotes[2] = {endpoint(peer_remote), endpoint(lan_remote)};
  struct sockaddr_in local;
  memset(&local, 0, sizeof local);
  local.sin_family = AF_INET;
  if (inet_pton(AF_INET, address, &local.sin_addr) != 1) die("bad --address");

  const long rss_before = rss_kb();
  const long n = 2 * calls;
  int *fds = calloc((size_t)n, sizeof *fds);
  if (fds == NULL) die("out of memory");
  const int ep = epoll_create1(0);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", ports_file);
  FILE *out = fopen(tmp, "w");
  if (ep < 0 || out == NULL) die("cannot create the epoll set or the ports file");
  for (long s = 0; s < n; ++s) {
    struct sockaddr_in bound;
    socklen_t len = sizeof bound;
    fds[s] = socket(AF_INET, SOCK_DGRAM, 0);
    if (fds[s] < 0 || bind(fds[s], (struct sockaddr *)&local, sizeof local) != 0 ||
        getsockname(fds[s], (struct sockaddr *)&bound, &len) != 0)
      die("cannot open a socket (raise ulimit -n?)");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (unsigned long long)s};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[s], &ev) != 0) die("epoll_ctl failed");
    fprintf(out, (s & 1) ? "%u\n" : "%u ", ntohs(bound.sin_port));
  }
  if (fclose(out) != 0 || rename(tmp, ports_file) != 0) die("cannot write the ports file");
  printf("READY calls=%ld rss_kb=%ld rss_before_kb=%ld\n", calls, rss_kb(), rss_before);
  fflush(stdout);

  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  const time_t deadline = time(NULL) + max_seconds;
  unsigned long long forwarded = 0;
  char buf[65536];
  struct epoll_event events[256];
  while (!stop && time(NULL) < deadline) {
    const int ready = epoll_wait(ep, events, 256, 1000);
    for (int e = 0; e < ready; ++e) {
      const long s = (long)events[e].data.u64;
      const ssize_t got = recvfrom(fds[s], buf, sizeof buf, 0, NULL, NULL);
      if (got < 0) continue;
      if (sendto(fds[s ^ 1], buf, (size_t)got, 0, (const struct sockaddr *)&remotes[s & 1], sizeof remotes[0]) == got)
        ++forwarded;
    }
  }
  printf("FWD forwarded=%llu rss_kb=%ld\n", forwarded, rss_kb());
  return 0;
}
