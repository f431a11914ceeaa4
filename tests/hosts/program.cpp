// program.cpp - issue 14's "done when" program in C++, through the installed peft.h: the same
// output as tests/hosts/program.lua under every Lua host and as tests/hosts/program.c.
//
//   g++ -std=c++17 program.cpp $(pkg-config --cflags --libs peft) -o program
//   ./program FIXTURES WORK
//
// The C API's handles held by std::unique_ptr, its failures turned into exceptions.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "peft.h"

namespace {

struct Error : std::runtime_error {
  std::string kind;
  Error(const peft_error &e) : std::runtime_error(e.message), kind(e.kind) {}
};

struct RuntimeCloser {
  void operator()(peft_runtime *rt) const { peft_close(rt); }
};
struct ConfigFree {
  void operator()(peft_config *c) const { peft_config_free(c); }
};
struct TextFree {
  void operator()(char *s) const { peft_free(s); }
};
using Runtime = std::unique_ptr<peft_runtime, RuntimeCloser>;
using Config = std::unique_ptr<peft_config, ConfigFree>;

Config check(peft_config *c, const peft_error &e) {
  if (!c) throw Error(e);
  return Config(c);
}

// "-" when the class has no such field
std::string int_field(peft_config *cfg, const char *field) {
  peft_value v;
  peft_error e;
  if (peft_config_get(cfg, field, &v, &e) != 0) return "-";
  if (v.type == PEFT_VALUE_NULL) return "null";
  return std::to_string(v.integer);
}

std::string list_field(peft_config *cfg, const char *field) {
  peft_value v;
  peft_error e;
  if (peft_config_get(cfg, field, &v, &e) != 0) return "-";
  if (v.type == PEFT_VALUE_NULL) return "null";
  if (v.type == PEFT_VALUE_STRING) return "re:" + std::string(v.string, v.length);
  std::vector<std::string> items;
  for (size_t i = 0; i < v.count; i++) {
    peft_value item;
    if (peft_config_item(cfg, field, &i, 1, &item, &e) != 0) throw Error(e);
    items.emplace_back(item.string, item.length);
  }
  std::string out;
  for (size_t i = 0; i < items.size(); i++) out += (i ? "," : "") + items[i];
  return out;
}

std::string to_json(peft_config *cfg) {
  peft_error e;
  std::unique_ptr<char, TextFree> text(peft_config_to_json(cfg, &e));
  if (!text) throw Error(e);
  return text.get();
}

long find_method(peft_runtime *rt, const std::string &key) {
  const peft_registry *reg = peft_runtime_registry(rt);
  long i = peft_method_by_name(reg, key.data(), key.size());
  if (i < 0) i = peft_method_by_type(reg, key.data(), key.size());
  for (size_t j = 0; i < 0 && j < peft_method_count(reg); j++) {
    peft_method_info m;
    peft_method_at(reg, j, &m);
    const char *cls = peft_method_config_class(rt, m.name);
    if (cls && key == cls) i = static_cast<long>(j);
  }
  return i;
}

const char *boolean(bool b) { return b ? "true" : "false"; }

}  // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    std::cerr << "usage: program FIXTURES WORK\n";
    return 2;
  }
  const std::string fixtures = argv[1], work = argv[2];
  try {
    peft_error e;
    Runtime rt(peft_open(&e));
    if (!rt) throw Error(e);
    const peft_registry *reg = peft_runtime_registry(rt.get());
    std::cout << "PeftType members: " << peft_type_count(reg) << ", TaskType members: " << peft_task_count()
              << ", methods: " << peft_method_count(reg) << "\n";

    std::ifstream index(fixtures + "/configs.txt");
    if (!index) throw std::runtime_error("cannot read " + fixtures + "/configs.txt");
    int n = 0;
    for (std::string name; std::getline(index, name);) {
      n++;
      Config cfg = check(peft_config_load(rt.get(), (fixtures + "/configs/" + name).c_str(), 0, &e), e);
      const char *task = peft_config_task_type(cfg.get());
      std::cout << name << ": " << peft_config_class(cfg.get()) << " " << peft_config_peft_type(cfg.get())
                << " task=" << (task ? task : "null") << " r=" << int_field(cfg.get(), "r")
                << " target_modules=" << list_field(cfg.get(), "target_modules")
                << " warnings=" << peft_config_warning_count(cfg.get()) << "\n";
    }
    std::cout << "configs loaded: " << n << "\n";

    Config built = check(peft_config_new(rt.get(), "LoraConfig",
                                         R"({"r": 8, "lora_alpha": 16, "target_modules": ["v_proj", "q_proj"],)"
                                         R"( "task_type": "CAUSAL_LM"})",
                                         &e),
                         e);
    std::cout << "built: " << peft_config_class(built.get()) << " r=" << int_field(built.get(), "r")
              << " lora_alpha=" << int_field(built.get(), "lora_alpha")
              << " target_modules=" << list_field(built.get(), "target_modules") << "\n";
    const std::string dir = work + "/built";
    if (peft_config_save(built.get(), dir.c_str(), &e) != 0) throw Error(e);
    Config back = check(peft_config_load(rt.get(), dir.c_str(), 0, &e), e);
    std::cout << "loaded back: " << peft_config_class(back.get()) << " r=" << int_field(back.get(), "r")
              << " lora_alpha=" << int_field(back.get(), "lora_alpha")
              << " target_modules=" << list_field(back.get(), "target_modules")
              << " task=" << peft_config_task_type(back.get())
              << " same_json=" << boolean(to_json(built.get()) == to_json(back.get())) << "\n";

    for (const std::string key : {"lora", "LOHA", "IA3Config"}) {
      peft_method_info m;
      if (peft_method_at(reg, static_cast<size_t>(find_method(rt.get(), key)), &m) != 0)
        throw std::runtime_error("no method " + key);
      const std::string config_cls = peft_method_config_class(rt.get(), m.name);
      const std::string model_cls = peft_method_model_class(rt.get(), m.name);
      std::cout << "method " << key << ": name=" << m.name << " peft_type=" << m.peft_type << " prefix=" << m.prefix
                << " mixed=" << boolean(m.is_mixed_compatible) << " config=" << config_cls << " model=" << model_cls
                << "\n";
    }
    std::cout << "method nope: " << (find_method(rt.get(), "nope") < 0 ? "nil" : "found") << "\n";
    peft_method_info lokr;
    peft_method_at(reg, static_cast<size_t>(peft_method_by_type(reg, "LOKR", 4)), &lokr);
    std::cout << "prefix of LOKR: " << lokr.prefix << "\n";
    std::cout << "PeftType('LORAA'): " << (peft_type_index(reg, "LORAA", 5) < 0 ? "nil" : "LORAA") << "\n";

    try {
      check(peft_config_load(rt.get(), (work + "/missing").c_str(), 0, &e), e);
      std::cout << "missing: true\n";
    } catch (const Error &x) {
      std::cout << "missing: false " << x.kind << "\n";
    }
    const std::string bad = R"({"peft_type": "LORA", "r": "16"})";
    try {
      check(peft_config_load_buffer(rt.get(), bad.data(), bad.size(), nullptr, 0, &e), e);
      std::cout << "bad r: true\n";
    } catch (const Error &x) {
      std::cout << "bad r: false " << x.kind << "\n";
    }
  } catch (const Error &x) {
    std::cerr << "program: " << x.kind << ": " << x.what() << "\n";
    return 1;
  } catch (const std::exception &x) {
    std::cerr << "program: " << x.what() << "\n";
    return 1;
  }
  return 0;
}
