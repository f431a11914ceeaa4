/* lpeft_os.c - file-system helpers (see lpeft_os.h). */
#define _GNU_SOURCE /* qsort_r, d_type */
#define _POSIX_C_SOURCE 200809L
#include "lpeft_os.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lpeft_udata.h"
#include "peft_text.h"

static int fail_errno(lua_State *L, const char *what, const char *path, int e) {
  lua_pushnil(L);
  lua_pushfstring(L, "%s %s: %s", what, path, strerror(e));
  lua_pushinteger(L, e);
  return 3;
}

int lpeft_os_stat(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) return fail_errno(L, "cannot stat", path, errno);
  if (S_ISREG(st.st_mode)) lua_pushliteral(L, "file");
  else if (S_ISDIR(st.st_mode)) lua_pushliteral(L, "directory");
  else lua_pushliteral(L, "other");
  lua_pushinteger(L, (lua_Integer)st.st_size);
  return 2;
}

/* lstat(path) -> "link" | "file" | "directory" | "other" | nil, message, errno:
 * like stat, but a symbolic link is reported as such (not followed). */
int lpeft_os_lstat(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (lstat(path, &st) != 0) return fail_errno(L, "cannot stat", path, errno);
  if (S_ISLNK(st.st_mode)) lua_pushliteral(L, "link");
  else if (S_ISREG(st.st_mode)) lua_pushliteral(L, "file");
  else if (S_ISDIR(st.st_mode)) lua_pushliteral(L, "directory");
  else lua_pushliteral(L, "other");
  return 1;
}

/* realpath(path) -> the absolute path without links, "." or ".." | nil, message, errno */
int lpeft_os_realpath(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char buf[PATH_MAX]; /* no malloc'd result: pushing it may raise */
  if (realpath(path, buf) == NULL) return fail_errno(L, "cannot resolve", path, errno);
  lua_pushstring(L, buf);
  return 1;
}

/* A box: malloc'd memory owned by a userdata, so that a Lua error raised
 * while it is in use frees it through __gc (the lauxlib "newbox" pattern).
 * `items`, when non-zero, says the block is an array of that many malloc'd
 * strings to free as well. */
typedef struct box {
  void *p;
  size_t items;
} box;

static int box_gc(lua_State *L) {
  box *b = luaL_checkudata(L, 1, "peft.os.box");
  if (b->items) {
    char **v = b->p;
    for (size_t i = 0; i < b->items; i++) free(v[i]);
  }
  free(b->p);
  b->p = NULL;
  b->items = 0;
  return 0;
}

static box *box_new(lua_State *L) {
  return lpeft_udata_new(L, sizeof(box), 0, "peft.os.box", box_gc, 1);
}

static const char *type_name(unsigned char t) {
  switch (t) {
    case DT_REG: return "file";
    case DT_DIR: return "directory";
    case DT_UNKNOWN: return NULL;
    default: return "other";
  }
}

/* Files shorter than this are read into a buffer on the C stack. */
#define SMALL_FILE 16384

/* Opens path for reading without blocking (a FIFO would wait for a writer)
 * and checks that it is a regular file. Returns the descriptor, or -1 with
 * nil, message, errno pushed. No Lua call raises while it holds the
 * descriptor. */
static int open_regular(lua_State *L, const char *path, struct stat *st) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    fail_errno(L, "cannot open", path, errno);
    return -1;
  }
  int e = fstat(fd, st) != 0 ? errno : 0;
  if (e == 0 && !S_ISREG(st->st_mode)) e = S_ISDIR(st->st_mode) ? EISDIR : -1;
  if (e != 0) {
    close(fd);
    if (e > 0) {
      fail_errno(L, e == EISDIR ? "cannot read" : "cannot stat", path, e);
    } else {
      lua_pushnil(L);
      lua_pushfstring(L, "cannot read %s: not a regular file", path);
      lua_pushinteger(L, EINVAL);
    }
    return -1;
  }
  return fd;
}

static int too_big(lua_State *L, const char *path, lua_Integer size, lua_Integer max) {
  lua_pushnil(L);
  lua_pushfstring(L, "cannot read %s: the file has %I bytes, more than the limit of %I", path, size, max);
  lua_pushinteger(L, EFBIG);
  return 3;
}

/* read_file(path [, max]) -> contents | nil, message, errno: a regular file
 * of at most max bytes (a FIFO, a device or a directory is refused) */
