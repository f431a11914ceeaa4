// test_cxx.cpp - the installed headers from C++ (g++): each one compiles and links as C++ code
// (extern "C" throughout), against libpeft.so; the handles held by std::unique_ptr.
#include <cstring>
#include <memory>
#include <string>

#include "peft.h"
#include "peft_registry.h"
#include "peft_safetensors.h"

#include "ctest.h"

namespace {

struct Close {
  void operator()(peft_runtime *rt) const { peft_close(rt); }
  void operator()(peft_config *c) const { peft_config_free(c); }
  void operator()(char *s) const { peft_free(s); }
};

peft_error err;

TEST(a_cxx_host) {
  std::unique_ptr<peft_runtime, Close> rt(peft_open(&err));
  CHECK(rt != nullptr);
  if (!rt) return;
  const peft_registry *reg = peft_runtime_registry(rt.get());
  CHECK_INT(peft_method_count(reg), 45);
  const std::string text = R"({"peft_type": "LORA", "r": 16, "target_modules": ["q_proj", "v_proj"]})";
  std::unique_ptr<peft_config, Close> cfg(peft_config_load_buffer(rt.get(), text.data(), text.size(), "x.json", 0, &err));
  CHECK(cfg != nullptr);
  if (!cfg) return;
  peft_value v;
  CHECK_INT(peft_config_get(cfg.get(), "target_modules", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_LIST);
  std::string joined;
  for (size_t i = 0; i < v.count; i++) {
    peft_value item;
    CHECK_INT(peft_config_item(cfg.get(), "target_modules", &i, 1, &item, &err), 0);
    joined += std::string(i ? "," : "") + std::string(item.string, item.length);
  }
  CHECK_STR(joined.c_str(), "q_proj,v_proj");
  std::unique_ptr<char, Close> json(peft_config_to_json(cfg.get(), &err));
  CHECK(json && std::strstr(json.get(), "\"r\": 16") != nullptr);
  CHECK(peft_config_load(rt.get(), "/nonexistent", 0, &err) == nullptr);
  CHECK_STR(err.kind, "FileNotFoundError");
  // the safetensors reader (peft_safetensors.h) from C++ too
  peft_st_header h;
  CHECK_INT(peft_st_read_file("/nonexistent.safetensors", &h, &err), -1);
  CHECK_INT(peft_st_dtype_bits("BF16"), 16);
}

}  // namespace

int main() {
  RUN(a_cxx_host);
  return ctest_summary("test_cxx");
}
