/* test_open_cost.c - what peft_open costs: the first runtime of a process and
 * the best of the next 20, against issue 14's goal of 2 ms (checked on a plain
 * build only: under Valgrind or ASan the times are reported, not checked). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>
#include <valgrind/valgrind.h>

#include "ctest.h"
#include "peft.h"

#if defined(__SANITIZE_ADDRESS__)
#define INSTRUMENTED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INSTRUMENTED 1
#endif
#endif
#ifndef INSTRUMENTED
#define INSTRUMENTED 0
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

TEST(peft_open_is_cheap) {
  peft_error err;
  double first = 0, best = 1e9;
  for (int i = 0; i < 21; i++) {
    double t0 = now();
    peft_runtime *rt = peft_open(&err);
    double t = now() - t0;
    CHECK(rt != NULL);
    peft_close(rt);
    if (i == 0) first = t;
    else if (t < best) best = t;
  }
  int checked = !INSTRUMENTED && !RUNNING_ON_VALGRIND;
  printf("# peft_open: first %.3f ms, best of the next 20 %.3f ms (goal 2 ms%s)\n", first * 1e3, best * 1e3,
         checked ? "" : "; not checked under instrumentation");
  if (checked) CHECK(best <= 0.002);
}

int main(void) {
  RUN(peft_open_is_cheap);
  return ctest_summary("test_open_cost");
}
