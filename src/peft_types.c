/* peft_types.c - name tables generated from the X-macro lists. */
#include "peft_types.h"

#include <string.h>

const char *const peft_builtin_type_names[PEFT_TYPE_BUILTIN_COUNT] = {
#define PEFT_X_NAME(n) #n,
  PEFT_TYPE_LIST(PEFT_X_NAME)
#undef PEFT_X_NAME
};

const char *const peft_task_type_names[PEFT_TASK_TYPE_COUNT] = {
#define PEFT_X_NAME(n) #n,
  PEFT_TASK_TYPE_LIST(PEFT_X_NAME)
#undef PEFT_X_NAME
};

int peft_task_type_index(const char *name, size_t len) {
  if (name == NULL) return -1;
  for (int i = 0; i < PEFT_TASK_TYPE_COUNT; i++)
    if (strlen(peft_task_type_names[i]) == len && memcmp(peft_task_type_names[i], name, len) == 0) return i;
  return -1;
}

int peft_is_upper_identifier(const char *s, size_t len) {
  if (s == NULL || len == 0 || !(s[0] >= 'A' && s[0] <= 'Z')) return 0;
  for (size_t i = 1; i < len; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
  }
  return 1;
}