int lpeft_os_read_file(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer max = luaL_optinteger(L, 2, LPEFT_READ_MAX_DEFAULT);
  lua_settop(L, 2);
  struct stat st;
  /* the common case (an adapter_config.json is a few KiB): open, fstat, one
   * read into the stack, close; nothing can raise while the descriptor is
   * open. A file that turns out larger is read again the general way. */
  {
    char small[SMALL_FILE];
    int fd = open_regular(L, path, &st);
    if (fd < 0) return 3;
    if ((lua_Integer)st.st_size > max) {
      close(fd);
      return too_big(L, path, (lua_Integer)st.st_size, max);
    }
    ssize_t r = 0;
    if (st.st_size < SMALL_FILE) {
      do {
        r = read(fd, small, sizeof small);
      } while (r < 0 && errno == EINTR);
    } else {
      r = (ssize_t)sizeof small; /* the general way */
    }
    int e = r < 0 ? errno : 0;
    close(fd);
    if (e != 0) return fail_errno(L, "cannot read", path, e);
    if ((size_t)r < sizeof small) {
      if ((lua_Integer)r > max) return too_big(L, path, (lua_Integer)r, max);
      lua_pushlstring(L, small, (size_t)r);
      return 1;
    }
  }
  box *bx = box_new(L); /* owns the read buffer; made before the descriptor is */
  int fd = open_regular(L, path, &st);
  if (fd < 0) return 3;
  if ((lua_Integer)st.st_size > max) {
    close(fd);
    return too_big(L, path, (lua_Integer)st.st_size, max);
  }
  size_t cap = (size_t)st.st_size + 1;
  size_t n = 0;
  int e = 0, grew_too_big = 0;
  bx->p = malloc(cap);
  if (bx->p == NULL) e = ENOMEM;
  while (e == 0) {
    if (n == cap) {
      if ((lua_Integer)n > max) {
        grew_too_big = 1;
        break;
      }
      char *nb = realloc(bx->p, cap * 2);
      if (nb == NULL) {
        e = ENOMEM;
        break;
      }
      bx->p = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, (char *)bx->p + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      e = errno;
      break;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (e == ENOMEM) return luaL_error(L, "not enough memory");
  if (e != 0) return fail_errno(L, "cannot read", path, e);
  if (grew_too_big || (lua_Integer)n > max) {
    lua_pushnil(L);
    lua_pushfstring(L, "cannot read %s: larger than the limit of %I bytes", path, max);
    lua_pushinteger(L, EFBIG);
    return 3;
  }
  lua_pushlstring(L, bx->p, n);
  return 1;
}

int lpeft_os_mkdir_p(lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  if (len == 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "cannot create directory: empty path");
    return 2;
  }
  char *p = lua_newuserdatauv(L, len + 1, 0); /* scratch copy, freed by GC */
  memcpy(p, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (p[i] == '/' || p[i] == '\0') {
      char c = p[i];
      p[i] = '\0';
      if (mkdir(p, 0777) != 0 && errno != EEXIST) return fail_errno(L, "cannot create directory", p, errno);
      struct stat st;
      if (stat(p, &st) != 0) return fail_errno(L, "cannot create directory", p, errno);
      if (!S_ISDIR(st.st_mode)) return fail_errno(L, "cannot create directory", p, ENOTDIR);
      p[i] = c;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* The temporary files of a save are named ".NAME.peft-tmp.PID.RANDOM" beside
 * the target (the random part from getrandom, so that nobody can create them
 * in advance). A save first removes the ones whose process is gone (a save
 * killed before its rename), and those of the older ".NAME.tmpPID.N" form. */
#define TMP_TAG ".peft-tmp."

static int pid_gone(long pid) {
  return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static void remove_stale_temps(const char *dir, const char *base) {
  DIR *d = opendir(dir);
  if (d == NULL) return;
  size_t blen = strlen(base);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    if (n[0] != '.' || strncmp(n + 1, base, blen) != 0) continue;
    const char *rest = n + 1 + blen;
    char *end = NULL;
    long pid = -1;
    if (strncmp(rest, TMP_TAG, sizeof TMP_TAG - 1) == 0) {
      pid = strtol(rest + sizeof TMP_TAG - 1, &end, 10);
      if (end == NULL || *end != '.') continue;
    } else if (strncmp(rest, ".tmp", 4) == 0) {
      pid = strtol(rest + 4, &end, 10);
      if (end == NULL || *end != '.') continue;
    } else {
      continue;
    }
    if (!pid_gone(pid)) continue;
    size_t dl = strlen(dir), nl = strlen(n);
    char *full = malloc(dl + nl + 2);
    if (full == NULL) break;
    memcpy(full, dir, dl);
    full[dl] = '/';
    memcpy(full + dl + 1, n, nl + 1);
    unlink(full);
    free(full);
  }
  closedir(d);
}

static uint64_t random64(void) {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    v = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)&v;
  }
  return v;
}

static int write_all(int fd, const char *data, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    off += (size_t)w;
  }
  return 0;
}

/* Appends length bytes of the file src, from offset, to fd. */
static int copy_range(int fd, const char *src, uint64_t offset, uint64_t length) {
  int in = open(src, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (in < 0) return errno;
  char buf[65536];
  int e = 0;
  while (length > 0 && e == 0) {
    size_t want = length < sizeof buf ? (size_t)length : sizeof buf;
    ssize_t r = pread(in, buf, want, (off_t)offset);
    if (r < 0) {
      if (errno == EINTR) continue;
      e = errno;
    } else if (r == 0) {
      e = EPIPE; /* the source ended early */
    } else {
      e = write_all(fd, buf, (size_t)r);
      offset += (uint64_t)r;
      length -= (uint64_t)r;
    }
  }
  close(in);
  return e;
}

/* write_atomic(path, data [, src, offset, length]) -> true | nil, message, errno
 * Writes data (then, with src, length bytes of the file src from offset) to a
 * new file beside path, flushes it to disk, gives it the mode of the file it
 * replaces, then renames it over path. Whatever fails, path keeps its old
 * content and the temporary file is removed. In a test build (compiled with
 * PEFT_FAULT_INJECTION: build/peft-faults) the variable PEFT_FAULT_BEFORE_RENAME
 * makes the write stop just before the rename, to prove that an interrupted
 * save loses nothing; release builds ignore it. */
int lpeft_os_write_atomic(lua_State *L) {
  size_t plen, dlen;
  const char *path = luaL_checklstring(L, 1, &plen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  const char *src = luaL_optstring(L, 3, NULL);
  lua_Integer offset = luaL_optinteger(L, 4, 0);
  lua_Integer length = luaL_optinteger(L, 5, 0);
  luaL_argcheck(L, offset >= 0, 4, "negative offset");
  luaL_argcheck(L, length >= 0, 5, "negative length");
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  /* the directory, for the clean-up of stale temporary files */
  if (slash) lua_pushlstring(L, path, (size_t)(slash - path) + (slash == path ? 1 : 0));
  else lua_pushliteral(L, ".");
  const char *dir = lua_tostring(L, -1);
  if (dir == NULL) return luaL_error(L, "not enough memory");
  remove_stale_temps(dir, base);
  struct stat old;
  int have_old = stat(path, &old) == 0 && S_ISREG(old.st_mode);
  char *tmp = NULL;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
    luaL_Buffer tb;
    luaL_buffinit(L, &tb);
    if (slash) luaL_addlstring(&tb, path, (size_t)(slash - path + 1));
    luaL_addchar(&tb, '.');
    luaL_addstring(&tb, base);
    char suffix[64];
    snprintf(suffix, sizeof suffix, TMP_TAG "%ld.%016llx", (long)getpid(), (unsigned long long)random64());
    luaL_addstring(&tb, suffix);
    luaL_pushresult(&tb);
    tmp = (char *)lua_tostring(L, -1);
    if (tmp == NULL) return luaL_error(L, "not enough memory");
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
      if (errno != EEXIST) return fail_errno(L, "cannot create a temporary file for", path, errno);
      lua_pop(L, 1);
    }
  }
  if (fd < 0) return fail_errno(L, "cannot create a temporary file for", path, EEXIST);
  /* tmp is the string on top of the stack; nothing below can raise until the
   * descriptor is closed. */
  int e = write_all(fd, data, dlen);
  if (e == 0 && src != NULL) e = copy_range(fd, src, (uint64_t)offset, (uint64_t)length);
  if (e == 0 && have_old && fchmod(fd, old.st_mode & 07777) != 0) e = errno;
  if (e == 0 && fsync(fd) != 0) e = errno;
  if (close(fd) != 0 && e == 0) e = errno;
#ifdef PEFT_FAULT_INJECTION
  if (e == 0 && getenv("PEFT_FAULT_BEFORE_RENAME") != NULL) {
    /* simulate a crash between the write and the rename: the temporary file
     * stays behind, the target is untouched */
    lua_pushnil(L);
    lua_pushfstring(L, "cannot write %s: interrupted before rename (PEFT_FAULT_BEFORE_RENAME)", path);
    lua_pushinteger(L, EINTR);
    return 3;
  }
#endif
  if (e == 0 && rename(tmp, path) != 0) e = errno;
  if (e != 0) {
    unlink(tmp);
    if (e == EPIPE) {
      lua_pushnil(L);
      lua_pushfstring(L, "cannot write %s: %s ended before the %I bytes to copy", path, src, length);
      lua_pushinteger(L, EIO);
      return 3;
    }
    return fail_errno(L, "cannot write", path, e);
  }
  lua_pushboolean(L, 1);
  return 1;
}

int lpeft_os_isatty(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  lua_pushboolean(L, fd >= 0 && fd <= 1024 && isatty((int)fd));
  return 1;
}

/* printable(s [, keep_lines]) -> s with control characters escaped (see
 * peft_text.h); the same string when there is nothing to escape */
int lpeft_os_printable(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int keep = lua_toboolean(L, 2);
  if (peft_is_printable(s, len, keep)) {
    lua_settop(L, 1);
    return 1;
  }
  size_t n = peft_printable(s, len, NULL, keep);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, n);
  peft_printable(s, len, out, keep);
  luaL_pushresultsize(&b, n);
  return 1;
}

