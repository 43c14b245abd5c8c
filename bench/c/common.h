/* Shared by the C baseline's sender and receiver: the monotonic clock and fatal errors. */
#ifndef MCAST_BENCH_COMMON_H
#define MCAST_BENCH_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The program's name in messages; each program sets it first thing in main(). */
static const char *program = "bench";

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "%s: %s: %s\n", program, what, strerror(errno));
  exit(1);
}

#endif
