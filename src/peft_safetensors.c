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

/* A non-negative integer from the tree, or -1. */
static int get_u64(const peft_json_value *v, uint64_t *out) {
  if (v == NULL || v->type != PEFT_JINT || v->u.integer < 0) return -1;
  *out = (uint64_t)v->u.integer;
  return 0;
}

static int parse_tensor(const char *name, const peft_json_value *v, peft_st_tensor *t, peft_error *err) {
  if (v->type != PEFT_JOBJECT)
    return fail(err, PEFT_EVALUE, "tensor '%.200s': expected an object, got %s", name, peft_json_type_name(v->type));
  const peft_json_value *dt = peft_json_get(v, "dtype"), *shape = peft_json_get(v, "shape"), *offs = peft_json_get(v, "data_offsets");
  if (dt == NULL || dt->type != PEFT_JSTRING)
    return fail(err, PEFT_EVALUE, "tensor '%.200s': 'dtype' must be a string", name);
  t->dtype = dtype_static(dt->u.string.s);
  if (t->dtype == NULL)
    return fail(err, PEFT_EVALUE, "tensor '%.200s': unknown dtype '%.40s'", name, dt->u.string.s);
  t->dtype_bits = peft_st_dtype_bits(t->dtype);
  if (shape == NULL || shape->type != PEFT_JARRAY)
    return fail(err, PEFT_EVALUE, "tensor '%.200s': 'shape' must be a list of non-negative integers", name);
  if (shape->u.array.n > PEFT_ST_MAX_DIMS)
    return fail(err, PEFT_EVALUE, "tensor '%.200s': %zu dimensions, more than %d", name, shape->u.array.n,
                PEFT_ST_MAX_DIMS);
  t->ndim = shape->u.array.n;
  uint64_t n = 1;
  int overflow = 0;
  for (size_t i = 0; i < t->ndim; i++) {
    uint64_t d;
    if (get_u64(shape->u.array.items[i], &d) != 0)
      return fail(err, PEFT_EVALUE, "tensor '%.200s': shape[%zu] must be a non-negative integer", name, i);
    t->shape[i] = d;
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
  if (offs == NULL || offs->type != PEFT_JARRAY || offs->u.array.n != 2 ||
      get_u64(offs->u.array.items[0], &t->begin) != 0 || get_u64(offs->u.array.items[1], &t->end) != 0)
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

static int parse_metadata(const peft_json_value *v, peft_st_header *h, peft_error *err) {
  if (v->type != PEFT_JOBJECT)
    return fail(err, PEFT_EVALUE, "'__metadata__' must be an object of strings, got %s", peft_json_type_name(v->type));
  if (v->u.object.n == 0) return 0;
  h->meta = calloc(v->u.object.n, sizeof *h->meta);
  if (h->meta == NULL) return fail(err, PEFT_ENOMEM, "out of memory");
  for (size_t i = 0; i < v->u.object.n; i++) {
    const peft_json_member *m = &v->u.object.members[i];
    if (m->value->type != PEFT_JSTRING)
      return fail(err, PEFT_EVALUE, "'__metadata__' value of '%.200s' must be a string, got %s", m->key,
                  peft_json_type_name(m->value->type));
    h->meta[h->nmeta].key = dupn(m->key, strlen(m->key));
    h->meta[h->nmeta].value = dupn(m->value->u.string.s, m->value->u.string.len);
    h->nmeta++;
    if (h->meta[h->nmeta - 1].key == NULL || h->meta[h->nmeta - 1].value == NULL)
      return fail(err, PEFT_ENOMEM, "out of memory");
  }
  return 0;
}

/* Fills h from the JSON header (h zeroed by the caller; freed on failure). */
static int parse_json_header(const char *json, size_t n, peft_st_header *h, peft_error *err) {
  if (n == 0 || json[0] != '{')
    return fail(err, PEFT_EVALUE, "the header is not a JSON object (it must start with '{')");
  peft_json_value *root;
  peft_json_error jerr;
  int rc = peft_json_tree_parse(json, n, PEFT_JSON_STRICT_UNICODE, PEFT_ST_MAX_DEPTH, &root, &jerr);
  if (rc != 0 && jerr.oom) return fail(err, PEFT_ENOMEM, "out of memory");
  if (rc != 0) return fail(err, PEFT_EVALUE, "the header is not valid JSON: %s", jerr.message);
  if (root->type != PEFT_JOBJECT) {
    peft_json_tree_free(root);
    return fail(err, PEFT_EVALUE, "the header is not a JSON object");
  }
  size_t count = root->u.object.n;
  h->tensors = calloc(count ? count : 1, sizeof *h->tensors);
  if (h->tensors == NULL) {
    peft_json_tree_free(root);
    return fail(err, PEFT_ENOMEM, "out of memory");
  }
  int meta_seen = 0;
  rc = 0;
  for (size_t i = 0; i < count && rc == 0; i++) {
    const peft_json_member *m = &root->u.object.members[i];
    if (strcmp(m->key, "__metadata__") == 0) {
      if (meta_seen++) rc = fail(err, PEFT_EVALUE, "'__metadata__' appears twice");
      else rc = parse_metadata(m->value, h, err);
      continue;
    }
    peft_st_tensor *t = &h->tensors[h->ntensors];
    t->name = dupn(m->key, strlen(m->key));
    if (t->name == NULL) {
      rc = fail(err, PEFT_ENOMEM, "out of memory");
      break;
    }
    h->ntensors++;
    rc = parse_tensor(m->key, m->value, t, err);
  }
  peft_json_tree_free(root);
  if (rc == 0) rc = check_layout(h, err);
  return rc;
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

static int cmp_member(const void *a, const void *b) {
  return strcmp((*(const peft_json_member *const *)a)->key, (*(const peft_json_member *const *)b)->key);
}

/* The weight-map entry of a tensor, by binary search, or NULL. */
static const peft_json_member *find_member(const peft_json_member **sorted, size_t n, const char *key) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(sorted[mid]->key, key);
    if (c == 0) return sorted[mid];
    if (c < 0) lo = mid + 1; else hi = mid;
  }
  return NULL;
}

int peft_st_read_index(const char *index_path, peft_st_header *out, peft_error *err) {
  memset(out, 0, sizeof *out);
  size_t len;
  char *text = read_small_file(index_path, 64u << 20, &len, err);
  if (text == NULL) return -1;
  peft_json_value *root;
  peft_json_error jerr;
  int rc = peft_json_tree_parse(text, len, PEFT_JSON_STRICT_UNICODE, PEFT_ST_MAX_DEPTH, &root, &jerr);
  free(text);
  if (rc != 0 && jerr.oom) return fail(err, PEFT_ENOMEM, "out of memory");
  if (rc != 0) return fail(err, PEFT_EVALUE, "not valid JSON: %s", jerr.message);
  const peft_json_value *wm = peft_json_get(root, "weight_map");
  if (root->type != PEFT_JOBJECT || wm == NULL || wm->type != PEFT_JOBJECT) {
    peft_json_tree_free(root);
    return fail(err, PEFT_EVALUE, "no 'weight_map' object");
  }
  /* the distinct shard names, sorted; the weight map sorted by tensor */
  size_t nmap = wm->u.object.n;
  char **names = calloc(nmap ? nmap : 1, sizeof *names);
  const peft_json_member **sorted = calloc(nmap ? nmap : 1, sizeof *sorted);
  if (names == NULL || sorted == NULL) {
    free(names);
    free(sorted);
    peft_json_tree_free(root);
    return fail(err, PEFT_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < nmap; i++) sorted[i] = &wm->u.object.members[i];
  qsort(sorted, nmap, sizeof *sorted, cmp_member);
  size_t nnames = 0;
  rc = 0;
  for (size_t i = 1; i < nmap && rc == 0; i++)
    if (strcmp(sorted[i - 1]->key, sorted[i]->key) == 0)
      rc = fail(err, PEFT_EVALUE, "weight_map lists tensor '%.200s' twice", sorted[i]->key);
  for (size_t i = 0; i < nmap && rc == 0; i++) {
    const peft_json_member *m = &wm->u.object.members[i];
    if (m->value->type != PEFT_JSTRING || !safe_shard_name(m->value->u.string.s))
      rc = fail(err, PEFT_EVALUE, "weight_map entry '%.200s' must name a file beside the index", m->key);
    else
      names[nnames++] = m->value->u.string.s;
  }
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
      const peft_json_member *wme = find_member(sorted, nmap, sh.tensors[i].name);
      const peft_json_value *where = wme ? wme->value : NULL;
      if (rc == 0 && (where == NULL || strcmp(where->u.string.s, names[s]) != 0))
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
                    sorted[i]->key, sorted[i]->value->u.string.s);
        }
      }
      free(held);
    }
  }
  free(names);
  free(sorted);
  peft_json_tree_free(root);
  if (rc != 0) peft_st_free(out);
  return rc;
}