int lpeft_os_term_columns(lua_State *L) {
  lua_Integer fd = luaL_optinteger(L, 1, 1);
  struct winsize ws;
  if (fd >= 0 && fd <= 1024 && ioctl((int)fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    lua_pushinteger(L, ws.ws_col);
    return 1;
  }
  return 0;
}

/* --- directory listings and walks ------------------------------------------ */

/* The sorted entries of a directory in one malloc'd block (names and their
 * types), owned by a userdata so that the memory stays compact (a few bytes
 * per entry, not a Lua string and two table slots) and goes with it. */
typedef struct listing {
  char *block;      /* entry i: type byte, name, NUL */
  size_t *offsets;  /* start of each entry in block, sorted by name */
  size_t n, next;
} listing;

static void listing_free(listing *ls) {
  free(ls->block);
  free(ls->offsets);
  ls->block = NULL;
  ls->offsets = NULL;
  ls->n = ls->next = 0;
}

static int listing_gc(lua_State *L) {
  listing_free(luaL_checkudata(L, 1, "peft.os.listing"));
  return 0;
}

static int offset_cmp(const void *a, const void *b, void *block) {
  const char *blk = block;
  return strcmp(blk + *(const size_t *)a + 1, blk + *(const size_t *)b + 1);
}

/* A name's first 8 bytes as a big-endian number (zeros past its end): keys
 * in the order strcmp gives the names, but for names alike in those bytes. */
typedef struct sort_key {
  uint64_t head;
  size_t off;
} sort_key;

static int key_less(const sort_key *a, const sort_key *b, const char *blk) {
  if (a->head != b->head) return a->head < b->head;
  /* alike in 8 bytes: two names of 8 bytes or more, compared on from there;
   * or one shorter name twice (a directory lists none, but nothing is read
   * past a name's end even then) */
  if ((a->head & 0xff) == 0) return 0;
  return strcmp(blk + a->off + 1 + 8, blk + b->off + 1 + 8) < 0;
}

/* Sorts ls's offsets by name: a merge sort on the keys above (a large
 * directory sorts in a fraction of qsort's time: most comparisons are one
 * integer comparison, inline). Returns ENOMEM when the keys cannot be had
 * (the caller sorts with qsort then). */
static int sort_by_name(listing *ls) {
  size_t n = ls->n;
  if (n > ((size_t)-1) / (2 * sizeof(sort_key))) return ENOMEM;
  sort_key *k = malloc(2 * n * sizeof *k);
  if (k == NULL) return ENOMEM;
  sort_key *tmp = k + n;
  for (size_t i = 0; i < n; i++) {
    const unsigned char *name = (const unsigned char *)ls->block + ls->offsets[i] + 1;
    uint64_t h = 0;
    int j = 0;
    for (; j < 8 && name[j]; j++) h = (h << 8) | name[j];
    h <<= 8 * (8 - j);
    k[i].head = h;
    k[i].off = ls->offsets[i];
  }
  /* bottom-up: runs of 1, 2, 4, ... merged from k into tmp, then swapped */
  sort_key *src = k, *dst = tmp;
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      size_t mid = lo + width < n ? lo + width : n;
      size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      size_t a = lo, b = mid, o = lo;
      while (a < mid && b < hi) dst[o++] = key_less(&src[b], &src[a], ls->block) ? src[b++] : src[a++];
      while (a < mid) dst[o++] = src[a++];
      while (b < hi) dst[o++] = src[b++];
    }
    sort_key *t = src;
    src = dst;
    dst = t;
  }
  for (size_t i = 0; i < n; i++) ls->offsets[i] = src[i].off;
  free(k);
  return 0;
}

