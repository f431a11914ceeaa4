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

int peft_task_type_index(const char *name) {
  if (name == NULL) return -1;
  for (int i = 0; i < PEFT_TASK_TYPE_COUNT; i++)
    if (strcmp(peft_task_type_names[i], name) == 0) return i;
  return -1;
}

int peft_is_upper_identifier(const char *s) {
  if (s == NULL || !(*s >= 'A' && *s <= 'Z')) return 0;
  for (s++; *s; s++) {
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
      return 0;
  }
  return 1;
}
