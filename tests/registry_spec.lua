-- The registry as Lua sees it: enums, the four mappings, every rule of
-- register_peft_method, atomicity, and the built-ins against the reference.
local peft = require "peft"
local cjson = require "cjson"
local helpers = require "helpers"

local reference = peft.core.json_decode(helpers.read("tests/fixtures/peft_methods.json"))

-- a snapshot of everything observable in the registry
local function snapshot()
  local s = { types = {}, methods = {} }
  for i, t in ipairs(peft.PeftType) do s.types[i] = t end
  for i, m in ipairs(peft.methods()) do
    s.methods[i] = table.concat({ m.name, m.peft_type, m.prefix, tostring(m.is_mixed_compatible) }, "|")
  end
  for _, view in ipairs { "PEFT_TYPE_TO_CONFIG_MAPPING", "PEFT_TYPE_TO_TUNER_MAPPING",
                          "PEFT_TYPE_TO_PREFIX_MAPPING", "PEFT_TYPE_TO_MIXED_MODEL_MAPPING" } do
    local keys = {}
    for k in pairs(peft[view]) do keys[#keys + 1] = k end
    s[view] = table.concat(keys, ",")
  end
  return s
end

local function new_method(name, prefix)
  local cls = peft.declare_config { name = name .. "_Config" .. tostring(math.random(1e9)), fields = {} }
  local model = peft.declare_model { name = name .. "Model", prefix = prefix }
  return cls, model
end

describe("PeftType", function()
  it("has every member of the reference, in declaration order", function()
    assert.are.equal(#reference.peft_types, #peft.PeftType)
    for i, name in ipairs(reference.peft_types) do
      assert.are.equal(name, peft.PeftType[i])
      assert.are.equal(name, peft.PeftType[name])
    end
    assert.is_nil(peft.PeftType[#reference.peft_types + 1])
  end)

  it("members are plain strings: compare, serialise, index tables", function()
    assert.are.equal("LORA", peft.PeftType.LORA)
    assert.are.equal("string", type(peft.PeftType.LORA))
    assert.are.equal('["LORA","IA3"]', cjson.encode({ peft.PeftType.LORA, peft.PeftType.IA3 }))
    local t = { [peft.PeftType.LORA] = 1 }
    assert.are.equal(1, t.LORA)
  end)

  it("iterates with pairs and ipairs in declaration order", function()
    local seen = {}
    for k, v in pairs(peft.PeftType) do
      assert.are.equal(k, v)
      seen[#seen + 1] = k
    end
    assert.are.same(reference.peft_types, seen)
    local n = 0
    for i, v in ipairs(peft.PeftType) do
      n = i
      assert.are.equal(reference.peft_types[i], v)
    end
    assert.are.equal(45, n)
  end)

  it("tests membership by call, returning nil and a message on a miss", function()
    assert.are.equal("LORA", peft.PeftType("LORA"))
    local v, msg = peft.PeftType("lora")
    assert.is_nil(v)
    assert.are.equal("unknown PeftType member 'lora' (did you mean 'LORA'?)", msg)
  end)

  it("raises on an unknown member, naming the closest ones", function()
    local err = helpers.error_of(function() return peft.PeftType.LORAA end)
    assert.are.equal("AttributeError", err.kind)
    assert.are.equal("unknown PeftType member 'LORAA' (did you mean 'LORA'?)", err.message)
    err = helpers.error_of(function() return peft.PeftType.LOKA end)
    assert.are.equal("unknown PeftType member 'LOKA' (did you mean 'LORA', 'LOHA', 'LOKR'?)", err.message)
    err = helpers.error_of(function() return peft.PeftType.ZZZZZZZZ end)
    assert.are.equal("unknown PeftType member 'ZZZZZZZZ'", err.message)
  end)

  it("is read-only", function()
    local err = helpers.error_of(function() peft.PeftType.NEW = "NEW" end)
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("PeftType is read-only (cannot set 'NEW'); add members with peft.add_peft_type", err.message)
    assert.is_nil(peft.PeftType("NEW"))
    assert.are.equal(false, getmetatable(peft.PeftType))
  end)
end)

describe("TaskType", function()
  it("has the six members in order", function()
    local seen = {}
    for _, v in ipairs(peft.TaskType) do seen[#seen + 1] = v end
    assert.are.same(reference.task_types, seen)
    assert.are.equal(6, #peft.TaskType)
    assert.are.equal("CAUSAL_LM", peft.TaskType.CAUSAL_LM)
  end)

  it("raises on a misspelt member", function()
    local err = helpers.error_of(function() return peft.TaskType.CASUAL_LM end)
    assert.are.equal("unknown TaskType member 'CASUAL_LM' (did you mean 'CAUSAL_LM'?)", err.message)
  end)
end)

describe("add_peft_type", function()
  it("adds an upper-case identifier", function()
    assert.are.equal("MY_METHOD", peft.add_peft_type("MY_METHOD"))
    assert.are.equal("MY_METHOD", peft.PeftType.MY_METHOD)
    assert.are.equal(46, #peft.PeftType)
    assert.are.equal("MY_METHOD", peft.PeftType[46])
  end)

  it("refuses a taken name, a lower-case one and a non-identifier", function()
    local err = helpers.error_of(peft.add_peft_type, "LORA")
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("PeftType already has a member 'LORA'", err.message)
    err = helpers.error_of(peft.add_peft_type, "my_method")
    assert.are.equal("PeftType member must be an upper-case identifier ([A-Z][A-Z0-9_]*), got 'my_method'",
      err.message)
    err = helpers.error_of(peft.add_peft_type, "MY-METHOD")
    assert.are.equal("ValueError", err.kind)
    err = helpers.error_of(peft.add_peft_type, 42)
    assert.are.equal("TypeError", err.kind)
  end)
end)

describe("built-in methods", function()
  it("match the reference: name, PeftType, prefix, mixed flag, classes", function()
    local methods = peft.methods()
    assert.are.equal(#reference.methods, #methods)
    for i, ref in ipairs(reference.methods) do
      local m = methods[i]
      assert.are.equal(ref.name, m.name)
      assert.are.equal(ref.peft_type, m.peft_type)
      assert.are.equal(ref.prefix, m.prefix)
      assert.are.equal(ref.is_mixed_compatible, m.is_mixed_compatible)
      assert.are.equal(ref.shares_prefix_with, m.shares_prefix_with)
      assert.are.equal(ref.config_class, m.config_cls.name)
      assert.are.equal(ref.model_class, m.model_cls.name)
      assert.are.equal(ref.prefix, m.model_cls.prefix)
      assert.are.equal(ref.peft_type, m.config_cls.peft_type)
      assert.are.equal(ref.is_prompt_learning, m.config_cls.is_prompt_learning)
      assert.are.equal(ref.is_adaption_prompt, m.config_cls.is_adaption_prompt)
    end
  end)
end)

describe("the mappings", function()
  it("are keyed by PeftType", function()
    assert.are.equal(peft.LoraConfig, peft.PEFT_TYPE_TO_CONFIG_MAPPING[peft.PeftType.LORA])
    assert.are.equal("LoraModel", peft.PEFT_TYPE_TO_TUNER_MAPPING.LORA.name)
    assert.are.equal("lora_", peft.PEFT_TYPE_TO_PREFIX_MAPPING.ADALORA)
    assert.are.equal("hada_", peft.PEFT_TYPE_TO_PREFIX_MAPPING.LOHA)
    assert.is_nil(peft.PEFT_TYPE_TO_CONFIG_MAPPING.NOT_A_TYPE)
  end)

  it("hold in the mixed mapping only the mixed-compatible methods", function()
    local mixed = {}
    for k, v in pairs(peft.PEFT_TYPE_TO_MIXED_MODEL_MAPPING) do
      mixed[#mixed + 1] = k
      assert.are.equal(peft.PEFT_TYPE_TO_TUNER_MAPPING[k], v)
    end
    table.sort(mixed)
    assert.are.same({ "ADALORA", "BEFT", "HIRA", "IA3", "LOHA", "LOKR", "LORA", "ROAD", "SHIRA" }, mixed)
    assert.are.equal(9, #peft.PEFT_TYPE_TO_MIXED_MODEL_MAPPING)
    assert.are.equal(45, #peft.PEFT_TYPE_TO_CONFIG_MAPPING)
  end)

  it("are read-only", function()
    for _, view in ipairs { "PEFT_TYPE_TO_CONFIG_MAPPING", "PEFT_TYPE_TO_TUNER_MAPPING",
                            "PEFT_TYPE_TO_PREFIX_MAPPING", "PEFT_TYPE_TO_MIXED_MODEL_MAPPING" } do
      local err = helpers.error_of(function() peft[view].LORA = "x" end)
      assert.are.equal("TypeError", err.kind)
      assert.are.equal(view .. " is read-only (cannot set LORA); use peft.register_peft_method", err.message)
    end
    assert.are.equal("lora_", peft.PEFT_TYPE_TO_PREFIX_MAPPING.LORA)
  end)
end)

describe("register_peft_method", function()
  -- each row of the registration table: the error kind and the exact message,
  -- and nothing changed
  local function expect(spec, kind, message)
    local before = snapshot()
    local err = helpers.error_of(peft.register_peft_method, spec)
    assert.are.equal(kind, err.kind)
    assert.are.equal(message, err.message)
    -- tostring names the place of the call (helpers.error_of's pcall), as error(msg, 2) would
    assert.truthy(err.where and err.where:match("helpers%.lua:%d+$"), err.where)
    assert.are.equal(err.where .. ": " .. kind .. ": " .. message, tostring(err))
    assert.are.same(before, snapshot())
  end

  it("rejects a name ending with '_'", function()
    local cls, model = new_method("x")
    expect({ name = "lora_", config_cls = cls, model_cls = model }, "ValueError",
      "Name cannot end with '_', got lora_")
  end)

  it("rejects a name that is not lowercase", function()
    local cls, model = new_method("x")
    expect({ name = "MyMethod", config_cls = cls, model_cls = model }, "ValueError",
      "Name must be lowercase, got MyMethod")
  end)

  it("rejects a name whose upper-case form is not a PeftType member", function()
    local cls, model = new_method("x")
    expect({ name = "loraa", config_cls = cls, model_cls = model }, "ValueError",
      "Unknown PEFT type LORAA, add to PeftType enum first")
  end)

  it("rejects a method that is already registered", function()
    local cls, model = new_method("x")
    expect({ name = "lora", config_cls = cls, model_cls = model, prefix = "fresh_" }, "KeyError",
      "There is already PEFT method called 'lora'")
  end)

  it("rejects a prefix that another method uses", function()
    peft.add_peft_type("MY_DUP")
    local cls, model = new_method("x")
    expect({ name = "my_dup", config_cls = cls, model_cls = model, prefix = "lora_" }, "KeyError",
      "There is already a prefix called 'lora_'")
    -- a default prefix that collides is caught too
    peft.add_peft_type("HADA")
    expect({ name = "hada", config_cls = cls }, "KeyError", "There is already a prefix called 'hada_'")
  end)

  it("allows a shared prefix only when declared", function()
    peft.add_peft_type("LORA_PLUS")
    local cls, model = new_method("x", "lora_")
    expect({ name = "lora_plus", config_cls = cls, model_cls = model, prefix = "lora_",
             shares_prefix_with = "ia3" }, "ValueError",
      "Method 'lora_plus' declares that it shares the prefix of 'ia3', but 'ia3' uses 'ia3_', not 'lora_'")
    peft.register_peft_method { name = "lora_plus", config_cls = cls, model_cls = model, prefix = "lora_",
                                shares_prefix_with = "lora" }
    assert.are.equal("lora_", peft.PEFT_TYPE_TO_PREFIX_MAPPING.LORA_PLUS)
    assert.are.equal("lora", peft.method("lora_plus").shares_prefix_with)
  end)

  it("rejects a model class whose prefix differs", function()
    peft.add_peft_type("MY_PFX")
    local cls, model = new_method("x", "other_")
    expect({ name = "my_pfx", config_cls = cls, model_cls = model, prefix = "my_pfx_" }, "ValueError",
      "Inconsistent prefixes: 'my_pfx_' vs 'other_'")
    -- with the default prefix too
    expect({ name = "my_pfx", config_cls = cls, model_cls = model }, "ValueError",
      "Inconsistent prefixes: 'my_pfx_' vs 'other_'")
  end)

  it("rejects a config class of another PeftType", function()
    peft.add_peft_type("MY_TYPED")
    local model = peft.declare_model { name = "M" }
    expect({ name = "my_typed", config_cls = peft.LoraConfig, model_cls = model }, "ValueError",
      "Inconsistent peft_type: method 'my_typed' is MY_TYPED but its config class is LORA")
  end)

  it("rejects a missing config class, a bad name type and unknown arguments", function()
    peft.add_peft_type("MY_ARGS")
    expect({ name = "my_args" }, "TypeError", "register_peft_method: 'config_cls' is required")
    expect({ name = 42, config_cls = {} }, "TypeError", "register_peft_method: 'name' must be a string, got number")
    expect({ name = "my_args", config_cls = {}, prefixx = "a_" }, "TypeError",
      "register_peft_method got an unknown argument 'prefixx' (did you mean 'prefix'?)")
    expect({ name = "my_args", config_cls = {}, prefix = 7 }, "TypeError",
      "register_peft_method: 'prefix' must be a string, got number")
  end)

  it("registers: prefix, config and tuner mappings set; mixed only when compatible", function()
    peft.add_peft_type("MY_OK")
    peft.add_peft_type("MY_MIXED")
    local before = #peft.PEFT_TYPE_TO_CONFIG_MAPPING
    local cls, model = new_method("x", "my_ok_")
    peft.register_peft_method { name = "my_ok", config_cls = cls, model_cls = model }
    assert.are.equal("my_ok_", peft.PEFT_TYPE_TO_PREFIX_MAPPING.MY_OK)
    assert.are.equal(cls, peft.PEFT_TYPE_TO_CONFIG_MAPPING.MY_OK)
    assert.are.equal(model, peft.PEFT_TYPE_TO_TUNER_MAPPING.MY_OK)
    assert.is_nil(peft.PEFT_TYPE_TO_MIXED_MODEL_MAPPING.MY_OK)
    local cls2, model2 = new_method("y")
    peft.register_peft_method { name = "my_mixed", config_cls = cls2, model_cls = model2, prefix = "mm_",
                                is_mixed_compatible = true }
    assert.are.equal(model2, peft.PEFT_TYPE_TO_MIXED_MODEL_MAPPING.MY_MIXED)
    assert.are.equal(before + 2, #peft.PEFT_TYPE_TO_CONFIG_MAPPING)
  end)
end)