/* Reads a directory's entries, sorted by name, into ls (which must be
 * empty). Returns 0, minus the errno value when the directory cannot be
 * opened, or the errno value of a failed read (ENOMEM when an allocation
 * failed); on failure ls holds nothing. Linux: the entries come straight from
 * getdents64 into a stack buffer (opendir would malloc a buffer per
 * directory, which fragments the heap over a walk of many directories).
 * No Lua here, so nothing raises while the descriptor is open. */
/* What a large directory's block of names and its offsets grow to at once. */
#define LISTING_LARGE (256 * 1024)

static int listing_fill(listing *ls, const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t used = 0, cap = 0, ncap = 0;
  int e = 0;
  char buf[16384] __attribute__((aligned(8)));
  while (e == 0) {
    long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      e = errno;
      break;
    }
    if (got == 0) break;
    for (long off = 0; off < got;) {
      struct linux_dirent64 {
        unsigned long long d_ino;
        long long d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
      } *de = (struct linux_dirent64 *)(buf + off);
      off += de->d_reclen;
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      size_t len = strlen(de->d_name) + 2; /* type byte and NUL */
      if (used + len > cap) {
        /* the first block is sized to what this read returned; a directory
         * that needs more is large, and its block goes to LISTING_LARGE at
         * once: a block that size is mapped on its own, so it grows without
         * being copied and its pages are touched only as they are filled (a
         * page fault is the dearest part of listing a large directory) */
        size_t nc = cap ? cap * 2 : (size_t)got;
        if (cap && nc < LISTING_LARGE) nc = LISTING_LARGE;
        while (nc < used + len) nc *= 2;
        char *nb = realloc(ls->block, nc);
        if (nb == NULL) { e = ENOMEM; break; }
        ls->block = nb;
        cap = nc;
      }
      if (ls->n == ncap) {
        size_t nc = ncap ? ncap * 2 : 16;
        if (nc > 2048 && nc * sizeof *ls->offsets < LISTING_LARGE) nc = LISTING_LARGE / sizeof *ls->offsets;
        size_t *no = realloc(ls->offsets, nc * sizeof *no);
        if (no == NULL) { e = ENOMEM; break; }
        ls->offsets = no;
        ncap = nc;
      }
      ls->block[used] = (char)de->d_type;
      memcpy(ls->block + used + 1, de->d_name, len - 1);
      ls->offsets[ls->n++] = used;
      used += len;
    }
  }
  close(fd);
  if (e != 0) {
    listing_free(ls);
    return e;
  }
  if (ls->n > 1 && sort_by_name(ls) != 0) qsort_r(ls->offsets, ls->n, sizeof *ls->offsets, offset_cmp, ls->block);
  return 0;
}

