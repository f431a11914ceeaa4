/* test_registry.c - the C core: enums, registration rules, roll-back. */
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "peft_registry.h"
#include "peft_types.h"

static peft_registry *reg;

static void fresh(void) {
  peft_registry_free(reg);
  reg = peft_registry_new();
}

static long reg_simple(const char *name, const char *prefix, int mixed) {
  peft_method_spec s = {0};
  s.name = name;
  s.prefix = prefix;
  s.is_mixed_compatible = mixed;
  peft_error err;
  return peft_register_method(reg, &s, &err);
}

TEST(builtin_members_in_order) {
  fresh();
  CHECK_INT(peft_type_count(reg), 45);
  CHECK_STR(peft_type_name(reg, 0), "PROMPT_TUNING");
  CHECK_STR(peft_type_name(reg, 4), "LORA");
  CHECK_STR(peft_type_name(reg, 27), "BONE");
  CHECK_STR(peft_type_name(reg, 28), "MISS");
  CHECK_STR(peft_type_name(reg, 44), "DEFT");
  CHECK(peft_type_name(reg, 45) == NULL);
  CHECK_INT(peft_type_index(reg, "LORA", 4), 4);
  CHECK_INT(peft_type_index(reg, "lora", 4), -1);
  CHECK_INT(peft_type_index(reg, NULL, 0), -1);
  for (size_t i = 0; i < peft_type_count(reg); i++)
    CHECK_INT(peft_type_index(reg, peft_type_name(reg, i), strlen(peft_type_name(reg, i))), (long)i);
}

TEST(task_types) {
  CHECK_INT(peft_task_count(), 6);
  CHECK_STR(peft_task_name(0), "SEQ_CLS");
  CHECK_STR(peft_task_name(5), "FEATURE_EXTRACTION");
  CHECK(peft_task_name(6) == NULL);
  CHECK_INT(peft_task_index("CAUSAL_LM", 9), 2);
  CHECK_INT(peft_task_index("causal_lm", 9), -1);
}

