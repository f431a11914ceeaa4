/* test_safetensors.c - the header reader on good and hostile input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctest.h"
#include "peft_safetensors.h"

/* builds 8-byte length + json + data_size zero bytes in a static buffer */
static unsigned char buf[1 << 16];
static size_t build(const char *json, size_t data_size, uint64_t fake_len, int use_fake) {
  uint64_t n = use_fake ? fake_len : strlen(json);
  for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(n >> (8 * i));
  size_t j = strlen(json);
  memcpy(buf + 8, json, j);
  memset(buf + 8 + j, 0, data_size);
  return 8 + j + data_size;
}

static peft_error err;

static int parse(const char *json, size_t data_size) {
  size_t len = build(json, data_size, 0, 0);
  peft_st_header h;
  int rc = peft_st_parse(buf, len, len, &h, &err);
  if (rc == 0) peft_st_free(&h);
  return rc;
}

static void expect_error(const char *json, size_t data_size, const char *message) {
  CHECK_INT(parse(json, data_size), -1);
  CHECK_INT(err.status, PEFT_EVALUE);
  CHECK_STR(err.message, message);
}

TEST(valid_header) {
  const char *json =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"b.weight\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[16,28]},"
      "\"a.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}  ";
  size_t len = build(json, 28, 0, 0);
  peft_st_header h;
  CHECK_INT(peft_st_parse(buf, len, len, &h, &err), 0);
  CHECK_INT(h.ntensors, 2);
  CHECK_STR(h.tensors[0].name, "b.weight"); /* header order */
  CHECK_STR(h.tensors[0].dtype, "BF16");
  CHECK_INT(h.tensors[0].ndim, 2);
  CHECK_INT(h.tensors[0].shape[1], 3);
  CHECK_INT(h.tensors[0].nelems, 6);
  CHECK_INT(h.nmeta, 1);
  CHECK_STR(h.meta[0].key, "format");
  CHECK_STR(h.meta[0].value, "pt");
  CHECK_INT(h.data_size, 28);
  peft_st_free(&h);
}

TEST(scalars_and_empty_tensors) {
  /* a scalar (shape []) has one element; a zero-sized tensor takes no bytes */
  CHECK_INT(parse("{\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                  "\"e\":{\"dtype\":\"F16\",\"shape\":[0,5],\"data_offsets\":[8,8]}}", 8), 0);
  CHECK_INT(parse("{}", 0), 0);
}

TEST(length_problems) {
  peft_st_header h;
  size_t len = build("{}", 0, 1000, 1);
  CHECK_INT(peft_st_parse(buf, len, len, &h, &err), -1);
  CHECK_STR(err.message, "the header length 1000 runs past the end of the file (2 bytes follow it)");
  len = build("{}", 0, 200000000ULL, 1);
  CHECK_INT(peft_st_parse(buf, len, len, &h, &err), -1);
  CHECK_STR(err.message, "the header length 200000000 is larger than the limit of 100000000 bytes");
  CHECK_INT(peft_st_parse(buf, 5, 5, &h, &err), -1);
  CHECK_STR(err.message, "the file has 5 bytes, too few for the 8-byte header length");
  /* a length of 2^64-1 must not wrap around */
  len = build("{}", 0, UINT64_MAX, 1);
  CHECK_INT(peft_st_parse(buf, len, len, &h, &err), -1);
}

TEST(not_json) {
  expect_error("[1,2]", 0, "the header is not a JSON object (it must start with '{')");
  expect_error("{\"a\": }", 0, "the header is not valid JSON: line 1, column 7: expected a value");
  expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4,
               "the header is not valid JSON: line 1, column 54: unterminated object (expected ',' or '}')");
}

/* Issue 13, item 4: the reference implementation reads the header as UTF-8
 * (a tensor name that is not, or an escaped surrogate without its pair, is
 * refused). */
TEST(names_must_be_utf8) {
  expect_error("{\"t\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
               "the header is not valid JSON: line 1, column 4: invalid UTF-8 in string");
  expect_error("{\"t\xed\xa0\x80\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
               "the header is not valid JSON: line 1, column 4: invalid UTF-8 in string");
  expect_error("{\"t\\ud800\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
               "the header is not valid JSON: line 1, column 4: a \\u escape of a surrogate without its pair");
  CHECK_INT(parse("{\"t\\ud83d\\ude00\xc3\xa9\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1), 0);
}

TEST(bad_fields) {
  expect_error("{\"t\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "tensor 't': unknown dtype 'F17'");
  expect_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
               "tensor 't': shape[0] must be a non-negative integer");
  expect_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
               "tensor 't': shape[0] must be a non-negative integer");
  expect_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
               "tensor 't': 'data_offsets' must be [begin, end] (non-negative integers)");
  expect_error("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 't': 'dtype' must be a string");
  expect_error("{\"t\":[1]}", 0, "tensor 't': expected an object, got a list");
  expect_error("{\"__metadata__\":{\"k\":1}}", 0, "'__metadata__' value of 'k' must be a string, got an integer");
  /* read as parsed: a field given twice is refused, one the format does not know is passed over */
  expect_error("{\"t\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
               "tensor 't': 'dtype' appears twice");
  CHECK_INT(parse("{\"t\":{\"x\":{\"y\":[1,{\"dtype\":7}]},\"dtype\":\"U\\u0038\",\"shape\":[1],"
                  "\"data_offsets\":[0,1]}}", 1), 0);
  expect_error("{\"t\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
               "tensor 't': 20 dimensions, more than 16");
}

