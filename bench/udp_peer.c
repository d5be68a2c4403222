/*
 * Linux's side of bench/udp_bench.ts, native so that Linux's own speed (not an
 * interpreter's) is what the stack is set beside. IPv4 only.
 *
 *   udp_peer recv PORT              count datagrams until 1 s passes without one
 *                                   (after the first); print "count bytes seconds"
 *   udp_peer send HOST PORT SIZE N  send N datagrams of SIZE bytes
 *   udp_peer echo PORT              echo every datagram to its sender, forever
 *   udp_peer ping HOST PORT N       time N 1-byte round trips; print them in
 *                                   microseconds, sorted
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static struct sockaddr_in addr(const char *host, const char *port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(atoi(port));
  if (host && inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    fprintf(stderr, "bad address %s\n", host);
    exit(2);
  }
  return a;
}

static int cmp(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
  static char buf[65536];
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0 || argc < 3) return 2;
  if (!strcmp(argv[1], "recv") || !strcmp(argv[1], "echo")) {
    int size = 32 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    struct sockaddr_in a = addr(NULL, argv[2]);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) return perror("bind"), 1;
    if (!strcmp(argv[1], "echo")) {
      for (;;) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n >= 0) sendto(s, buf, n, 0, (struct sockaddr *)&from, len);
      }
    }
    long count = 0, bytes = 0;
    double first = 0, last = 0;
    for (;;) {
      ssize_t n = recv(s, buf, sizeof buf, 0);
      if (n < 0) break; /* the idle timeout, set after the first datagram */
      last = now();
      if (count++ == 0) {
        first = last;
        struct timeval tv = {1, 0};
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      }
      bytes += n;
    }
    printf("%ld %ld %.6f\n", count, bytes, last - first);
    return 0;
  }
  if (argc < 5) return 2;
  struct sockaddr_in a = addr(argv[2], argv[3]);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) return perror("connect"), 1;
  if (!strcmp(argv[1], "send")) {
    if (argc < 6) return 2;
    int size = atoi(argv[4]);
    long n = atol(argv[5]);
    for (long i = 0; i < n; i++) {
      if (send(s, buf, size, 0) < 0) return perror("send"), 1;
    }
    return 0;
  }
  long n = atol(argv[4]);
  double *rtts = calloc(n, sizeof *rtts);
  struct timeval tv = {2, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (long i = 0; i < n; i++) {
    double t = now();
    if (send(s, "x", 1, 0) != 1 || recv(s, buf, sizeof buf, 0) < 0) return perror("ping"), 1;
    rtts[i] = (now() - t) * 1e6;
  }
  qsort(rtts, n, sizeof *rtts, cmp);
  for (long i = 0; i < n; i++) printf(i ? " %.1f" : "%.1f", rtts[i]);
  printf("\n");
  return 0;
}
