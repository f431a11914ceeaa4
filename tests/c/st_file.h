/*
 * st_file.h - writes a safetensors file for the C tests: the 8-byte length,
 * the header as given, then data_bytes of data as zeros (sparse).
 */
#ifndef ST_FILE_H
#define ST_FILE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void write_st_file(const char *path, const char *header, unsigned long long data_bytes) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) return;
  size_t len = strlen(header);
  unsigned char le[8];
  for (int i = 0; i < 8; i++) le[i] = (unsigned char)((unsigned long long)len >> (8 * i));
  fwrite(le, 1, 8, f);
  fwrite(header, 1, len, f);
  fclose(f);
  if (truncate(path, (off_t)(8 + len + data_bytes)) != 0) perror("truncate");
}

#endif