/* Reads a directory's entries into a new listing userdata left on the
 * stack. Returns it, or NULL with nil, message pushed. */
static listing *read_listing(lua_State *L, const char *path) {
  listing *ls = lpeft_udata_new(L, sizeof *ls, 0, "peft.os.listing", listing_gc, 0);
  int e = listing_fill(ls, path);
  if (e == ENOMEM) luaL_error(L, "not enough memory");
  if (e != 0) {
    fail_errno(L, e < 0 ? "cannot open directory" : "cannot read directory", path, e < 0 ? -e : e);
    return NULL;
  }
  return ls;
}

/* A walk over a directory tree for the files of one name: a stack of
 * listings (one per directory being visited) and the current path. The
 * userdata owns every block, so an error raised between two steps loses
 * nothing; a directory's listing is freed as soon as its last entry has
 * been visited. */
typedef struct walker {
  listing *levels;
  size_t *prefix; /* path length (with its trailing '/') at each level */
  size_t depth, cap;
  char *path;
  size_t pathcap;
} walker;

static void walker_free(walker *w) {
  for (size_t i = 0; i < w->depth; i++) listing_free(&w->levels[i]);
  free(w->levels);
  free(w->prefix);
  free(w->path);
  memset(w, 0, sizeof *w);
}

static int walker_gc(lua_State *L) {
  walker_free(luaL_checkudata(L, 1, "peft.os.walker"));
  return 0;
}

