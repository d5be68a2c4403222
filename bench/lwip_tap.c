/*
 * The latency bench's reference: lwIP (Debian's liblwip-dev) answering on a
 * Linux TAP device, one thread that blocks in poll() on the TAP and runs the
 * whole stack (input, ARP, ICMP echo, timers) itself. lwIP's own tapif port
 * driver is not in the package, so the netif here is our own: a read() per
 * frame into a pbuf, a write() per frame out.
 *
 *   lwip_tap TAPNAME ADDR NETMASK [SINK_PORT ECHO_PORT]
 *
 * Creates TAPNAME (down; the bench moves it into a namespace and brings it
 * up), prints "ready" and answers until killed. No tcpip thread is started:
 * lwip_init() alone, with every lwIP call on this thread. With the ports, it
 * also runs two TCP servers on lwIP's raw API (the TCP bench's reference): a
 * sink on SINK_PORT that takes everything and closes when the peer does, and
 * a 1-byte echo on ECHO_PORT. Each poll() wake-up reads up to 64 frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define MAX_FRAME 1518

static int tap_fd = -1;

static err_t tap_linkoutput(struct netif *netif, struct pbuf *p) {
  (void)netif;
  unsigned char buf[MAX_FRAME];
  if (p->tot_len > sizeof buf) return ERR_BUF;
  u16_t len = pbuf_copy_partial(p, buf, p->tot_len, 0);
  if (write(tap_fd, buf, len) < 0) return ERR_IF;
  return ERR_OK;
}

static err_t tap_netif_init(struct netif *netif) {
  static const u8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
  netif->name[0] = 't';
  netif->name[1] = 'p';
  netif->output = etharp_output;
  netif->linkoutput = tap_linkoutput;
  netif->mtu = 1500;
  netif->hwaddr_len = 6;
  memcpy(netif->hwaddr, mac, 6);
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  return ERR_OK;
}

static int open_tap(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) return -1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* TCP: the sink and the echo share one receive callback; arg says which. */
static err_t tcp_recv_cb(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  (void)err;
  if (p == NULL) { /* the peer closed: so do we */
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    if (tcp_close(pcb) == ERR_OK) return ERR_OK;
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  if (arg != NULL) { /* echo: send it back at once */
    for (struct pbuf *q = p; q != NULL; q = q->next) {
      tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
    }
    tcp_output(pcb);
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t tcp_accept_cb(void *arg, struct tcp_pcb *pcb, err_t err) {
  if (err != ERR_OK || pcb == NULL) return ERR_VAL;
  tcp_arg(pcb, arg);
  tcp_nagle_disable(pcb);
  tcp_recv(pcb, tcp_recv_cb);
  return ERR_OK;
}

/** Listens on `port`; `echo` non-NULL makes it the echo server. */
static int tcp_serve(int port, void *echo) {
  struct tcp_pcb *pcb = tcp_new();
  if (pcb == NULL || tcp_bind(pcb, IP_ADDR_ANY, (u16_t)port) != ERR_OK) return -1;
  pcb = tcp_listen(pcb);
  if (pcb == NULL) return -1;
  tcp_arg(pcb, echo);
  tcp_accept(pcb, tcp_accept_cb);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 6) {
    fprintf(stderr, "usage: %s TAPNAME ADDR NETMASK [SINK_PORT ECHO_PORT]\n", argv[0]);
    return 2;
  }
  ip4_addr_t addr, mask, gw;
  if (!ip4addr_aton(argv[2], &addr) || !ip4addr_aton(argv[3], &mask)) {
    fprintf(stderr, "bad address\n");
    return 2;
  }
  ip4_addr_set_zero(&gw);
  tap_fd = open_tap(argv[1]);
  if (tap_fd < 0) {
    perror("TAP");
    return 1;
  }
  lwip_init();
  static struct netif netif;
  if (!netif_add(&netif, &addr, &mask, &gw, NULL, tap_netif_init, ethernet_input)) {
    fprintf(stderr, "netif_add failed\n");
    return 1;
  }
  netif_set_default(&netif);
  netif_set_up(&netif);
  netif_set_link_up(&netif);
  static int echo_tag;
  if (argc == 6 && (tcp_serve(atoi(argv[4]), NULL) < 0 || tcp_serve(atoi(argv[5]), &echo_tag) < 0)) {
    fprintf(stderr, "TCP listen failed\n");
    return 1;
  }
  fcntl(tap_fd, F_SETFL, fcntl(tap_fd, F_GETFL) | O_NONBLOCK);
  printf("ready\n");
  fflush(stdout);

  unsigned char frame[MAX_FRAME];
  for (;;) {
    u32_t sleep_ms = sys_timeouts_sleeptime();
    int timeout = sleep_ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? -1 : (int)sleep_ms;
    struct pollfd pfd = {.fd = tap_fd, .events = POLLIN};
    int n = poll(&pfd, 1, timeout);
    if (n < 0 && errno != EINTR) {
      perror("poll");
      return 1;
    }
    for (int i = 0; n > 0 && i < 64; i++) {
      ssize_t len = read(tap_fd, frame, sizeof frame);
      if (len < 0 && errno != EAGAIN && errno != EINTR) {
        perror("read");
        return 1; /* the TAP went away */
      }
      if (len <= 0) break;
      struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
      if (p != NULL) {
        pbuf_take(p, frame, (u16_t)len);
        if (netif.input(p, &netif) != ERR_OK) pbuf_free(p);
      }
    }
    sys_check_timeouts();
  }
}
