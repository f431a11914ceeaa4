/* peft_safetensors.c - safetensors header reader (see peft_safetensors.h). */
#define _POSIX_C_SOURCE 200809L
#include "peft_safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "peft_json.h"

static const struct {
  const char *name;
  unsigned bits;
} dtypes[] = {
  {"BOOL", 8}, {"U8", 8}, {"I8", 8}, {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8},
  {"I16", 16}, {"U16", 16}, {"F16", 16}, {"BF16", 16},
  {"I32", 32}, {"U32", 32}, {"F32", 32},
  {"I64", 64}, {"U64", 64}, {"F64", 64}, {"C64", 64},
  {"F4", 4}, {"F6_E2M3", 6}, {"F6_E3M2", 6},
};

unsigned peft_st_dtype_bits(const char *dtype) {
  for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
    if (strcmp(dtypes[i].name, dtype) == 0) return dtypes[i].bits;
  return 0;
}

static const char *dtype_static(const char *dtype) {
  for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
    if (strcmp(dtypes[i].name, dtype) == 0) return dtypes[i].name;
  return NULL;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(peft_error *err, peft_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  peft_error_vset(err, status, fmt, ap);
  va_end(ap);
  return -1;
}

void peft_st_free(peft_st_header *h) {
  if (h == NULL) return;
  for (size_t i = 0; i < h->ntensors; i++) free(h->tensors[i].name);
  free(h->tensors);
  for (size_t i = 0; i < h->nmeta; i++) {
    free(h->meta[i].key);
    free(h->meta[i].value);
  }
  free(h->meta);
  for (size_t i = 0; i < h->nshards; i++) free(h->shards[i]);
  free(h->shards);
  memset(h, 0, sizeof *h);
}

static char *dupn(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d != NULL) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

/* The checks of a tensor once its entry has been read: every field there,
 * and sizes that agree (shape, dtype, data_offsets). ndim may exceed
 * PEFT_ST_MAX_DIMS (counted, not stored); noffsets is how many offsets the
 * entry listed. */
static int finish_tensor(peft_st_tensor *t, int have_dtype, int have_shape, size_t ndim, size_t noffsets,
                         peft_error *err) {
  const char *name = t->name;
  if (!have_dtype) return fail(err, PEFT_EVALUE, "tensor '%.200s': 'dtype' must be a string", name);
  if (!have_shape)
    return fail(err, PEFT_EVALUE, "tensor '%.200s': 'shape' must be a list of non-negative integers", name);
  if (ndim > PEFT_ST_MAX_DIMS)
    return fail(err, PEFT_EVALUE, "tensor '%.200s': %zu dimensions, more than %d", name, ndim, PEFT_ST_MAX_DIMS);
  t->ndim = ndim;
  uint64_t n = 1;
  int overflow = 0;
  for (size_t i = 0; i < t->ndim; i++) {
    uint64_t d = t->shape[i];
    if (d != 0 && n > UINT64_MAX / d) overflow = 1;
    n *= d;
  }
  if (overflow) {
    /* a zero dimension makes the product 0 however large the others are */
    int zero = 0;
    for (size_t i = 0; i < t->ndim; i++) zero |= t->shape[i] == 0;
    if (!zero)
      return fail(err, PEFT_EVALUE, "tensor '%.200s': the shape has more elements than fit in 64 bits", name);
    n = 0;
  }
  t->nelems = n;
  if (noffsets != 2)
    return fail(err, PEFT_EVALUE, "tensor '%.200s': 'data_offsets' must be [begin, end] (non-negative integers)",
                name);
  if (t->begin > t->end)
    return fail(err, PEFT_EVALUE, "tensor '%.200s': data_offsets begin %llu is after end %llu", name,
                (unsigned long long)t->begin, (unsigned long long)t->end);
  /* bytes = nelems * bits / 8, exactly */
  if (n > UINT64_MAX / t->dtype_bits)
    return fail(err, PEFT_EVALUE, "tensor '%.200s': the tensor's size in bytes does not fit in 64 bits", name);
  uint64_t bits = n * t->dtype_bits;
  if (bits % 8 != 0)
    return fail(err, PEFT_EVALUE, "tensor '%.200s': %llu elements of %s do not fill whole bytes", name,
                (unsigned long long)n, t->dtype);
  uint64_t bytes = bits / 8;
  if (t->end - t->begin != bytes)
    return fail(err, PEFT_EVALUE,
                "tensor '%.200s': data_offsets span %llu bytes but %llu elements of %s take %llu bytes", name,
                (unsigned long long)(t->end - t->begin), (unsigned long long)n, t->dtype,
                (unsigned long long)bytes);
  return 0;
}

static int cmp_offsets(const void *a, const void *b) {
  const peft_st_tensor *x = *(peft_st_tensor *const *)a, *y = *(peft_st_tensor *const *)b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp((*(peft_st_tensor *const *)a)->name, (*(peft_st_tensor *const *)b)->name);
}

/* Checks order, overlap and coverage of the data region, and unique names. */
static int check_layout(peft_st_header *h, peft_error *err) {
  if (h->ntensors == 0) {
    if (h->data_size != 0)
      return fail(err, PEFT_EVALUE, "the data region has %llu bytes but the header lists no tensor",
                  (unsigned long long)h->data_size);
    return 0;
  }
  peft_st_tensor **order = malloc(h->ntensors * sizeof *order);
  if (order == NULL) return fail(err, PEFT_ENOMEM, "out of memory");
  for (size_t i = 0; i < h->ntensors; i++) order[i] = &h->tensors[i];
  qsort(order, h->ntensors, sizeof *order, cmp_names);
  for (size_t i = 1; i < h->ntensors; i++) {
    if (strcmp(order[i - 1]->name, order[i]->name) == 0) {
      fail(err, PEFT_EVALUE, "tensor '%.200s' is listed twice", order[i]->name);
      free(order);
      return -1;
    }
  }
  qsort(order, h->ntensors, sizeof *order, cmp_offsets);
  uint64_t pos = 0;
  int rc = 0;
  for (size_t i = 0; i < h->ntensors && rc == 0; i++) {
    const peft_st_tensor *t = order[i];
    if (t->end > h->data_size) {
      rc = fail(err, PEFT_EVALUE, "tensor '%.200s': data_offsets end %llu is past the data region (%llu bytes)",
                t->name, (unsigned long long)t->end, (unsigned long long)h->data_size);
    } else if (t->begin < pos) {
      rc = fail(err, PEFT_EVALUE, "tensor '%.200s' (bytes %llu-%llu) overlaps tensor '%.200s' (ending at %llu)",
                t->name, (unsigned long long)t->begin, (unsigned long long)t->end, order[i - 1]->name,
                (unsigned long long)pos);
    } else if (t->begin > pos) {
      rc = fail(err, PEFT_EVALUE, "a gap of %llu bytes before tensor '%.200s' (bytes %llu-%llu is not covered)",
                (unsigned long long)(t->begin - pos), t->name, (unsigned long long)pos,
                (unsigned long long)t->begin);
    } else {
      pos = t->end;
    }
  }
  if (rc == 0 && pos != h->data_size)
    rc = fail(err, PEFT_EVALUE, "%llu bytes at the end of the data region belong to no tensor",
              (unsigned long long)(h->data_size - pos));
  free(order);
  return rc;
}

/* --- the header, read as it is parsed ------------------------------------
 *
 * The JSON parser's events fill the header directly: no tree is built, so
 * the memory a header takes is bounded by what it validly describes (a
 * shape of more than PEFT_ST_MAX_DIMS dimensions is counted, not stored; a
 * field the format does not know is passed over, as the reference
 * implementation ignores it), and the first problem stops the read. */

enum { FIELD_NONE, FIELD_DTYPE, FIELD_SHAPE, FIELD_OFFSETS, FIELD_OTHER };

typedef struct st_reader {
  peft_st_header *h;
  peft_error *err;
  int failed;        /* err holds the problem (a semantic one, not JSON's) */
  size_t cap, meta_cap;
  int depth;         /* containers open */
  int skip;          /* > 0: the depth of a container being passed over */
  int in_meta;       /* the root member being read is __metadata__ */
  int meta_seen;
  peft_st_tensor *t; /* the tensor whose entry is being read */
  int field;         /* the field of that entry being read */
  int have_dtype, have_shape, have_offsets;
  size_t nitems;     /* items of the shape or data_offsets list being read */
  size_t ndim, noffsets;
  char *key;         /* the metadata key whose value comes next */
} st_reader;

static const char ST_STOP[] = "(the header)"; /* the reader's own error is in err */

static const char *st_fail(st_reader *r, const char *fmt, ...) {
  if (r->err) {
    va_list ap;
    va_start(ap, fmt);
    peft_error_vset(r->err, PEFT_EVALUE, fmt, ap);
    va_end(ap);
  }
  r->failed = 1;
  return ST_STOP;
}

static const char *st_oom(st_reader *r) {
  if (r->err) peft_error_set(r->err, PEFT_ENOMEM, "out of memory");
  r->failed = 1;
  return ST_STOP;
}

/* A value of the wrong kind where a field wants another. */
static const char *wrong_kind(st_reader *r, const char *got) {
  if (r->depth == 1) {
    if (r->in_meta) return st_fail(r, "'__metadata__' must be an object of strings, got %s", got);
    return st_fail(r, "tensor '%.200s': expected an object, got %s", r->t->name, got);
  }
  if (r->depth == 2 && r->in_meta)
    return st_fail(r, "'__metadata__' value of '%.200s' must be a string, got %s", r->key, got);
  const char *name = r->t->name;
  switch (r->field) {
    case FIELD_DTYPE: return st_fail(r, "tensor '%.200s': 'dtype' must be a string", name);
    case FIELD_SHAPE:
      if (r->depth == 3) return st_fail(r, "tensor '%.200s': shape[%zu] must be a non-negative integer", name, r->nitems);
      return st_fail(r, "tensor '%.200s': 'shape' must be a list of non-negative integers", name);
    default:
      return st_fail(r, "tensor '%.200s': 'data_offsets' must be [begin, end] (non-negative integers)", name);
  }
}

/* Whether the value now read is passed over (inside an unknown field). */
static int passed_over(const st_reader *r) {
  return r->skip > 0 || (r->depth == 2 && !r->in_meta && r->field == FIELD_OTHER);
}

static const char *st_begin(void *ud, int is_object) {
  st_reader *r = ud;
  if (r->skip == 0 && r->depth == 2 && !r->in_meta && r->field == FIELD_OTHER) r->skip = r->depth + 1;
  if (r->skip > 0) {
    r->depth++;
    return NULL;
  }
  const char *got = is_object ? "an object" : "a list";
  if (r->depth == 0 && !is_object) return st_fail(r, "the header is not a JSON object");
  if (r->depth == 1 && !is_object) return wrong_kind(r, got);
  if (r->depth == 2) {
    if (r->in_meta || is_object) return wrong_kind(r, got);
    if (r->field == FIELD_DTYPE) return wrong_kind(r, got);
    r->nitems = 0;
  }
  if (r->depth == 3) return wrong_kind(r, got);
  r->depth++;
  return NULL;
}

static const char *st_end(void *ud, int is_object, size_t count) {
  st_reader *r = ud;
  (void)is_object;
  (void)count;
  r->depth--;
  if (r->skip > 0) {
    if (r->depth < r->skip) r->skip = 0;
    return NULL;
  }
  if (r->depth == 2) { /* a shape or data_offsets list */
    if (r->field == FIELD_SHAPE) {
      r->have_shape = 1;
      r->ndim = r->nitems;
    } else {
      r->have_offsets = 1;
      r->noffsets = r->nitems;
    }
  } else if (r->depth == 1 && !r->in_meta) { /* a tensor's entry */
    if (finish_tensor(r->t, r->have_dtype, r->have_shape, r->ndim, r->have_offsets ? r->noffsets : 0, r->err) != 0) {
      r->failed = 1;
      return ST_STOP;
    }
  }
  return NULL;
}

static const char *st_member(void *ud, int is_object, size_t index) {
  st_reader *r = ud;
  (void)is_object;
  (void)index;
  if (r->skip > 0) return NULL;
  if (r->depth == 1) { /* a root member read */
    r->in_meta = 0;
    r->t = NULL;
  } else if (r->depth == 2) {
    r->field = FIELD_NONE;
  }
  return NULL;
}

static char *decoded(const peft_json_string *s) {
  char *d = malloc(s->len + 1);
  if (d == NULL) return NULL;
  if (s->escaped) peft_json_unescape(s, d);
  else memcpy(d, s->raw, s->len);
  d[s->len] = '\0';
  return d;
}

static const char *root_key(st_reader *r, const peft_json_string *s) {
  peft_st_header *h = r->h;
  if (s->len == 12 && memcmp(s->raw, "__metadata__", 12) == 0) {
    if (r->meta_seen++) return st_fail(r, "'__metadata__' appears twice");
    r->in_meta = 1;
    return NULL;
  }
  if (h->ntensors == r->cap) {
    size_t nc = r->cap ? r->cap * 2 : 16;
    peft_st_tensor *nt = realloc(h->tensors, nc * sizeof *nt);
    if (nt == NULL) return st_oom(r);
    h->tensors = nt;
    r->cap = nc;
  }
  peft_st_tensor *t = &h->tensors[h->ntensors];
  memset(t, 0, sizeof *t);
  t->name = decoded(s);
  if (t->name == NULL) return st_oom(r);
  h->ntensors++;
  r->t = t;
  r->have_dtype = r->have_shape = r->have_offsets = 0;
  r->ndim = r->noffsets = 0;
  return NULL;
}

static const char *tensor_key(st_reader *r, const peft_json_string *s) {
  static const struct {
    const char *name;
    int field;
  } fields[] = {{"dtype", FIELD_DTYPE}, {"shape", FIELD_SHAPE}, {"data_offsets", FIELD_OFFSETS}};
  r->field = FIELD_OTHER;
  for (size_t i = 0; i < 3; i++) {
    if (s->escaped || s->len != strlen(fields[i].name) || memcmp(s->raw, fields[i].name, s->len) != 0) continue;
    int seen = fields[i].field == FIELD_DTYPE ? r->have_dtype
             : fields[i].field == FIELD_SHAPE ? r->have_shape : r->have_offsets;
    if (seen) return st_fail(r, "tensor '%.200s': '%s' appears twice", r->t->name, fields[i].name);
    r->field = fields[i].field;
  }
  return NULL;
}

static const char *add_meta(st_reader *r, const peft_json_string *s) {
  peft_st_header *h = r->h;
  if (h->nmeta == r->meta_cap) {
    size_t nc = r->meta_cap ? r->meta_cap * 2 : 4;
    peft_st_meta *nm = realloc(h->meta, nc * sizeof *nm);
    if (nm == NULL) return st_oom(r);
    h->meta = nm;
    r->meta_cap = nc;
  }
  char *value = decoded(s);
  if (value == NULL) return st_oom(r);
  h->meta[h->nmeta].key = r->key;
  h->meta[h->nmeta].value = value;
  h->nmeta++;
  r->key = NULL;
  return NULL;
}

static const char *st_string(void *ud, const peft_json_string *s, int is_key) {
  st_reader *r = ud;
  if (passed_over(r)) return NULL;
  if (is_key) {
    if (r->depth == 1) return root_key(r, s);
    if (r->in_meta) {
      free(r->key);
      r->key = decoded(s);
      return r->key ? NULL : st_oom(r);
    }
    return tensor_key(r, s);
  }
  if (r->depth == 2 && r->in_meta) return add_meta(r, s);
  if (r->depth == 2 && r->field == FIELD_DTYPE) {
    char name[16];
    r->t->dtype = NULL;
    if (s->len < sizeof name) { /* longer than every dtype name: unknown */
      if (s->escaped) peft_json_unescape(s, name);
      else memcpy(name, s->raw, s->len);
      name[s->len] = '\0';
      r->t->dtype = dtype_static(name);
    }
    if (r->t->dtype == NULL) {
      char *shown = decoded(s);
      if (shown == NULL) return st_oom(r);
      st_fail(r, "tensor '%.200s': unknown dtype '%.40s'", r->t->name, shown);
      free(shown);
      return ST_STOP;
    }
    r->t->dtype_bits = peft_st_dtype_bits(r->t->dtype);
    r->have_dtype = 1;
    return NULL;
  }
  return wrong_kind(r, "a string");
}

static const char *st_number(void *ud, const peft_json_number *n) {
  st_reader *r = ud;
  if (passed_over(r)) return NULL;
  const char *got = n->kind == PEFT_JSON_INT || n->kind == PEFT_JSON_BIGINT ? "an integer" : "a float";
  if (r->depth != 3 || n->kind != PEFT_JSON_INT || n->integer < 0) return wrong_kind(r, got);
  uint64_t v = (uint64_t)n->integer;
  if (r->field == FIELD_SHAPE) {
    if (r->nitems < PEFT_ST_MAX_DIMS) r->t->shape[r->nitems] = v;
  } else if (r->nitems == 0) {
    r->t->begin = v;
  } else if (r->nitems == 1) {
    r->t->end = v;
  }
  r->nitems++;
  return NULL;
}

static const char *st_literal(void *ud, peft_json_literal which) {
  st_reader *r = ud;
  if (passed_over(r)) return NULL;
  return wrong_kind(r, which == PEFT_JSON_NULL ? "null" : "a boolean");
}

static const peft_json_handler st_handler = {st_begin, st_end, st_member, st_string, st_number, st_literal};

/* Fills h from the JSON header (h zeroed by the caller; freed on failure). */
static int parse_json_header(const char *json, size_t n, peft_st_header *h, peft_error *err) {
  if (n == 0 || json[0] != '{')
    return fail(err, PEFT_EVALUE, "the header is not a JSON object (it must start with '{')");
  st_reader r;
  memset(&r, 0, sizeof r);
  r.h = h;
  r.err = err;
  peft_json_error jerr;
  int rc = peft_json_parse(json, n, PEFT_JSON_STRICT_UNICODE | PEFT_JSON_NO_NUL, PEFT_ST_MAX_DEPTH, &st_handler, &r,
                           &jerr);
  free(r.key);
  if (rc != 0) {
    if (r.failed) return -1;
    if (jerr.oom) return fail(err, PEFT_ENOMEM, "out of memory");
    return fail(err, PEFT_EVALUE, "the header is not valid JSON: %s", jerr.message);
  }
  return check_layout(h, err);
}

int peft_st_parse(const unsigned char *buf, size_t buflen, uint64_t file_size, peft_st_header *out,
                  peft_error *err) {
  memset(out, 0, sizeof *out);
  if (err) err->status = PEFT_OK;
  if (file_size < 8 || buflen < 8)
    return fail(err, PEFT_EVALUE, "the file has %llu bytes, too few for the 8-byte header length",
                (unsigned long long)(file_size < buflen ? file_size : buflen));
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | buf[i];
  if (n > PEFT_ST_MAX_HEADER)
    return fail(err, PEFT_EVALUE, "the header length %llu is larger than the limit of %llu bytes",
                (unsigned long long)n, PEFT_ST_MAX_HEADER);
  if (n > file_size - 8)
    return fail(err, PEFT_EVALUE, "the header length %llu runs past the end of the file (%llu bytes follow it)",
                (unsigned long long)n, (unsigned long long)(file_size - 8));
  if (n > buflen - 8)
    return fail(err, PEFT_EVALUE, "the header is truncated (%llu of %llu bytes)",
                (unsigned long long)(buflen - 8), (unsigned long long)n);
  out->header_size = n;
  out->file_size = file_size;
  out->data_size = file_size - 8 - n;
  if (parse_json_header((const char *)buf + 8, (size_t)n, out, err) != 0) {
    peft_st_free(out);
    return -1;
  }
  return 0;
}

/* Opens path without blocking (a FIFO would wait for a writer) and checks
 * that it is a regular file: the descriptor, or -1 with err filled. */
static int open_regular(const char *path, struct stat *st, peft_error *err) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail(err, PEFT_EVALUE, "%s", strerror(errno));
  if (fstat(fd, st) != 0) {
    int e = errno;
    close(fd);
    return fail(err, PEFT_EVALUE, "%s", strerror(e));
  }
  if (!S_ISREG(st->st_mode)) {
    close(fd);
    return fail(err, PEFT_EVALUE, "%s", S_ISDIR(st->st_mode) ? "it is a directory" : "not a regular file");
  }
  return fd;
}