TEST(add_peft_type_rules) {
  fresh();
  peft_error err;
  CHECK_INT(peft_add_peft_type(reg, "MY_METHOD", 9, &err), PEFT_OK);
  CHECK_INT(peft_type_index(reg, "MY_METHOD", 9), 45);
  CHECK_INT(peft_add_peft_type(reg, "MY_METHOD", 9, &err), PEFT_EVALUE);
  CHECK_STR(err.message, "PeftType already has a member 'MY_METHOD'");
  CHECK_INT(peft_add_peft_type(reg, "LORA", 4, &err), PEFT_EVALUE);
  CHECK_INT(peft_add_peft_type(reg, "my_method", 9, &err), PEFT_EVALUE);
  CHECK_STR(err.message,
            "PeftType member must be an upper-case identifier ([A-Z][A-Z0-9_]*), got 'my_method'");
  CHECK_INT(peft_add_peft_type(reg, "9LIVES", 6, &err), PEFT_EVALUE);
  CHECK_INT(peft_add_peft_type(reg, "", 0, &err), PEFT_EVALUE);
  CHECK_INT(peft_add_peft_type(reg, "A-B", 3, &err), PEFT_EVALUE);
  CHECK_INT(peft_add_peft_type(reg, NULL, 0, &err), PEFT_ETYPE);
  char longname[PEFT_NAME_MAX + 2];
  memset(longname, 'A', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CHECK_INT(peft_add_peft_type(reg, longname, strlen(longname), &err), PEFT_EVALUE);
  longname[PEFT_NAME_MAX] = '\0';
  CHECK_INT(peft_add_peft_type(reg, longname, strlen(longname), &err), PEFT_OK);
  CHECK_INT(peft_type_count(reg), 47);
}

TEST(register_ok_and_lookups) {
  fresh();
  CHECK_INT(reg_simple("lora", "lora_", 1), 0);
  peft_method_info info;
  CHECK_INT(peft_method_at(reg, 0, &info), 0);
  CHECK_STR(info.name, "lora");
  CHECK_STR(info.peft_type, "LORA");
  CHECK_STR(info.prefix, "lora_");
  CHECK_INT(info.is_mixed_compatible, 1);
  CHECK(info.shares_prefix_with == NULL);
  CHECK_INT(peft_method_by_type(reg, "LORA", 4), 0);
  CHECK_INT(peft_method_by_name(reg, "lora", 4), 0);
  CHECK_INT(peft_method_by_name(reg, "LORA", 4), -1);
  CHECK_INT(peft_method_by_prefix(reg, "lora_", 5), 0);
  CHECK_INT(peft_method_by_type(reg, "IA3", 3), -1);
  CHECK_INT(peft_method_at(reg, 1, &info), -1);
}

/* Issue 13, item 5: names are compared with their length; a NUL inside one
 * ("LORA\0X") matches nothing and is no identifier. */
TEST(lookups_compare_lengths) {
  fresh();
  CHECK_INT(reg_simple("lora", "lora_", 1), 0);
  CHECK_INT(peft_type_index(reg, "LORA\0X", 6), -1);
  CHECK_INT(peft_type_index(reg, "LORA", 3), -1);
  CHECK_INT(peft_type_index(reg, "LORAX", 4), 4);
  CHECK_INT(peft_task_index("CAUSAL_LM\0X", 11), -1);
  CHECK_INT(peft_method_by_type(reg, "LORA\0X", 6), -1);
  CHECK_INT(peft_method_by_name(reg, "lora\0", 5), -1);
  CHECK_INT(peft_method_by_prefix(reg, "lora_\0", 6), -1);
  peft_error err;
  CHECK_INT(peft_add_peft_type(reg, "FOO\0BAR", 7, &err), PEFT_EVALUE);
  CHECK_STR(err.message, "PeftType member must be an upper-case identifier ([A-Z][A-Z0-9_]*), got 'FOO\\0BAR'");
  CHECK_INT(peft_type_index(reg, "FOO", 3), -1);
}

TEST(default_prefix_is_name_underscore) {
  fresh();
  CHECK_INT(reg_simple("ia3", NULL, 0), 0);
  peft_method_info info;
  peft_method_at(reg, 0, &info);
  CHECK_STR(info.prefix, "ia3_");
  CHECK_INT(info.is_mixed_compatible, 0);
}

static void expect_error(const peft_method_spec *s, peft_status status, const char *message) {
  peft_error err;
  size_t before = peft_method_count(reg);
  CHECK_INT(peft_register_method(reg, s, &err), -1);
  CHECK_INT(err.status, status);
  CHECK_STR(err.message, message);
  CHECK_INT(peft_method_count(reg), before);
}

TEST(rule_name_trailing_underscore) {
  fresh();
  peft_method_spec s = {.name = "lora_"};
  expect_error(&s, PEFT_EVALUE, "Name cannot end with '_', got lora_");
}

TEST(rule_name_lowercase) {
  fresh();
  peft_method_spec s = {.name = "LoRA"};
  expect_error(&s, PEFT_EVALUE, "Name must be lowercase, got LoRA");
  s.name = "123";
  expect_error(&s, PEFT_EVALUE, "Name must be lowercase, got 123");
  s.name = "";
  expect_error(&s, PEFT_EVALUE, "Name must be lowercase, got ");
}

TEST(rule_unknown_type) {
  fresh();
  peft_method_spec s = {.name = "loraa"};
  expect_error(&s, PEFT_EVALUE, "Unknown PEFT type LORAA, add to PeftType enum first");
}

TEST(rule_duplicate_method) {
  fresh();
  CHECK(reg_simple("lora", "lora_", 1) >= 0);
  peft_method_spec s = {.name = "lora", .prefix = "other_"};
  expect_error(&s, PEFT_EKEY, "There is already PEFT method called 'lora'");
}

TEST(rule_duplicate_prefix) {
  fresh();
  CHECK(reg_simple("lora", "lora_", 1) >= 0);
  peft_method_spec s = {.name = "ia3", .prefix = "lora_"};
  expect_error(&s, PEFT_EKEY, "There is already a prefix called 'lora_'");
  /* the check is on prefixes, not on mapping keys: a default prefix that
   * collides is caught too */
  CHECK(reg_simple("vera", "ia3_", 0) >= 0);
  peft_method_spec s2 = {.name = "ia3"};
  expect_error(&s2, PEFT_EKEY, "There is already a prefix called 'ia3_'");
}

TEST(rule_declared_prefix_sharing) {
  fresh();
  CHECK(reg_simple("lora", "lora_", 1) >= 0);
  peft_method_spec s = {.name = "adalora", .prefix = "lora_", .shares_prefix_with = "lora",
                        .is_mixed_compatible = 1};
  peft_error err;
  CHECK_INT(peft_register_method(reg, &s, &err), 1);
  peft_method_info info;
  peft_method_at(reg, 1, &info);
  CHECK_STR(info.shares_prefix_with, "lora");
  /* the prefix still belongs to its first owner */
  CHECK_INT(peft_method_by_prefix(reg, "lora_", 5), 0);
  /* declaring a method that is not registered */
  peft_method_spec s2 = {.name = "loha", .prefix = "hada_", .shares_prefix_with = "oft"};
  expect_error(&s2, PEFT_EVALUE,
               "Method 'loha' declares that it shares the prefix of 'oft', which is not registered");
  /* declaring a method whose prefix differs */
  peft_method_spec s3 = {.name = "loha", .prefix = "hada_", .shares_prefix_with = "lora"};
  expect_error(&s3, PEFT_EVALUE,
               "Method 'loha' declares that it shares the prefix of 'lora', but 'lora' uses 'lora_', "
               "not 'hada_'");
}

TEST(rule_inconsistent_model_prefix) {
  fresh();
  peft_method_spec s = {.name = "lora", .prefix = "lora_", .model_prefix = "lora2_"};
  expect_error(&s, PEFT_EVALUE, "Inconsistent prefixes: 'lora_' vs 'lora2_'");
  s.model_prefix = "lora_";
  peft_error err;
  CHECK_INT(peft_register_method(reg, &s, &err), 0);
}

TEST(rule_inconsistent_config_type) {
  fresh();
  peft_method_spec s = {.name = "lora", .config_peft_type = "IA3"};
  expect_error(&s, PEFT_EVALUE, "Inconsistent peft_type: method 'lora' is LORA but its config class is IA3");
}

TEST(rule_order_follows_the_table) {
  fresh();
  /* a name that breaks several rules reports the first one */
  peft_method_spec s = {.name = "Lora_"};
  expect_error(&s, PEFT_EVALUE, "Name cannot end with '_', got Lora_");
  CHECK(reg_simple("lora", "lora_", 0) >= 0);
  /* duplicate method is checked before the prefix */
  peft_method_spec s2 = {.name = "lora", .prefix = "lora_"};
  expect_error(&s2, PEFT_EKEY, "There is already PEFT method called 'lora'");
}

TEST(missing_name_is_type_error) {
  fresh();
  peft_method_spec s = {0};
  expect_error(&s, PEFT_ETYPE, "register_peft_method: 'name' is required");
}

TEST(rollback_restores_exactly) {
  fresh();
  CHECK(reg_simple("lora", "lora_", 1) >= 0);
  peft_registry_mark m = peft_registry_mark_now(reg);
  peft_error err;
  CHECK_INT(peft_add_peft_type(reg, "EXT_ONE", 7, &err), PEFT_OK);
  CHECK(reg_simple("ext_one", NULL, 0) >= 0);
  CHECK(reg_simple("ia3", NULL, 1) >= 0);
  CHECK_INT(peft_method_count(reg), 3);
  peft_registry_rollback(reg, m);
  CHECK_INT(peft_method_count(reg), 1);
  CHECK_INT(peft_type_count(reg), 45);
  CHECK_INT(peft_type_index(reg, "EXT_ONE", 7), -1);
  CHECK_INT(peft_method_by_type(reg, "IA3", 3), -1);
  CHECK_INT(peft_method_by_prefix(reg, "ia3_", 4), -1);
  CHECK_INT(peft_method_by_prefix(reg, "lora_", 5), 0);
  /* everything can be added again */
  CHECK_INT(peft_add_peft_type(reg, "EXT_ONE", 7, &err), PEFT_OK);
  CHECK(reg_simple("ext_one", NULL, 0) >= 0);
  CHECK(reg_simple("ia3", NULL, 1) >= 0);
}

TEST(many_types_and_methods) {
  fresh();
  char name[32], upper[32];
  peft_error err;
  for (int i = 0; i < 5000; i++) {
    snprintf(upper, sizeof upper, "EXT_%d", i);
    snprintf(name, sizeof name, "ext_%d", i);
    if (peft_add_peft_type(reg, upper, strlen(upper), &err) != PEFT_OK) {
      CHECK(0);
      break;
    }
    if (reg_simple(name, NULL, i % 2) < 0) {
      CHECK(0);
      break;
    }
  }
  CHECK_INT(peft_method_count(reg), 5000);
  CHECK_INT(peft_method_by_name(reg, "ext_4321", 8), 4321);
  CHECK_INT(peft_method_by_prefix(reg, "ext_17_", 7), 17);
  CHECK_INT(peft_type_index(reg, "EXT_4999", 8), 45 + 4999);
  peft_registry_mark m = {45 + 100, 100};
  peft_registry_rollback(reg, m);
  CHECK_INT(peft_method_count(reg), 100);
  CHECK_INT(peft_method_by_prefix(reg, "ext_99_", 7), 99);
  CHECK_INT(peft_method_by_prefix(reg, "ext_100_", 8), -1);
}

TEST(edit_distance_and_closest) {
  CHECK_INT(peft_edit_distance("LORA", "LORA", 3), 0);
  CHECK_INT(peft_edit_distance("LORAA", "LORA", 3), 1);
  CHECK_INT(peft_edit_distance("LOAR", "LORA", 3), 1); /* swap */
  CHECK_INT(peft_edit_distance("lora", "LORA", 3), 0); /* case-insensitive */
  CHECK_INT(peft_edit_distance("abcdef", "uvwxyz", 2), 3);
  const char *names[] = {"LORA", "LOHA", "LOKR", "IA3", "ADALORA"};
  size_t out[3];
  size_t n = peft_closest("LORAA", names, 5, out, 3);
  CHECK(n >= 1);
  CHECK_STR(names[out[0]], "LORA");
  n = peft_closest("QWERTY", names, 5, out, 3);
  CHECK_INT(n, 0);
}

int main(void) {
  RUN(builtin_members_in_order);
  RUN(task_types);
  RUN(add_peft_type_rules);
  RUN(register_ok_and_lookups);
  RUN(lookups_compare_lengths);
  RUN(default_prefix_is_name_underscore);
  RUN(rule_name_trailing_underscore);
  RUN(rule_name_lowercase);
  RUN(rule_unknown_type);
  RUN(rule_duplicate_method);
  RUN(rule_duplicate_prefix);
  RUN(rule_declared_prefix_sharing);
  RUN(rule_inconsistent_model_prefix);
  RUN(rule_inconsistent_config_type);
  RUN(rule_order_follows_the_table);
  RUN(missing_name_is_type_error);
  RUN(rollback_restores_exactly);
  RUN(many_types_and_methods);
  RUN(edit_distance_and_closest);
  peft_registry_free(reg);
  return ctest_summary("test_registry");
}
