/*
 * The C baseline sender of the mcast benchmark suite (bench/run.ts compiles it with gcc -O2 into
 * a temporary directory at bench time; no binary is ever committed).
 *
 * A connected, non-blocking IPv4 UDP socket to a multicast group, IP_MULTICAST_IF set to a local
 * address, sending MCAS v1 datagrams (the same header as mcast-send: magic, version 1, TTL,
 * DSCP 0, sequence, monotonic timestamp, sender id, 0xA5 padding) as fast as it can:
 *
 *   send      one send() per datagram
 *   sendmmsg  sendmmsg() of --batch datagrams per call
 *
 * With --pps N (send mode only) it paces instead: one send() per datagram at its own absolute
 * deadline (start + i / N, clock_nanosleep on CLOCK_MONOTONIC), the floor of a paced sender's
 * CPU cost (bench/_idle.ts runs it at 25 pps).
 *
 * The sequence number is written into every datagram; the timestamp is read once per batch of
 * 64 sends (send mode) or once per sendmmsg call — the same as the Deno workers do, so that both
 * sides pay for the same clock reads. On EAGAIN it polls for POLLOUT (counted as eagain).
 *
 * Stops after --count datagrams (0: no limit) or --duration seconds, whichever comes first, and
 * prints one JSON object on stdout.
 *
 *   sender --group 239.255.77.1 --port 19780 --iface 127.0.0.1 --size 200 --mode sendmmsg \
 *          --batch 64 --count 1000000 --duration 2
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
#define MCAS_HEADER 32



static void usage(const char *why) {
  fprintf(stderr,
          "sender: %s\nusage: sender --group G --port P --iface ADDR --size B "
          "--mode send|sendmmsg [--batch N] [--count N] [--duration S] [--ttl T] [--pps N]\n",
          why);
  exit(2);
}

static void put_u64(uint8_t *p, uint64_t v) {
  uint64_t be = htobe64(v);
  memcpy(p, &be, 8);
}

static void mcas_init(uint8_t *d, size_t size, int ttl, uint64_t sender_id) {
  memset(d, 0xA5, size);
  memcpy(d, "MCAS", 4);
  d[4] = 1;
  d[5] = 0;
  d[6] = (uint8_t)ttl;
  d[7] = 0;
  put_u64(d + 8, 0);
  put_u64(d + 16, 0);
  put_u64(d + 24, sender_id);
}

int main(int argc, char **argv) {
  program = "sender";
  const char *group = NULL, *iface = "127.0.0.1", *mode = "send";
  int port = 19780, ttl = 1, batch = 64;
  size_t size = 200;
  uint64_t count = UINT64_MAX;
  double duration = 2.0, pps = 0.0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (i + 1 >= argc) usage("missing value");
    const char *val = argv[++i];
    if (!strcmp(arg, "--group")) group = val;
    else if (!strcmp(arg, "--port")) port = atoi(val);
    else if (!strcmp(arg, "--iface")) iface = val;
    else if (!strcmp(arg, "--size")) size = (size_t)strtoul(val, NULL, 10);
    else if (!strcmp(arg, "--mode")) mode = val;
    else if (!strcmp(arg, "--batch")) batch = atoi(val);
    else if (!strcmp(arg, "--count")) count = strtoull(val, NULL, 10);
    else if (!strcmp(arg, "--duration")) duration = atof(val);
    else if (!strcmp(arg, "--ttl")) ttl = atoi(val);
    else if (!strcmp(arg, "--pps")) pps = atof(val);
    else usage(arg);
  }
  if (count == 0) count = UINT64_MAX; /* --count 0: no limit */
  int use_mmsg = !strcmp(mode, "sendmmsg");
  if (!group) usage("--group is required");
  if (!use_mmsg && strcmp(mode, "send")) usage("--mode must be send or sendmmsg");
  if (size < MCAS_HEADER || size > 65507) usage("--size must be 32..65507");
  if (batch < 1 || batch > MAX_BATCH) usage("--batch must be 1..1024");
  if (pps < 0 || (pps > 0 && use_mmsg)) usage("--pps must be > 0, with --mode send");
  if (!use_mmsg) batch = pps > 0 ? 1 : 64; /* clock/deadline check interval in send mode */

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  struct in_addr ifaddr;
  if (inet_pton(AF_INET, iface, &ifaddr) != 1) usage("bad --iface");
  if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof ifaddr) < 0)
    die("IP_MULTICAST_IF");
  unsigned char ttl_byte = (unsigned char)ttl;
  if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl_byte, 1) < 0) die("IP_MULTICAST_TTL");
  unsigned char loop = 1;
  if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, 1) < 0) die("IP_MULTICAST_LOOP");
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, group, &dst.sin_addr) != 1) usage("bad --group");
  if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) die("connect");

  uint64_t sender_id = now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
  uint8_t *bufs = malloc(size * (size_t)batch);
  if (!bufs) die("malloc");
  struct iovec iov[MAX_BATCH];
  struct mmsghdr msgs[MAX_BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < batch; i++) {
    mcas_init(bufs + (size_t)i * size, size, ttl, sender_id);
    iov[i].iov_base = bufs + (size_t)i * size;
    iov[i].iov_len = size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }

  uint64_t seq = 0, eagain = 0, errors = 0, calls = 0;
  uint64_t start = now_ns();
  uint64_t deadline = start + (uint64_t)(duration * 1e9);
  uint64_t now = start;
  struct pollfd pfd = {.fd = fd, .events = POLLOUT};
  while (seq < count && now < deadline) {
    uint64_t want = count - seq < (uint64_t)batch ? count - seq : (uint64_t)batch;
    if (use_mmsg) {
      for (uint64_t i = 0; i < want; i++) {
        uint8_t *d = bufs + i * size;
        put_u64(d + 8, seq + i);
        put_u64(d + 16, now);
      }
      uint64_t done = 0;
      while (done < want) {
        int n = sendmmsg(fd, msgs + done, (unsigned)(want - done), 0);
        calls++;
        if (n < 0) {
          if (errno == EAGAIN) { eagain++; poll(&pfd, 1, 100); continue; }
          if (errno == EINTR) continue;
          errors++;
          break;
        }
        done += (uint64_t)n;
      }
      seq += done;
      if (done < want) break;
    } else {
      uint8_t *d = bufs;
      if (pps > 0) {
        uint64_t due = start + (uint64_t)((double)seq * 1e9 / pps);
        if (due >= deadline) break;
        struct timespec ts = {.tv_sec = (time_t)(due / 1000000000ull),
                              .tv_nsec = (long)(due % 1000000000ull)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
        now = now_ns();
      }
      put_u64(d + 16, now);
      uint64_t i = 0;
      while (i < want) {
        put_u64(d + 8, seq);
        ssize_t n = send(fd, d, size, 0);
        calls++;
        if (n < 0) {
          if (errno == EAGAIN) { eagain++; poll(&pfd, 1, 100); continue; }
          if (errno == EINTR) continue;
          errors++;
          break;
        }
        seq++;
        i++;
      }
      if (i < want) break;
    }
    now = now_ns();
  }
  double elapsed = (double)(now - start) / 1e9;
  printf("{\"tool\":\"c-sender\",\"mode\":\"%s\",\"size\":%zu,\"batch\":%d,"
         "\"packets_sent\":%llu,\"calls\":%llu,\"eagain\":%llu,\"errors\":%llu,"
         "\"elapsed_s\":%.6f,\"pps\":%.1f}\n",
         mode, size, use_mmsg ? batch : 1, (unsigned long long)seq, (unsigned long long)calls,
         (unsigned long long)eagain, (unsigned long long)errors, elapsed,
         elapsed > 0 ? (double)seq / elapsed : 0.0);
  free(bufs);
  close(fd);
  return errors ? 1 : 0;
}