/* Makes room for len more bytes of path (and a NUL) past used. */
static int walker_reserve(walker *w, size_t used, size_t len) {
  if (used + len + 1 <= w->pathcap) return 0;
  size_t nc = w->pathcap ? w->pathcap * 2 : 256;
  while (nc < used + len + 1) nc *= 2;
  char *np = realloc(w->path, nc);
  if (np == NULL) return ENOMEM;
  w->path = np;
  w->pathcap = nc;
  return 0;
}

/* Enters the directory whose path is w->path[0..len): lists it and pushes
 * a level. Returns 0, ENOMEM, or what listing_fill returns (the walk reports
 * the directory and goes on). */
static int walker_enter(walker *w, size_t len) {
  if (w->depth == w->cap) {
    size_t nc = w->cap ? w->cap * 2 : 8;
    listing *nl = realloc(w->levels, nc * sizeof *nl);
    if (nl == NULL) return ENOMEM;
    w->levels = nl;
    size_t *np = realloc(w->prefix, nc * sizeof *np);
    if (np == NULL) return ENOMEM;
    w->prefix = np;
    w->cap = nc;
  }
  listing *ls = &w->levels[w->depth];
  memset(ls, 0, sizeof *ls);
  int e = listing_fill(ls, w->path);
  if (e != 0) return e;
  if (walker_reserve(w, len, 1) != 0) {
    listing_free(ls);
    return ENOMEM;
  }
  w->path[len] = '/';
  w->prefix[w->depth++] = len + 1;
  return 0;
}

/* The iterator: the next entry called name, in sorted depth-first order:
 * path, true for a regular file (or a symbolic link to one); path, false
 * for anything else of that name (a FIFO, a device, a dangling link), which
 * the caller refuses when it reads it; path, false, message for a directory
 * that cannot be read (no permission, a path longer than PATH_MAX), as find
 * reports it; or nothing at the end. */
static int walker_next(lua_State *L) {
  walker *w = lua_touserdata(L, lua_upvalueindex(1));
  size_t nlen;
  const char *name = lua_tolstring(L, lua_upvalueindex(2), &nlen);
  if (name == NULL) return 0; /* (walk_files made it a string) */
  while (w->depth > 0) {
    listing *ls = &w->levels[w->depth - 1];
    if (ls->next >= ls->n) {
      listing_free(ls);
      w->depth--;
      continue;
    }
    const char *e = ls->block + ls->offsets[ls->next++];
    unsigned char t = (unsigned char)e[0];
    const char *entry = e + 1;
    size_t elen = strlen(entry), at = w->prefix[w->depth - 1];
    if (walker_reserve(w, at, elen) != 0) return luaL_error(L, "not enough memory");
    memcpy(w->path + at, entry, elen + 1);
    int is_dir = t == DT_DIR, is_file = t == DT_REG;
    struct stat st;
    if (t == DT_UNKNOWN && lstat(w->path, &st) == 0) { /* the file system did not say */
      is_dir = S_ISDIR(st.st_mode);
      is_file = S_ISREG(st.st_mode);
      if (S_ISLNK(st.st_mode)) t = DT_LNK;
    }
    /* a link counts as what it leads to, except that links to directories
     * are not followed (no cycles): a Hub cache snapshot's files are links */
    if (t == DT_LNK && stat(w->path, &st) == 0) is_file = S_ISREG(st.st_mode);
    if (is_dir) {
      int err = walker_enter(w, at + elen);
      if (err == ENOMEM) return luaL_error(L, "not enough memory");
      if (err != 0) {
        lua_pushlstring(L, w->path, at + elen);
        lua_pushboolean(L, 0);
        lua_pushfstring(L, "%s %s: %s", err < 0 ? "cannot open directory" : "cannot read directory",
                        lua_tostring(L, -2), strerror(err < 0 ? -err : err));
        return 3;
      }
    } else if (elen == nlen && memcmp(entry, name, nlen) == 0) {
      lua_pushlstring(L, w->path, at + elen);
      lua_pushboolean(L, is_file);
      return 2;
    }
  }
  return 0;
}