int peft_st_read_file(const char *path, peft_st_header *out, peft_error *err) {
  memset(out, 0, sizeof *out);
  struct stat st;
  int fd = open_regular(path, &st, err);
  if (fd < 0) return -1;
  uint64_t file_size = (uint64_t)st.st_size;
  unsigned char lenbuf[8];
  ssize_t got = file_size >= 8 ? pread(fd, lenbuf, 8, 0) : 0;
  if (file_size < 8 || got != 8) {
    close(fd);
    return fail(err, PEFT_EVALUE, "the file has %llu bytes, too few for the 8-byte header length",
                (unsigned long long)file_size);
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | lenbuf[i];
  if (n > PEFT_ST_MAX_HEADER || n > file_size - 8) {
    close(fd);
    return peft_st_parse(lenbuf, 8, file_size, out, err); /* reports the length problem */
  }
  unsigned char *buf = malloc((size_t)n + 8);
  if (buf == NULL) {
    close(fd);
    return fail(err, PEFT_ENOMEM, "out of memory");
  }
  memcpy(buf, lenbuf, 8);
  size_t have = 0;
  while (have < n) {
    ssize_t r = pread(fd, buf + 8 + have, (size_t)n - have, (off_t)(8 + have));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += (size_t)r;
  }
  close(fd);
  int rc = peft_st_parse(buf, have + 8, file_size, out, err);
  free(buf);
  return rc;
}

/* --- sharded layout ---------------------------------------------------- */

static char *read_small_file(const char *path, size_t limit, size_t *len, peft_error *err) {
  struct stat st;
  int fd = open_regular(path, &st, err);
  if (fd < 0) return NULL;
  if ((uint64_t)st.st_size > limit) {
    close(fd);
    fail(err, PEFT_EVALUE, "the file has %llu bytes, more than the limit of %zu", (unsigned long long)st.st_size,
         limit);
    return NULL;
  }
  size_t cap = (size_t)st.st_size + 1, n = 0;
  char *buf = malloc(cap);
  int e = 0;
  while (buf != NULL && e == 0) {
    if (n == cap) { /* the file grew meanwhile */
      if (cap > limit) {
        free(buf);
        close(fd);
        fail(err, PEFT_EVALUE, "larger than the limit of %zu bytes", limit);
        return NULL;
      }
      char *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) e = errno;
    else if (r == 0) break;
    else n += (size_t)r;
  }
  close(fd);
  if (buf == NULL) {
    fail(err, PEFT_ENOMEM, "out of memory");
    return NULL;
  }
  if (e != 0) {
    free(buf);
    fail(err, PEFT_EVALUE, "%s", strerror(e));
    return NULL;
  }
  *len = n;
  return buf;
}

/* A shard is a file beside the index: its name is one path component, and
 * not "." or ".." (a name such as "model..safetensors" is fine). */
static int safe_shard_name(const char *s) {
  return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --- the index, read as it is parsed ---------------------------------------
 *
 * Only the weight_map object is kept (tensor name -> shard); the other
 * members (metadata) are passed over. */

typedef struct wm_entry {
  char *key;
  char *shard;
} wm_entry;

typedef struct ix_reader {
  wm_entry *e;
  size_t n, cap;
  int depth, skip;
  int in_wm, wm_seen;
  char *key; /* the tensor whose shard comes next */
  peft_error *err;
  int failed;
} ix_reader;

static const char *ix_fail(ix_reader *r, peft_status st, const char *fmt, ...) {
  if (r->err) {
    va_list ap;
    va_start(ap, fmt);
    peft_error_vset(r->err, st, fmt, ap);
    va_end(ap);
  }
  r->failed = 1;
  return ST_STOP;
}

static const char *ix_wrong(ix_reader *r) {
  if (r->depth == 1) return ix_fail(r, PEFT_EVALUE, "no 'weight_map' object");
  return ix_fail(r, PEFT_EVALUE, "weight_map entry '%.200s' must name a file beside the index", r->key);
}

/* Whether the value now read is passed over (outside weight_map). */
static int ix_passed_over(const ix_reader *r) { return r->skip > 0 || (r->depth >= 1 && !r->in_wm); }

static const char *ix_begin(void *ud, int is_object) {
  ix_reader *r = ud;
  if (r->depth == 0 && !is_object) return ix_fail(r, PEFT_EVALUE, "no 'weight_map' object");
  if (r->skip == 0 && r->depth >= 1 && ix_passed_over(r)) r->skip = r->depth + 1;
  if (r->skip == 0 && ((r->depth == 1 && !is_object) || r->depth == 2)) return ix_wrong(r);
  r->depth++;
  return NULL;
}

static const char *ix_end(void *ud, int is_object, size_t count) {
  ix_reader *r = ud;
  (void)is_object;
  (void)count;
  r->depth--;
  if (r->skip > 0 && r->depth < r->skip) r->skip = 0;
  return NULL;
}

static const char *ix_member(void *ud, int is_object, size_t index) {
  ix_reader *r = ud;
  (void)is_object;
  (void)index;
  if (r->skip == 0 && r->depth == 1) r->in_wm = 0;
  return NULL;
}

static const char *ix_string(void *ud, const peft_json_string *s, int is_key) {
  ix_reader *r = ud;
  if (r->skip > 0) return NULL;
  if (is_key && r->depth == 1) {
    r->in_wm = s->len == 10 && memcmp(s->raw, "weight_map", 10) == 0;
    if (r->in_wm && r->wm_seen++) return ix_fail(r, PEFT_EVALUE, "'weight_map' appears twice");
    return NULL;
  }
  if (!r->in_wm) return NULL;
  if (r->depth == 1) return ix_wrong(r);
  char *d = decoded(s);
  if (d == NULL) return ix_fail(r, PEFT_ENOMEM, "out of memory");
  if (is_key) {
    free(r->key);
    r->key = d;
    return NULL;
  }
  if (!safe_shard_name(d)) {
    free(d);
    return ix_wrong(r);
  }
  if (r->n == r->cap) {
    size_t nc = r->cap ? r->cap * 2 : 64;
    wm_entry *ne = realloc(r->e, nc * sizeof *ne);
    if (ne == NULL) {
      free(d);
      return ix_fail(r, PEFT_ENOMEM, "out of memory");
    }
    r->e = ne;
    r->cap = nc;
  }
  r->e[r->n].key = r->key;
  r->e[r->n].shard = d;
  r->n++;
  r->key = NULL;
  return NULL;
}

static const char *ix_number(void *ud, const peft_json_number *n) {
  ix_reader *r = ud;
  (void)n;
  return ix_passed_over(r) ? NULL : ix_wrong(r);
}

static const char *ix_literal(void *ud, peft_json_literal which) {
  ix_reader *r = ud;
  (void)which;
  return ix_passed_over(r) ? NULL : ix_wrong(r);
}

static const peft_json_handler ix_handler = {ix_begin, ix_end, ix_member, ix_string, ix_number, ix_literal};

static int cmp_entry(const void *a, const void *b) {
  return strcmp((*(const wm_entry *const *)a)->key, (*(const wm_entry *const *)b)->key);
}

/* The weight-map entry of a tensor, by binary search, or NULL. */
static const wm_entry *find_entry(wm_entry **sorted, size_t n, const char *key) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(sorted[mid]->key, key);
    if (c == 0) return sorted[mid];
    if (c < 0) lo = mid + 1; else hi = mid;
  }
  return NULL;
}

