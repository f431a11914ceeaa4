/*
 * peft_types.h - the built-in members of the PeftType and TaskType enums.
 *
 * One X-macro list per enum generates the C enumerators and the name tables.
 * The order is the declaration order of Hugging Face PEFT (v0.20 line), with
 * BONE kept where PEFT had it because adapters saved with it still exist.
 */
#ifndef PEFT_TYPES_H
#define PEFT_TYPES_H

#include <stddef.h>

#define PEFT_TYPE_LIST(X) \
  X(PROMPT_TUNING) X(MULTITASK_PROMPT_TUNING) X(P_TUNING) X(PREFIX_TUNING) \
  X(LORA) X(ADALORA) X(ADAMSS) X(BOFT) X(ADAPTION_PROMPT) X(IA3) X(BEFT) \
  X(LILY) X(LOHA) X(LOKR) X(OFT) X(POLY) X(LN_TUNING) X(VERA) X(FROD) \
  X(PVERA) X(FOURIERFT) X(GLORA) X(XLORA) X(HRA) X(VBLORA) X(UNILORA) \
  X(CPT) X(BONE) X(MISS) X(RANDLORA) X(ROAD) X(TRAINABLE_TOKENS) X(HIRA) \
  X(SHIRA) X(C3A) X(WAVEFT) X(OSF) X(DELORA) X(GRALORA) X(CARTRIDGE) \
  X(TINYLORA) X(PSOFT) X(PEANUT) X(SUPERTUNING) X(DEFT)

#define PEFT_TASK_TYPE_LIST(X) \
  X(SEQ_CLS) X(SEQ_2_SEQ_LM) X(CAUSAL_LM) X(TOKEN_CLS) X(QUESTION_ANS) \
  X(FEATURE_EXTRACTION)

enum peft_builtin_type {
#define PEFT_X_ENUM(n) PEFT_TYPE_##n,
  PEFT_TYPE_LIST(PEFT_X_ENUM)
#undef PEFT_X_ENUM
  PEFT_TYPE_BUILTIN_COUNT
};

enum peft_task_type {
#define PEFT_X_ENUM(n) PEFT_TASK_##n,
  PEFT_TASK_TYPE_LIST(PEFT_X_ENUM)
#undef PEFT_X_ENUM
  PEFT_TASK_TYPE_COUNT
};

extern const char *const peft_builtin_type_names[PEFT_TYPE_BUILTIN_COUNT];
extern const char *const peft_task_type_names[PEFT_TASK_TYPE_COUNT];

/* Index of the TaskType member name[0..len), or -1. */
int peft_task_type_index(const char *name, size_t len);

/* 1 if s[0..len) is an upper-case identifier: [A-Z][A-Z0-9_]* (what a
 * PeftType member must look like), else 0. */
int peft_is_upper_identifier(const char *s, size_t len);

#endif
