/*
 * ctest.h - a very small test harness for the C tests.
 *
 *   TEST(name) { CHECK(expr); CHECK_STR(a, b); CHECK_INT(a, b); }
 *   int main(void) { RUN(name); ...; return ctest_summary("suite"); }
 *
 * A test passes when none of its checks fail. ctest_summary prints
 * "# <suite>: N passed, M failed" (scripts/run-tests adds these up) and
 * returns the exit status.
 */
#ifndef CTEST_H
#define CTEST_H

#include <stdio.h>
#include <string.h>

static int ctest_passed, ctest_failed, ctest_current_failed;

#define TEST(name) static void name(void)

#define CHECK(expr)                                                         \
  do {                                                                      \
    if (!(expr)) {                                                          \
      fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
      ctest_current_failed = 1;                                             \
    }                                                                       \
  } while (0)

#define CHECK_STR(a, b)                                                     \
  do {                                                                      \
    const char *ca_ = (a), *cb_ = (b);                                      \
    if (ca_ == NULL || cb_ == NULL || strcmp(ca_, cb_) != 0) {              \
      fprintf(stderr, "  %s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, \
              cb_ ? cb_ : "(null)", ca_ ? ca_ : "(null)");                  \
      ctest_current_failed = 1;                                             \
    }                                                                       \
  } while (0)

#define CHECK_INT(a, b)                                                     \
  do {                                                                      \
    long long ca_ = (long long)(a), cb_ = (long long)(b);                   \
    if (ca_ != cb_) {                                                       \
      fprintf(stderr, "  %s:%d: %s: expected %lld, got %lld\n", __FILE__, __LINE__, #a, cb_, ca_); \
      ctest_current_failed = 1;                                             \
    }                                                                       \
  } while (0)

#define RUN(name)                                                           \
  do {                                                                      \
    ctest_current_failed = 0;                                               \
    name();                                                                 \
    if (ctest_current_failed) {                                             \
      ctest_failed++;                                                       \
      printf("not ok - %s\n", #name);                                       \
    } else {                                                                \
      ctest_passed++;                                                       \
      printf("ok - %s\n", #name);                                           \
    }                                                                       \
  } while (0)

static int ctest_summary(const char *suite) {
  printf("# %s: %d passed, %d failed\n", suite, ctest_passed, ctest_failed);
  return ctest_failed ? 1 : 0;
}

#endif