/* beside(name) -> whether the directory of the file the walk last gave holds
 * an entry called name (a link: one that leads somewhere): read from the
 * listing the walk holds, without a system call. */
static int walker_beside(lua_State *L) {
  walker *w = lua_touserdata(L, lua_upvalueindex(1));
  size_t nlen;
  const char *name = luaL_checklstring(L, 1, &nlen);
  if (w->depth == 0 || memchr(name, '\0', nlen) != NULL) {
    lua_pushboolean(L, 0);
    return 1;
  }
  const listing *ls = &w->levels[w->depth - 1];
  size_t lo = 0, hi = ls->n;
  while (lo < hi) { /* the listing is sorted by name */
    size_t mid = lo + (hi - lo) / 2;
    const char *e = ls->block + ls->offsets[mid];
    int c = strcmp(name, e + 1);
    if (c == 0) {
      int found = 1;
      if ((unsigned char)e[0] == DT_LNK || (unsigned char)e[0] == DT_UNKNOWN) {
        size_t at = w->prefix[w->depth - 1];
        if (walker_reserve(w, at, nlen) != 0) return luaL_error(L, "not enough memory");
        memcpy(w->path + at, name, nlen + 1);
        struct stat st;
        found = stat(w->path, &st) == 0;
      }
      lua_pushboolean(L, found);
      return 1;
    }
    if (c < 0) hi = mid;
    else lo = mid + 1;
  }
  lua_pushboolean(L, 0);
  return 1;
}

/* walk_files(dir, name) -> iterator over what is called name under dir
 * (see walker_next), beside (see walker_beside) | nil, message when dir
 * itself cannot be read */
int lpeft_os_walk_files(lua_State *L) {
  size_t dlen;
  const char *dir = luaL_checklstring(L, 1, &dlen);
  luaL_checkstring(L, 2);
  lua_settop(L, 2);
  walker *w = lpeft_udata_new(L, sizeof *w, 0, "peft.os.walker", walker_gc, 0);
  while (dlen > 1 && dir[dlen - 1] == '/') dlen--; /* "dir/" and "dir" alike */
  if (walker_reserve(w, 0, dlen) != 0) return luaL_error(L, "not enough memory");
  memcpy(w->path, dir, dlen);
  w->path[dlen] = '\0';
  size_t base = dlen == 1 && dir[0] == '/' ? 0 : dlen; /* "/" lists as "" + "/" */
  int e = walker_enter(w, base);
  if (e == ENOMEM) return luaL_error(L, "not enough memory");
  if (e != 0) return fail_errno(L, e < 0 ? "cannot open directory" : "cannot read directory", dir, e < 0 ? -e : e);
  lua_pushvalue(L, 3);
  lua_pushcclosure(L, walker_beside, 1); /* 4 */
  lua_pushvalue(L, 3);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, walker_next, 2); /* 5 */
  lua_insert(L, 4);
  return 2;
}

/* listdir(path) -> names, kinds (sorted; kinds[i] false where unknown) |
 * nil, message */
int lpeft_os_listdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_settop(L, 1);
  listing *ls = read_listing(L, path);
  if (ls == NULL) return 3;
  int cap = ls->n > 0x7fffffff ? 0x7fffffff : (int)ls->n;
  lua_createtable(L, cap, 0);
  lua_createtable(L, cap, 0);
  for (size_t i = 0; i < ls->n; i++) {
    const char *e = ls->block + ls->offsets[i];
    lua_pushstring(L, e + 1);
    lua_rawseti(L, -3, (lua_Integer)i + 1);
    const char *k = type_name((unsigned char)e[0]);
    if (k) lua_pushstring(L, k);
    else lua_pushboolean(L, 0);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  listing_free(ls); /* copied out: no need to wait for the collector */
  return 2;
}
