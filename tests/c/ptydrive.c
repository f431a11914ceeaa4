/*
 * ptydrive - runs a program on a pseudo-terminal and drives it from a
 * script, for the REPL tests.
 *
 *   ptydrive [-t TIMEOUT_MS] -- PROGRAM [ARGS...]   < script
 *
 * Script lines:
 *   expect TEXT   wait until TEXT appears in the output after the previous
 *                 match (fails after the timeout)
 *   send TEXT     type TEXT; escapes: \n \r \t \\ \xHH (e.g. \x03 Ctrl-C,
 *                 \x04 Ctrl-D)
 *   wait          wait for the program to exit
 * Everything the program wrote goes to stdout, then "[exit N]". The exit
 * status is 0 when every expect matched, 3 when one timed out.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static char *out = NULL;
static size_t out_len = 0, out_cap = 0, matched_to = 0;

static void append(const char *buf, size_t n) {
  if (out_len + n + 1 > out_cap) {
    size_t cap = out_cap ? out_cap : 4096;
    while (cap < out_len + n + 1) cap *= 2;
    char *p = realloc(out, cap);
    if (p == NULL) {
      perror("ptydrive");
      exit(2);
    }
    out = p;
    out_cap = cap;
  }
  memcpy(out + out_len, buf, n);
  out_len += n;
  out[out_len] = '\0';
}

#define RAW_WAIT_MS 200

static int pump(int fd, int wait_ms);

/* Waits until the terminal leaves canonical mode (a line editor reading a line),
 * reading the output meanwhile; gives up after RAW_WAIT_MS. */
static void wait_for_raw_mode(int master, int *alive);

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reads what is available within wait_ms; returns 0 at EOF of the pty. */
static int pump(int fd, int wait_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int r = poll(&p, 1, wait_ms);
  if (r <= 0) return 1;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) {
    append(buf, (size_t)n);
    return 1;
  }
  if (n < 0 && errno == EINTR) return 1;
  return 0;
}

static void wait_for_raw_mode(int master, int *alive) {
  long deadline = now_ms() + RAW_WAIT_MS;
  struct termios t;
  while (*alive && now_ms() < deadline) {
    if (tcgetattr(master, &t) == 0 && !(t.c_lflag & ICANON)) return;
    if (!pump(master, 2)) *alive = 0;
  }
}

static size_t unescape(const char *s, char *dst) {
  size_t n = 0;
  for (; *s; s++) {
    if (*s != '\\') {
      dst[n++] = *s;
      continue;
    }
    s++;
    switch (*s) {
      case 'n': dst[n++] = '\n'; break;
      case 'r': dst[n++] = '\r'; break;
      case 't': dst[n++] = '\t'; break;
      case '\\': dst[n++] = '\\'; break;
      case 'x': {
        char hex[3] = {s[1], s[2], 0};
        dst[n++] = (char)strtol(hex, NULL, 16);
        s += 2;
        break;
      }
      case '\0': s--; break;
      default: dst[n++] = *s;
    }
  }
  return n;
}

int main(int argc, char **argv) {
  int timeout = 5000;
  int i = 1;
  if (i + 1 < argc && strcmp(argv[i], "-t") == 0) {
    timeout = atoi(argv[i + 1]);
    i += 2;
  }
  if (i < argc && strcmp(argv[i], "--") == 0) i++;
  if (i >= argc) {
    fprintf(stderr, "usage: ptydrive [-t MS] -- PROGRAM [ARGS...] < script\n");
    return 2;
  }
  struct winsize ws = {24, 100, 0, 0};
  int master;
  pid_t pid = forkpty(&master, NULL, NULL, &ws);
  if (pid < 0) {
    perror("forkpty");
    return 2;
  }
  if (pid == 0) {
    execvp(argv[i], argv + i);
    perror("exec");
    _exit(127);
  }
  int failed = 0, alive = 1;
  char line[8192], data[8192];
  while (!failed && fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "send ", 5) == 0) {
      /* a prompt is printed a moment before the line editor switches the
       * terminal to raw mode; keys typed in that moment are read in cooked
       * mode (and a Ctrl-D there is lost): wait until it has (the master
       * side reports the terminal's modes), for a program that never does
       * at most RAW_WAIT_MS */
      wait_for_raw_mode(master, &alive);
      size_t n = unescape(line + 5, data);
      if (write(master, data, n) < 0) failed = 1;
      pump(master, 0);
    } else if (strncmp(line, "expect ", 7) == 0) {
      const char *want = line + 7;
      long deadline = now_ms() + timeout;
      char *hit;
      while (!(out && (hit = strstr(out + matched_to, want)) != NULL)) {
        long left = deadline - now_ms();
        if (left <= 0 || !alive) break;
        if (!pump(master, (int)(left < 100 ? left : 100))) alive = 0;
      }
      if (out && (hit = strstr(out + matched_to, want)) != NULL) {
        matched_to = (size_t)(hit - out) + strlen(want);
      } else {
        fprintf(stderr, "ptydrive: timed out waiting for \"%s\"\n", want);
        failed = 1;
      }
    } else if (strcmp(line, "wait") == 0) {
      long deadline = now_ms() + timeout;
      while (alive && now_ms() < deadline)
        if (!pump(master, 100)) alive = 0;
    }
  }
  /* collect the rest, then the exit status */
  long deadline = now_ms() + (failed ? 200 : timeout);
  while (alive && now_ms() < deadline)
    if (!pump(master, 50)) alive = 0;
  /* the pty closes a moment before the process is gone: give it the
   * timeout to exit, then kill it */
  int status = 0;
  long give_up = now_ms() + (failed ? 200 : timeout);
  pid_t w;
  while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < give_up) {
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  if (w == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  if (out) fwrite(out, 1, out_len, stdout);
  printf("\n[exit %d]\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  close(master);
  free(out);
  return failed ? 3 : 0;
}