TEST(wrong_sizes) {
  expect_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12,
               "tensor 't': data_offsets span 12 bytes but 4 elements of F32 take 16 bytes");
  expect_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8,
               "tensor 't': data_offsets begin 8 is after end 4");
  expect_error("{\"t\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2,
               "tensor 't': 3 elements of F4 do not fill whole bytes");
}

TEST(huge_shapes_overflow) {
  expect_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
               "tensor 't': the shape has more elements than fit in 64 bits");
  expect_error("{\"t\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", 8,
               "tensor 't': the tensor's size in bytes does not fit in 64 bits");
  /* a zero dimension makes any product empty */
  CHECK_INT(parse("{\"t\":{\"dtype\":\"F32\",\"shape\":[0,4294967296,4294967296],\"data_offsets\":[0,0]}}", 0), 0);
}

TEST(layout_problems) {
  expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
               "tensor 'b' (bytes 4-12) overlaps tensor 'a' (ending at 8)");
  expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
               "a gap of 4 bytes before tensor 'a' (bytes 0-4 is not covered)");
  expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 10,
               "6 bytes at the end of the data region belong to no tensor");
  expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
               "tensor 'a': data_offsets end 16 is past the data region (8 bytes)");
  expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "tensor 'a' is listed twice");
  expect_error("{}", 3, "the data region has 3 bytes but the header lists no tensor");
}

static char dir[64];

static void write_file(const char *name, const unsigned char *data, size_t n) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  fwrite(data, 1, n, f);
  fclose(f);
}

TEST(read_file_and_index) {
  strcpy(dir, "/tmp/peft-st-XXXXXX");
  CHECK(mkdtemp(dir) != NULL);
  size_t len = build("{\"x.weight\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", 8, 0, 0);
  write_file("m-1.safetensors", buf, len);
  len = build("{\"y.weight\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8, 0, 0);
  write_file("m-2.safetensors", buf, len);
  const char *index = "{\"metadata\":{\"total_size\":16},\"weight_map\":{\"x.weight\":\"m-1.safetensors\","
                      "\"y.weight\":\"m-2.safetensors\"}}";
  write_file("model.safetensors.index.json", (const unsigned char *)index, strlen(index));
  char path[128];
  snprintf(path, sizeof path, "%s/m-1.safetensors", dir);
  peft_st_header h;
  CHECK_INT(peft_st_read_file(path, &h, &err), 0);
  CHECK_INT(h.ntensors, 1);
  peft_st_free(&h);
  snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
  CHECK_INT(peft_st_read_index(path, &h, &err), 0);
  CHECK_INT(h.ntensors, 2);
  CHECK_INT(h.nshards, 2);
  CHECK_STR(h.tensors[1].shard, "m-2.safetensors");
  peft_st_free(&h);
  /* a weight map that misplaces a tensor, or escapes the directory */
  index = "{\"weight_map\":{\"x.weight\":\"m-2.safetensors\",\"y.weight\":\"m-2.safetensors\"}}";
  write_file("model.safetensors.index.json", (const unsigned char *)index, strlen(index));
  CHECK_INT(peft_st_read_index(path, &h, &err), -1);
  CHECK_STR(err.message, "the weight map lists tensor 'x.weight' but shard m-2.safetensors does not hold it");
  index = "{\"weight_map\":{\"x.weight\":\"../m-1.safetensors\"}}";
  write_file("model.safetensors.index.json", (const unsigned char *)index, strlen(index));
  CHECK_INT(peft_st_read_index(path, &h, &err), -1);
  index = "{\"weight_map\":{\"x.weight\":\"missing.safetensors\"}}";
  write_file("model.safetensors.index.json", (const unsigned char *)index, strlen(index));
  CHECK_INT(peft_st_read_index(path, &h, &err), -1);
  CHECK_STR(err.message, "shard missing.safetensors: No such file or directory"); /* the index path: not repeated */
  /* a truncated file */
  len = build("{\"x.weight\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", 8, 0, 0);
  write_file("short.safetensors", buf, len - 3);
  snprintf(path, sizeof path, "%s/short.safetensors", dir);
  CHECK_INT(peft_st_read_file(path, &h, &err), -1);
  CHECK_STR(err.message, "tensor 'x.weight': data_offsets end 8 is past the data region (5 bytes)");
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_INT(system(cmd), 0);
}

int main(void) {
  RUN(valid_header);
  RUN(scalars_and_empty_tensors);
  RUN(length_problems);
  RUN(not_json);
  RUN(names_must_be_utf8);
  RUN(bad_fields);
  RUN(wrong_sizes);
  RUN(huge_shapes_overflow);
  RUN(layout_problems);
  RUN(read_file_and_index);
  return ctest_summary("test_safetensors");
}
