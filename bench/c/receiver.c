/*
 * The C baseline receiver of the mcast benchmark suite (compiled by bench/run.ts with gcc -O2
 * into a temporary directory at bench time; no binary is ever committed).
 *
 * Set up like lib/subscription.ts so that the kernel does the same work for both: SO_REUSEADDR,
 * bind to the group, IP_MULTICAST_ALL=0, IP_ADD_MEMBERSHIP on the interface owning --iface,
 * IP_RECVTTL, IP_RECVTOS, IP_PKTINFO, SO_TIMESTAMPNS and a 4 MiB receive buffer
 * (SO_RCVBUFFORCE, else SO_RCVBUF). Receives with recvmmsg(MSG_DONTWAIT) in batches of
 * --batch, polls when the socket is empty, walks every datagram's control messages and checks its
 * MCAS header (magic, version, sequence number) — the C counterpart of Subscription + decodeMcas +
 * ReceiverStats.record, without the per-sender table. `datagrams` counts everything that
 * arrived (iperf2's datagrams too), `received` only MCAS ones.
 *
 * Prints `ready` on stdout once joined. With --wait-go it then reads one line from stdin before it
 * starts receiving (so that a backlog can be queued first and the drain rate measured). When
 * --expect datagrams arrived, or nothing arrived for --idle-ms after the first one, or --duration
 * seconds passed, it prints one JSON object.
 *
 *   receiver --group 239.255.77.1 --port 19780 --iface 127.0.0.1 --expect 1000000
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define MAX_BATCH 1024
#define SLOT 65536
#define CONTROL 256



static void usage(const char *why) {
  fprintf(stderr,
          "receiver: %s\nusage: receiver --group G --port P --iface ADDR [--batch N] "
          "[--expect N] [--idle-ms MS] [--duration S] [--rcvbuf BYTES] [--wait-go 1]\n",
          why);
  exit(2);
}

static int set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value);
}

int main(int argc, char **argv) {
  program = "receiver";
  const char *group = NULL, *iface = "127.0.0.1";
  int port = 19780, batch = 64, idle_ms = 1000, wait_go = 0, rcvbuf = 4 * 1024 * 1024;
  uint64_t expect = 0;
  double duration = 10.0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (i + 1 >= argc) usage("missing value");
    const char *val = argv[++i];
    if (!strcmp(arg, "--group")) group = val;
    else if (!strcmp(arg, "--port")) port = atoi(val);
    else if (!strcmp(arg, "--iface")) iface = val;
    else if (!strcmp(arg, "--batch")) batch = atoi(val);
    else if (!strcmp(arg, "--expect")) expect = strtoull(val, NULL, 10);
    else if (!strcmp(arg, "--idle-ms")) idle_ms = atoi(val);
    else if (!strcmp(arg, "--duration")) duration = atof(val);
    else if (!strcmp(arg, "--rcvbuf")) rcvbuf = atoi(val);
    else if (!strcmp(arg, "--wait-go")) wait_go = atoi(val);
    else usage(arg);
  }
  if (!group) usage("--group is required");
  if (batch < 1 || batch > MAX_BATCH) usage("--batch must be 1..1024");

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0) die("SO_REUSEADDR");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, group, &addr.sin_addr) != 1) usage("bad --group");
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (set_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0) < 0) die("IP_MULTICAST_ALL");
  struct ip_mreq mreq = {.imr_multiaddr = addr.sin_addr};
  if (inet_pton(AF_INET, iface, &mreq.imr_interface) != 1) usage("bad --iface");
  if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0)
    die("IP_ADD_MEMBERSHIP");
  if (set_int(fd, IPPROTO_IP, IP_RECVTTL, 1) < 0) die("IP_RECVTTL");
  if (set_int(fd, IPPROTO_IP, IP_RECVTOS, 1) < 0) die("IP_RECVTOS");
  if (set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) < 0) die("IP_PKTINFO");
  if (set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) < 0) die("SO_TIMESTAMPNS");
  if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf) < 0)
    (void)set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);

  uint8_t *payloads = malloc((size_t)SLOT * (size_t)batch);
  uint8_t *controls = malloc((size_t)CONTROL * (size_t)batch);
  uint8_t *seen = expect ? calloc(expect, 1) : NULL;
  if (!payloads || !controls || (expect && !seen)) die("malloc");
  struct iovec iov[MAX_BATCH];
  struct sockaddr_in names[MAX_BATCH];
  struct mmsghdr msgs[MAX_BATCH];

  printf("ready\n");
  fflush(stdout);
  if (wait_go) {
    char line[16];
    if (!fgets(line, sizeof line, stdin)) usage("stdin closed before go");
  }

  uint64_t datagrams = 0, received = 0, unique = 0, duplicates = 0, foreign = 0;
  uint64_t bytes = 0, calls = 0;
  uint64_t ttl_sum = 0, max_seq = 0, first_ns = 0, last_ns = 0, kernel_ts = 0;
  uint64_t start = now_ns();
  uint64_t deadline = start + (uint64_t)(duration * 1e9);
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  for (;;) {
    for (int i = 0; i < batch; i++) {
      iov[i].iov_base = payloads + (size_t)i * SLOT;
      iov[i].iov_len = SLOT;
      msgs[i].msg_hdr.msg_name = &names[i];
      msgs[i].msg_hdr.msg_namelen = sizeof names[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = controls + (size_t)i * CONTROL;
      msgs[i].msg_hdr.msg_controllen = CONTROL;
      msgs[i].msg_hdr.msg_flags = 0;
      msgs[i].msg_len = 0;
    }
    int n = recvmmsg(fd, msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
    calls++;
    uint64_t now = now_ns();
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) die("recvmmsg");
      if (now >= deadline) break;
      if (datagrams > 0 && now - last_ns >= (uint64_t)idle_ms * 1000000ull) break;
      poll(&pfd, 1, 20);
      continue;
    }
    if (datagrams == 0 && n > 0) first_ns = now;
    last_ns = now;
    datagrams += (uint64_t)n;
    for (int i = 0; i < n; i++) {
      struct msghdr *h = &msgs[i].msg_hdr;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
          int ttl;
          memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
          ttl_sum += (uint64_t)ttl;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec ts;
          memcpy(&ts, CMSG_DATA(c), sizeof ts);
          kernel_ts = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        }
      }
      const uint8_t *d = payloads + (size_t)i * SLOT;
      unsigned len = msgs[i].msg_len;
      if (len < 32 || memcmp(d, "MCAS", 4) != 0 || d[4] != 1) {
        foreign++;
        continue;
      }
      uint64_t seq;
      memcpy(&seq, d + 8, 8);
      seq = be64toh(seq);
      received++;
      bytes += len;
      if (seq > max_seq) max_seq = seq;
      if (seen && seq < expect) {
        if (seen[seq]) duplicates++;
        else { seen[seq] = 1; unique++; }
      } else if (!seen) {
        unique++;
      }
    }
    if (expect && unique >= expect) break;
    if (now >= deadline) break;
  }
  double span = received > 1 ? (double)(last_ns - first_ns) / 1e9 : 0.0;
  printf("{\"tool\":\"c-receiver\",\"datagrams\":%llu,\"received\":%llu,\"unique\":%llu,"
         "\"duplicates\":%llu,"
         "\"foreign\":%llu,\"bytes\":%llu,\"calls\":%llu,\"max_seq\":%llu,\"span_s\":%.6f,"
         "\"pps\":%.1f,\"ttl_avg\":%.2f,\"last_kernel_ts\":%llu}\n",
         (unsigned long long)datagrams, (unsigned long long)received, (unsigned long long)unique,
         (unsigned long long)duplicates, (unsigned long long)foreign, (unsigned long long)bytes,
         (unsigned long long)calls, (unsigned long long)max_seq, span,
         span > 0 ? (double)received / span : 0.0,
         received ? (double)ttl_sum / (double)received : 0.0, (unsigned long long)kernel_ts);
  close(fd);
  return 0;
}
