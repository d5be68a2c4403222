/*
 * Linux's side of the TCP benchmark (bench/tcp_bench.ts), one small program
 * so that every stack under test meets the same client and the same servers:
 *
 *   tcp_peer push HOST PORT BYTES   connect, send BYTES, half-close, wait for the
 *                                   peer's close; prints "BYTES SECONDS"
 *   tcp_peer pull HOST PORT         connect, read until the peer closes; prints "BYTES SECONDS"
 *   tcp_peer rr HOST PORT N         1-byte request/response N times on one connection
 *                                   (TCP_NODELAY, 200 more first to warm up); prints
 *                                   "MEDIAN_US P99_US AVG_US"
 *   tcp_peer crr HOST PORT N        N times: connect, 1-byte request/response, close;
 *                                   prints "CONNECTIONS_PER_S MEDIAN_US"
 *   tcp_peer hold HOST PORT N       opens N connections, prints "held", keeps them
 *                                   until its stdin closes
 *   tcp_peer sink PORT              serves one connection after another: read until EOF, close
 *   tcp_peer source PORT BYTES      serves one connection after another: send BYTES, close
 *   tcp_peer echo PORT              serves one connection after another: echo until EOF
 *   tcp_peer accept PORT            accepts connections and keeps them, until killed
 *
 * Servers listen on every address of the namespace they run in. Every wait is
 * bounded by SO_RCVTIMEO/SO_SNDTIMEO (30 s) or by the caller killing it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (128 * 1024)
#define WARMUP 200

static unsigned char buf[CHUNK];

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void bound(int fd) {
  struct timeval tv = {.tv_sec = 30};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int dial(const char *host, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) die("address");
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  bound(fd);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  return fd;
}

static int listener(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
  if (fd < 0) die("socket");
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(fd, 4096) < 0) die("listen");
  return fd;
}

static void nodelay(int fd) {
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static int cmp(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/** One 1-byte request and its answer; 0 when the peer closed or failed. */
static int exchange(int fd) {
  unsigned char one = 1;
  if (write(fd, &one, 1) != 1) return 0;
  return read(fd, &one, 1) == 1;
}

static void raise_fd_limit(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: see the comment at the top of tcp_peer.c\n");
    return 2;
  }
  const char *mode = argv[1];
  raise_fd_limit();
  if (!strcmp(mode, "push") && argc == 5) {
    long long total = atoll(argv[4]), sent = 0;
    int fd = dial(argv[2], atoi(argv[3]));
    memset(buf, 7, sizeof buf);
    double t0 = now();
    while (sent < total) {
      long long want = total - sent < CHUNK ? total - sent : CHUNK;
      ssize_t n = write(fd, buf, want);
      if (n <= 0) die("write");
      sent += n;
    }
    shutdown(fd, SHUT_WR);
    while (read(fd, buf, sizeof buf) > 0) {}
    printf("%lld %.6f\n", sent, now() - t0);
  } else if (!strcmp(mode, "pull") && argc == 4) {
    int fd = dial(argv[2], atoi(argv[3]));
    long long got = 0;
    double t0 = now();
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) != 0; got += n) {
      if (n < 0) die("read");
    }
    printf("%lld %.6f\n", got, now() - t0);
  } else if (!strcmp(mode, "rr") && argc == 5) {
    int n = atoi(argv[4]);
    int fd = dial(argv[2], atoi(argv[3]));
    nodelay(fd);
    double *t = calloc(n, sizeof *t), sum = 0;
    for (int i = 0; i < WARMUP + n; i++) {
      double t0 = now();
      if (!exchange(fd)) die("exchange");
      if (i >= WARMUP) sum += t[i - WARMUP] = (now() - t0) * 1e6;
    }
    qsort(t, n, sizeof *t, cmp);
    printf("%.1f %.1f %.1f\n", t[n / 2], t[n * 99 / 100], sum / n);
  } else if (!strcmp(mode, "crr") && argc == 5) {
    int n = atoi(argv[4]), port = atoi(argv[3]);
    double *t = calloc(n, sizeof *t), start = now();
    for (int i = 0; i < n; i++) {
      double t0 = now();
      int fd = dial(argv[2], port);
      nodelay(fd);
      if (!exchange(fd)) die("exchange");
      close(fd);
      t[i] = (now() - t0) * 1e6;
    }
    double seconds = now() - start;
    qsort(t, n, sizeof *t, cmp);
    printf("%.1f %.1f\n", n / seconds, t[n / 2]);
  } else if (!strcmp(mode, "hold") && argc == 5) {
    int n = atoi(argv[4]);
    for (int i = 0; i < n; i++) dial(argv[2], atoi(argv[3]));
    printf("held\n");
    fflush(stdout);
    while (read(0, buf, sizeof buf) > 0) {}
  } else if (!strcmp(mode, "sink") || !strcmp(mode, "source") || !strcmp(mode, "echo") ||
             !strcmp(mode, "accept")) {
    int l = listener(atoi(argv[2]));
    long long bytes = argc > 3 ? atoll(argv[3]) : 0;
    memset(buf, 7, sizeof buf);
    for (;;) {
      int fd = accept(l, NULL, NULL);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        die("accept");
      }
      if (!strcmp(mode, "accept")) continue; /* kept open */
      bound(fd);
      if (!strcmp(mode, "sink")) {
        while (read(fd, buf, sizeof buf) > 0) {}
      } else if (!strcmp(mode, "source")) {
        for (long long sent = 0; sent < bytes;) {
          ssize_t n = write(fd, buf, bytes - sent < CHUNK ? bytes - sent : CHUNK);
          if (n <= 0) break;
          sent += n;
        }
      } else {
        nodelay(fd);
        unsigned char one;
        while (read(fd, &one, 1) == 1 && write(fd, &one, 1) == 1) {}
      }
      close(fd);
    }
  } else {
    fprintf(stderr, "bad arguments for %s\n", mode);
    return 2;
  }
  return 0;
}