static void free_entries(ix_reader *r) {
  for (size_t i = 0; i < r->n; i++) {
    free(r->e[i].key);
    free(r->e[i].shard);
  }
  free(r->e);
  free(r->key);
}

int peft_st_read_index(const char *index_path, peft_st_header *out, peft_error *err) {
  memset(out, 0, sizeof *out);
  size_t len;
  char *text = read_small_file(index_path, 64u << 20, &len, err);
  if (text == NULL) return -1;
  ix_reader r;
  memset(&r, 0, sizeof r);
  r.err = err;
  peft_json_error jerr;
  int rc = peft_json_parse(text, len, PEFT_JSON_STRICT_UNICODE | PEFT_JSON_NO_NUL, PEFT_ST_MAX_DEPTH, &ix_handler, &r,
                           &jerr);
  free(text);
  if (rc != 0 || !r.wm_seen) {
    free_entries(&r);
    if (rc != 0 && r.failed) return -1;
    if (rc != 0 && jerr.oom) return fail(err, PEFT_ENOMEM, "out of memory");
    if (rc != 0) return fail(err, PEFT_EVALUE, "not valid JSON: %s", jerr.message);
    return fail(err, PEFT_EVALUE, "no 'weight_map' object");
  }
  /* the distinct shard names, sorted; the weight map sorted by tensor */
  size_t nmap = r.n;
  char **names = calloc(nmap ? nmap : 1, sizeof *names);
  wm_entry **sorted = calloc(nmap ? nmap : 1, sizeof *sorted);
  if (names == NULL || sorted == NULL) {
    free(names);
    free(sorted);
    free_entries(&r);
    return fail(err, PEFT_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < nmap; i++) {
    sorted[i] = &r.e[i];
    names[i] = r.e[i].shard;
  }
  qsort(sorted, nmap, sizeof *sorted, cmp_entry);
  size_t nnames = nmap;
  rc = 0;
  for (size_t i = 1; i < nmap && rc == 0; i++)
    if (strcmp(sorted[i - 1]->key, sorted[i]->key) == 0)
      rc = fail(err, PEFT_EVALUE, "weight_map lists tensor '%.200s' twice", sorted[i]->key);
  if (rc == 0) {
    qsort(names, nnames, sizeof *names, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < nnames; i++)
      if (u == 0 || strcmp(names[u - 1], names[i]) != 0) names[u++] = names[i];
    nnames = u;
    out->shards = calloc(nnames ? nnames : 1, sizeof *out->shards);
    if (out->shards == NULL) rc = fail(err, PEFT_ENOMEM, "out of memory");
  }
  const char *slash = strrchr(index_path, '/');
  size_t dirlen = slash ? (size_t)(slash - index_path + 1) : 0;
  size_t total = 0;
  for (size_t s = 0; s < nnames && rc == 0; s++) {
    out->shards[s] = dupn(names[s], strlen(names[s]));
    if (out->shards[s] == NULL) {
      rc = fail(err, PEFT_ENOMEM, "out of memory");
      break;
    }
    out->nshards++;
    char *path = malloc(dirlen + strlen(names[s]) + 1);
    if (path == NULL) {
      rc = fail(err, PEFT_ENOMEM, "out of memory");
      break;
    }
    memcpy(path, index_path, dirlen);
    strcpy(path + dirlen, names[s]);
    peft_st_header sh;
    rc = peft_st_read_file(path, &sh, err);
    if (rc != 0 && err != NULL && err->status != PEFT_ENOMEM) {
      char inner[PEFT_ERROR_MAX];
      snprintf(inner, sizeof inner, "%s", err->message);
      fail(err, PEFT_EVALUE, "shard %.200s: %s", names[s], inner);
    }
    free(path);
    if (rc != 0) break;
    /* append the shard's tensors */
    peft_st_tensor *nt = realloc(out->tensors, (total + sh.ntensors + 1) * sizeof *nt);
    if (nt == NULL) {
      peft_st_free(&sh);
      rc = fail(err, PEFT_ENOMEM, "out of memory");
      break;
    }
    out->tensors = nt;
    for (size_t i = 0; i < sh.ntensors; i++) {
      out->tensors[total + i] = sh.tensors[i];
      out->tensors[total + i].shard = out->shards[s];
      /* the weight map must put this tensor in this shard */
      const wm_entry *wme = find_entry(sorted, nmap, sh.tensors[i].name);
      const char *where = wme ? wme->shard : NULL;
      if (rc == 0 && (where == NULL || strcmp(where, names[s]) != 0))
        rc = fail(err, PEFT_EVALUE, "shard %.200s holds tensor '%.200s', which the weight map %s", names[s],
                  sh.tensors[i].name, where ? "puts in another shard" : "does not list");
    }
    total += sh.ntensors;
    out->ntensors = total;
    free(sh.tensors); /* names moved */
    sh.tensors = NULL;
    sh.ntensors = 0;
    peft_st_free(&sh);
  }
  if (rc == 0 && total != nmap) {
    /* a tensor in the weight map that no shard holds: every shard tensor
     * matched an entry, so the first unmatched entry is the culprit */
    peft_st_tensor **held = malloc((total ? total : 1) * sizeof *held);
    if (held == NULL) {
      rc = fail(err, PEFT_ENOMEM, "out of memory");
    } else {
      for (size_t j = 0; j < total; j++) held[j] = &out->tensors[j];
      qsort(held, total, sizeof *held, cmp_names);
      size_t j = 0;
      for (size_t i = 0; i < nmap && rc == 0; i++) {
        if (j < total && strcmp(held[j]->name, sorted[i]->key) == 0) {
          j++;
        } else {
          rc = fail(err, PEFT_EVALUE, "the weight map lists tensor '%.200s' but shard %.200s does not hold it",
                    sorted[i]->key, sorted[i]->shard);
        }
      }
      free(held);
    }
  }
  free(names);
  free(sorted);
  free_entries(&r);
  if (rc != 0) peft_st_free(out);
  return rc;
}
