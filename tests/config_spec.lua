-- The config class machinery itself: construction, field access, options
-- (check_type, type_error, set), class-bound loaders, derived values.
local peft = require "peft"
local helpers = require "helpers"

describe("config objects", function()
  it("read and write fields like a table, type-checking assignments", function()
    local cfg = peft.LoraConfig { r = 16 }
    assert.are.equal(16, cfg.r)
    cfg.r = 32
    assert.are.equal(32, cfg.r)
    local err = helpers.error_of(function() cfg.r = "big" end)
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('LoraConfig.r: expected an integer, got "big"', err.message)
    err = helpers.error_of(function() return cfg.rr end)
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("LoraConfig has no field 'rr' (did you mean 'r'?)", err.message)
    err = helpers.error_of(function() cfg.lora_alfa = 3 end)
    assert.are.equal("LoraConfig has no field 'lora_alfa' (did you mean 'lora_alpha'?)", err.message)
  end)

  it("refuse an unknown constructor field, naming the closest", function()
    local err = helpers.error_of(peft.LoraConfig, { lora_dropuot = 0.1 })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("LoraConfig got an unknown field 'lora_dropuot' (did you mean 'lora_dropout'?)", err.message)
  end)

  it("know their class flags", function()
    assert.is_false(peft.LoraConfig{}.is_prompt_learning)
    assert.is_true(peft.PromptTuningConfig{}.is_prompt_learning)
    assert.is_true(peft.AdaptionPromptConfig{}.is_adaption_prompt)
    assert.is_true(peft.MultitaskPromptTuningConfig.is_prompt_learning)
  end)

  it("list and describe their fields, with the declaring class", function()
    local f = peft.AdaLoraConfig:field("rank_pattern")
    assert.are.equal("AdaLoraConfig", f.declared_in)
    assert.is_nil(f.default)
    assert.are.equal("LoraConfig", peft.AdaLoraConfig:field("r").declared_in)
    assert.are.equal("PeftConfig", peft.AdaLoraConfig:field("task_type").declared_in)
    local none, msg = peft.LoraConfig:field("rr")
    assert.is_nil(none)
    assert.are.equal("LoraConfig has no field 'rr' (did you mean 'r'?)", msg)
    local names = {}
    for _, c in ipairs(peft.MultitaskPromptTuningConfig:lineage()) do names[#names + 1] = c.name end
    assert.are.same({ "MultitaskPromptTuningConfig", "PromptTuningConfig", "PromptLearningConfig", "PeftConfig" }, names)
  end)

  it("report the fields that differ from the defaults", function()
    local d = peft.LoraConfig { r = 4, target_modules = { "q" } }:diff()
    assert.are.equal(2, #d)
    assert.are.equal("r", d[1].name)
    assert.are.equal(8, d[1].default)
    assert.are.equal("LoraConfig(r=4, target_modules=[\"q\"])", tostring(peft.LoraConfig { r = 4, target_modules = { "q" } }))
  end)

  it("compare equal by value", function()
    assert.are.equal(peft.LoraConfig { r = 4 }, peft.LoraConfig { r = 4 })
    assert.are_not.equal(peft.LoraConfig { r = 4 }, peft.LoraConfig { r = 5 })
  end)

  it("compare unequal to an object of another class with the same fields, and to a plain table", function()
    local mark = peft.registry.mark() -- the classes declared here go at the end
    local X = peft.config.declare { name = "EqSpecConfig", parent = peft.IA3Config, fields = {} }
    local a, b = peft.IA3Config {}, X {}
    assert.are.same(a:to_dict(), b:to_dict())
    assert.is_false(a == b)
    assert.is_false(a == setmetatable({}, { __eq = function() return false end }))
    peft.registry.rollback(mark)
  end)

  it("read None fields as nil, iterate their fields in order, and validate in place", function()
    local cfg = peft.LoraConfig { r = 4 }
    assert.is_nil(cfg.target_modules)
    assert.is_nil(rawget(cfg, "r")) -- the object holds no field: every assignment is checked
    local names = {}
    for k, v in pairs(cfg) do
      names[#names + 1] = k
      if k == "r" then assert.are.equal(4, v) end
    end
    assert.are.equal(#peft.LoraConfig.fields, #names)
    assert.are.equal("task_type", names[1])
    cfg:validate()
    cfg.r = 6
    assert.are.equal(6, cfg.r)
    assert.are.equal(6, cfg:to_dict().r)
    local err = helpers.error_of(function() cfg.r = "x" end)
    assert.are.equal("LoraConfig.r: expected an integer, got \"x\"", err.message)
  end)

  it("see methods added, replaced or removed on their class chain after they were used", function()
    local Base = peft.config.Base
    local cfg = peft.IA3Config {}
    local original = cfg:to_json()
    assert.are.equal(Base.to_json, cfg.to_json)
    -- an override in the class (a new key)
    peft.IA3Config.to_json = function() return "class" end
    assert.are.equal("class", cfg:to_json())
    -- replaced in place
    peft.IA3Config.to_json = function() return "again" end
    assert.are.equal("again", cfg:to_json())
    -- removed: Base's again
    peft.IA3Config.to_json = nil
    assert.are.equal(original, cfg:to_json())
    -- a method added to a parent class after the look-up was cached
    assert.has_error(function() return cfg.describe_me end)
    peft.PeftConfig.describe_me = function(self) return "parent " .. self:get_class().name end
    assert.are.equal("parent IA3Config", cfg:describe_me())
    peft.PeftConfig.describe_me = nil
    -- Base's entry replaced in place
    local saved = Base.repr
    Base.repr = function() return "base" end
    assert.are.equal("base", tostring(cfg))
    Base.repr = saved
    assert.are.equal("IA3Config()", tostring(cfg))
    assert.has_error(function() return cfg.describe_me end)
  end)

  it("give each object its own copy of a default that is a config object, made when first read", function()
    local a, b = peft.LoraConfig {}, peft.LoraConfig {}
    assert.is_nil(rawget(rawget(a, peft.config.STATE).values, "runtime_config")) -- not made yet
    local seen
    for k, v in pairs(a) do if k == "runtime_config" then seen = v end end
    assert.is_true(peft.config.is_config(seen))
    assert.are.equal(seen, a.runtime_config)
    a.runtime_config.ephemeral_gpu_offload = true
    assert.is_false(b.runtime_config.ephemeral_gpu_offload)
    assert.is_false(peft.LoraConfig:field("runtime_config").default.ephemeral_gpu_offload)
    assert.is_true(a:replace({ r = 4 }).runtime_config.ephemeral_gpu_offload) -- carried over
    local c = a:copy()
    c.runtime_config.ephemeral_gpu_offload = false
    assert.is_true(a.runtime_config.ephemeral_gpu_offload)
    assert.is_nil(a:to_dict().runtime_config) -- never written
    assert.is_false(peft.LoraConfig {}:replace({}).runtime_config.ephemeral_gpu_offload)
  end)

  it("hand post_init the class (chk.class) and set peft_type to the class's own", function()
    local mark = peft.registry.mark() -- the classes declared here go at the end
    local seen
    local X = peft.config.declare { name = "ChkSpecConfig", parent = peft.IA3Config, fields = {},
      post_init = function(self, chk) seen = chk.class end }
    local cfg = X { peft_type = "LORA" }
    assert.are.equal(X, seen)
    assert.are.equal("IA3", cfg.peft_type) -- what the class says, whatever was given
    assert.are.equal("IA3", peft.IA3Config {}.peft_type)
    peft.registry.rollback(mark)
  end)

  it("hand each post_init the chk of its own object, when it builds another of its class", function()
    local mark = peft.registry.mark()
    local X
    X = peft.config.declare { name = "NestSpecConfig", parent = peft.IA3Config, fields = {
      { "depth", "int", 0, "how deep" }, { "bad", "bool", false, "fail" } },
      post_init = function(self, chk)
        if self.bad then chk.fail("bad", "asked to fail") end
        if self.depth > 0 then
          local inner = X { depth = self.depth - 1 } -- built inside, and fine
          assert(inner.depth == self.depth - 1)
          local ok = pcall(X, { bad = true }) -- built inside, and refused
          assert(not ok)
        end
        chk.warn("depth %d", self.depth) -- still this object's
        assert(chk.values.depth == self.depth)
      end }
    local outer = X { depth = 2 }
    assert.are.same({ "NestSpecConfig: depth 2" }, outer:warnings())
    local inner = X { depth = 0 }
    assert.are.same({ "NestSpecConfig: depth 0" }, inner:warnings())
    peft.registry.rollback(mark)
  end)

  it("know which fields were given, null included, in post_init (chk.given) and after (was_given)", function()
    local mark = peft.registry.mark() -- the classes declared here go at the end
    local seen = {}
    local X = peft.config.declare { name = "GivenSpecConfig", parent = peft.IA3Config, fields = {
      { "extra_a", "Optional[int]", 3, "a" }, { "extra_b", "Optional[dict]", {}, "b" } },
      post_init = function(self, chk)
        for _, n in ipairs { "target_modules", "extra_a", "extra_b", "fan_in_fan_out", "nope" } do seen[n] = chk.given(n) end
      end }
    local cfg = X { extra_a = peft.null, target_modules = { "q" }, extra_b = { k = 1 } }
    assert.are.same({ target_modules = true, extra_a = true, extra_b = true, fan_in_fan_out = false, nope = false }, seen)
    assert.is_nil(cfg.extra_a) -- null given: no default
    assert.is_true(cfg:was_given("extra_a"))
    assert.is_true(cfg:was_given("target_modules"))
    assert.is_false(cfg:was_given("fan_in_fan_out"))
    assert.is_false(cfg:was_given("no_such_field"))
    assert.is_true(cfg:copy():was_given("extra_b"))
    assert.are.same({}, X {}.extra_b) -- a table default when not given
    assert.are.equal(3, X {}.extra_a)
    peft.registry.rollback(mark)
  end)

  it("may be declared with a function returning the fields; anything else is refused", function()
    local mark = peft.registry.mark() -- the classes declared here go at the end
    local X = peft.config.declare { name = "FnFieldsSpecConfig", parent = peft.IA3Config,
      fields = function() return { { "extra_n", "int", 2, "n" } } end }
    assert.are.equal(2, X {}.extra_n)
    assert.are.equal("IA3Config", X:field("fan_in_fan_out").declared_in)
    local err = helpers.error_of(peft.config.declare, { name = "BadFieldsSpecConfig", fields = "r" })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("BadFieldsSpecConfig: fields must be a list of field declarations (or a function returning one),"
      .. " got a string", err.message)
    err = helpers.error_of(peft.config.declare, { name = "BadFieldsSpecConfig", fields = function() return 3 end })
    assert.are.equal("BadFieldsSpecConfig: fields must be a list of field declarations, got an integer", tostring(err))
    assert.is_nil(peft.config.classes.BadFieldsSpecConfig)
    peft.registry.rollback(mark)
  end)

  it("copy and replace, re-validating", function()
    local a = peft.LoraConfig { r = 4 }
    local b = a:replace { r = 8 }
    assert.are.equal(4, a.r)
    assert.are.equal(8, b.r)
    local err = helpers.error_of(a.replace, a, { layers_pattern = "layers" })
    assert.are.equal("ValueError", err.kind)
  end)
end)

describe("field options", function()
  it("check_type accepts what PEFT accepts beyond its annotation", function()
    local _, ok, cfg = peft.capture_warnings(peft.ShiraConfig, { mask_type = "my_mask" })
    assert.is_true(ok, tostring(cfg))
    assert.are.equal("my_mask", cfg.mask_type)
    assert.are.equal("Literal['random']", peft.ShiraConfig:field("mask_type").type)
    assert.are.equal("lora_ga", peft.LoraConfig { init_lora_weights = "lora_ga" }.init_lora_weights)
  end)

  it("type_error makes a wrongly typed value a TypeError, as in PEFT", function()
    local err = helpers.error_of(peft.LoraConfig, { target_parameters = "experts" })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal('LoraConfig.target_parameters: expected a list of strings or null, got "experts"', err.message)
  end)

  it("pissa_niter_N is accepted and other suffixes are not", function()
    assert.are.equal("pissa_niter_16", peft.LoraConfig { init_lora_weights = "pissa_niter_16" }.init_lora_weights)
    local err = helpers.error_of(peft.LoraConfig, { init_lora_weights = "pissa_niter_x" })
    assert.are.equal("ValueError", err.kind)
  end)
end)

describe("class-bound loaders", function()
  it("know the class they are called on, with . or :", function()
    local text = '{"peft_type": "IA3"}'
    assert.are.equal("IA3Config", peft.IA3Config.from_json(text):get_class().name)
    assert.are.equal("IA3Config", peft.IA3Config:from_json(text):get_class().name)
    local err = helpers.error_of(peft.LoraConfig.from_json, text)
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("peft_type IA3 is a IA3Config, not a LoraConfig", err.message)
    -- PeftConfig and a parent class accept their subclasses
    assert.are.equal("AdaLoraConfig",
      peft.LoraConfig.from_json('{"peft_type": "ADALORA", "total_step": 10}'):get_class().name)
  end)
end)

describe("prompt-learning configs", function()
  it("leave num_transformer_submodules null when built, as PEFT does (its prompt encoder fills it in)", function()
    assert.is_nil(peft.PromptTuningConfig { task_type = "SEQ_2_SEQ_LM" }.num_transformer_submodules)
    assert.is_nil(peft.PrefixTuningConfig { task_type = "CAUSAL_LM" }.num_transformer_submodules)
    assert.is_nil(peft.PromptEncoderConfig { task_type = "SEQ_CLS" }.num_transformer_submodules)
    assert.is_nil(peft.CartridgeConfig { task_type = "CAUSAL_LM" }.num_transformer_submodules)
    assert.are.equal(3, peft.PromptTuningConfig { task_type = "CAUSAL_LM",
                                                  num_transformer_submodules = 3 }.num_transformer_submodules)
  end)

  it("keep what a loaded file says, so that load and save change nothing", function()
    local cfg = peft.from_json('{"peft_type": "PROMPT_TUNING", "task_type": "SEQ_2_SEQ_LM"}')
    assert.is_nil(cfg.num_transformer_submodules)
  end)
end)

describe("the constructor's field pass (core.config_filler)", function()
  local core = peft.core
  local types = require "peft.types"
  local F = types.FILL
  local null = core.null
  local function arr(t) return setmetatable(t, core.json_array_mt) end
  local names = { "s", "i", "n", "b", "lst", "set", "d", "lit", "other" }
  -- the names whose bit is set in a given-string
  local function given_names(given)
    local set = {}
    for i, name in ipairs(names) do
      local b = given:byte((i - 1) // 8 + 1)
      if b & (1 << ((i - 1) % 8)) ~= 0 then set[name] = true end
    end
    return set
  end

  local codes = { F.STR | 16, F.INT, F.NUMBER, F.BOOL, F.STR_LIST | 16, F.STR_LIST | F.SORTED, F.DICT, F.LITERAL, 0 }
  local fill = core.config_filler(names, codes, { "dflt", 7, [9] = 0 }, { [8] = { none = true, all = true } })

  it("takes the values each field passes as they are and hands the rest back, in field order", function()
    local l, sorted, d = arr { "b", "a" }, arr { "a", "b" }, { x = 1 }
    local args = { s = "x", i = 3, n = 0.5, b = false, lst = l, set = sorted, d = d, lit = "all", other = 1 }
    local values, given, nfound, nkeys, rest = fill(args)
    assert.are.same({ s = "x", i = 3, n = 0.5, b = false, lst = l, set = sorted, d = d, lit = "all" }, values)
    assert.are.equal(l, values.lst) -- not copied
    assert.are.equal(9, nfound)
    assert.are.equal(9, nkeys)
    assert.are.same({ 9 }, rest)
    assert.are.equal(2, #given) -- nine fields: two bytes
    assert.are.same({ s = true, i = true, n = true, b = true, lst = true, set = true, d = true, lit = true,
      other = true }, given_names(given))
  end)

  it("puts in the defaults of fields not given; null empties a nullable field, and goes to Lua for another",
    function()
    local values, given, nfound, nkeys, rest = fill { extra = true }
    assert.are.same({ s = "dflt", i = 7, other = 0 }, values)
    assert.is_nil(rest)
    values, given, nfound, nkeys, rest = fill { s = null, i = null, extra = true }
    assert.are.same({ other = 0 }, values) -- i is not nullable: Lua decides
    assert.are.same({ s = true, i = true }, given_names(given))
    assert.are.equal(2, nfound)
    assert.are.equal(3, nkeys) -- 'extra' is not a field
    assert.are.same({ 2 }, rest)
  end)

  it("hands back wrong kinds, floats for integers, unsorted sets, plain lists, odd dicts and other literals",
    function()
    local cases = {
      { s = 1 }, { i = 1.0 }, { i = "1" }, { n = "0.5" }, { b = 0 },
      { lst = { "a" } },                -- a Lua table without the JSON array metatable: copied by Lua
      { lst = arr { "a", 1 } },         -- an item that is not a string
      { set = arr { "b", 1 } },         -- a set field with an item that is not a string
      { d = { [1] = "x" } },            -- a key that is not a string
      { d = arr {} },                   -- the array metatable
      { lit = "lora_only" }, { lit = true },
    }
    for _, args in ipairs(cases) do
      local _, _, _, _, rest = fill(args)
      local k = next(args)
      local idx
      for i, n in ipairs(names) do if n == k then idx = i end end
      assert.are.same({ idx }, rest, k)
    end
    local values, _, _, _, rest = fill { n = 3, set = arr {} }
    assert.is_nil(rest) -- an integer is a number; an empty set is sorted
    assert.are.equal(3, values.n)
  end)

  it("sorts a set field's list of strings itself, without repeats, and leaves a long one to Lua", function()
    local given = arr { "v", "q", "k", "q", "a" }
    local values, _, _, _, rest = fill { set = given }
    assert.is_nil(rest)
    assert.are.same({ "a", "k", "q", "v" }, values.set)
    assert.are.equal(core.json_array_mt, getmetatable(values.set))
    assert.are_not.equal(given, values.set) -- a copy: the caller's list is left as it was
    assert.are.same({ "v", "q", "k", "q", "a" }, given)
    local sorted = arr { "a", "b" }
    values = fill { set = sorted }
    assert.are.equal(sorted, values.set) -- already a set: kept as it is
    values = fill { set = arr { "b", "b" } }
    assert.are.same({ "b" }, values.set)
    local long = arr {}
    for i = 65, 1, -1 do long[#long + 1] = string.format("m%03d", i) end
    values, _, _, _, rest = fill { set = long }
    local idx
    for i, n in ipairs(names) do if n == "set" then idx = i end end
    assert.are.same({ idx }, rest) -- over 64 items: sorted by the Lua side
    long[#long] = nil
    values, _, _, _, rest = fill { set = long }
    assert.is_nil(rest)
    assert.are.equal("m002", values.set[1])
    assert.are.equal(64, #values.set)
  end)

  it("gives each object its own deep copy of a table default, JSON arrays kept as arrays", function()
    local default = { modules = arr { "q", "v" }, nested = { depth = { 1, 2 } }, flag = true, none = null }
    local f = core.config_filler({ "t", "u" }, { F.DICT, 0 }, { default }, {})
    local a, b = f {}, f {}
    assert.are.same(default, a.t)
    assert.are_not.equal(default, a.t)
    assert.are_not.equal(a.t, b.t)
    assert.are_not.equal(a.t.nested, b.t.nested)
    assert.are_not.equal(default.nested.depth, a.t.nested.depth)
    assert.are.equal(core.json_array_mt, getmetatable(a.t.modules))
    assert.is_nil(getmetatable(a.t.nested))
    a.t.nested.depth[1] = 99
    assert.are.equal(1, b.t.nested.depth[1])
    assert.are.equal(1, default.nested.depth[1])
    local given = { x = 1 }
    assert.are.equal(given, f({ t = given }).t) -- given: taken as it is, no default
  end)

  it("takes an empty plain table for EMPTY_DICT, and hands back any other", function()
    local f = core.config_filler({ "nested" }, { F.EMPTY_DICT }, {}, {})
    local empty = {}
    local values, _, _, _, rest = f { nested = empty }
    assert.are.equal(empty, values.nested)
    assert.is_nil(rest)
    for _, v in ipairs { { x = 1 }, { 1 }, setmetatable({}, {}), arr {}, "x" } do
      values, _, _, _, rest = f { nested = v }
      assert.are.same({ 1 }, rest)
      assert.is_nil(rawget(values, "nested"))
    end
  end)

  it("raises, not recurses without end, on a default changed since to hold itself", function()
    local default = { inner = {} }
    local f = core.config_filler({ "t" }, { F.DICT }, { default }, {})
    default.inner.again = default -- after the check the filler made
    local ok, err = pcall(f, {})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("nested too deep (or holds itself)", 1, true))
    default.inner.again = nil
    assert.are.same(default, (f {}).t)
  end)

  it("refuses a table default it cannot copy", function()
    local function refusal(default)
      local ok, err = pcall(core.config_filler, { "t" }, { 0 }, { default }, {})
      assert.is_false(ok)
      return err
    end
    assert.truthy(refusal({ setmetatable({}, {}) }):find("a table default must hold only plain values", 1, true))
    assert.truthy(refusal({ f = print }):find("a table default must hold only plain values", 1, true))
    assert.truthy(refusal(print):find("a default must be a plain value", 1, true))
    local deep = {}
    local t = deep
    for _ = 1, 20 do t.x = {}; t = t.x end
    assert.truthy(refusal(deep):find("a table default must hold only plain values", 1, true))
  end)

  it("hands back several fields in field order, whatever order args holds them in", function()
    local _, _, _, _, rest = fill { other = 1, s = 1, d = arr {}, i = "x" }
    assert.are.same({ 1, 2, 7, 9 }, rest)
  end)

  it("adopts args as values when asked: defaults put in, nulls taken out, sets sorted, the rest left", function()
    local args = { s = null, set = arr { "b", "a" }, d = { x = 1 }, i = "x", extra = true }
    local values, given, nfound, nkeys, rest = fill(args, nil, true)
    assert.are.equal(args, values)
    assert.is_nil(values.s) -- a nullable field's null: None
    assert.are.same({ "a", "b" }, values.set)
    assert.are.equal(core.json_array_mt, getmetatable(values.set))
    assert.are.same({ x = 1 }, values.d)
    assert.are.equal("x", values.i) -- left for Lua to check (and replace)
    assert.are.same({ 2 }, rest)
    assert.are.equal(0, values.other) -- a default put in
    assert.is_true(values.extra) -- not a field: the caller takes it out
    assert.are.equal(4, nfound)
    assert.are.equal(5, nkeys)
    assert.are.same({ s = true, set = true, d = true, i = true }, given_names(given))
    local copy = { s = "x" }
    assert.are_not.equal(copy, (fill(copy))) -- not asked: a new table
    assert.is_nil(copy.i) -- and args left as it was
    local ok, err = pcall(fill, setmetatable({}, {}), nil, true)
    assert.is_false(ok)
    assert.truthy(err:find("cannot be adopted", 1, true))
  end)

  it("reads args through its metatable, if it has one", function()
    local args = setmetatable({}, { __index = function(_, k) if k == "i" then return 5 end end })
    local values, given, nfound, nkeys = fill(args)
    assert.are.equal(5, values.i)
    assert.are.same({ i = true }, given_names(given))
    assert.are.equal(1, nfound)
    assert.are.equal(0, nkeys)
  end)

  it("handles classes of any number of fields", function()
    local values, given, nfound, nkeys, rest = core.config_filler({}, {}, {}, {}) { a = 1 }
    assert.are.same({}, values)
    assert.are.equal("", given)
    assert.are.equal(0, nfound)
    assert.are.equal(1, nkeys)
    assert.is_nil(rest)
    for _, n in ipairs { 8, 9, 1024, 1025, 3000 } do
      local ns, cs = {}, {}
      for i = 1, n do ns[i], cs[i] = "f" .. i, F.INT end
      values, given, nfound, nkeys, rest = core.config_filler(ns, cs, {}, {}) { f1 = 1, f7 = "x", ["f" .. n] = 2 }
      assert.are.equal((n + 7) // 8, #given)
      assert.are.equal(3, nfound)
      assert.are.equal(3, nkeys)
      assert.are.same({ f1 = 1, ["f" .. n] = 2 }, values)
      local set = 0
      for i = 1, #given do
        local b = given:byte(i)
        while b > 0 do set, b = set + (b & 1), b >> 1 end
      end
      assert.are.equal(3, set)
      assert.are.equal(1, (given:byte((n - 1) // 8 + 1) >> ((n - 1) % 8)) & 1)
      assert.are.same({ 7 }, rest)
    end
  end)

  it("refuses a malformed plan, in lauxlib's words", function()
    local function refusal(...)
      local ok, err = pcall(core.config_filler, ...)
      assert.is_false(ok)
      return (err:gsub("'[%w%.]*config_filler'", "'config_filler'"))
    end
    assert.are.equal("bad argument #2 to 'config_filler' (one code per name)", refusal({ "a" }, {}, {}, {}))
    assert.are.equal("bad argument #2 to 'config_filler' (every code must be a set of FILL_* bits)",
      refusal({ "a" }, { 1024 }, {}, {}))
    assert.are.equal("bad argument #4 to 'config_filler' (a field with FILL_LITERAL needs its set of literals)",
      refusal({ "a" }, { F.LITERAL }, {}, {}))
    assert.are.equal("bad argument #1 to 'config_filler' (every name must be a string)", refusal({ 1 }, { 0 }, {}, {}))
    assert.are.equal("bad argument #3 to 'config_filler' (table expected, got no value)", refusal({ "a" }, { 0 }))
    assert.has_error(function() fill("x") end)
  end)

  it("accepted_as_is reads the bits off a field's annotation", function()
    local function bits(a, set) return (types.accepted_as_is(types.parse(a), set)) end
    assert.are.equal(F.STR, bits("Optional[Union[str, PeftType]]"))
    assert.are.equal(F.STR_LIST | F.SORTED | F.STR, bits("Optional[Union[list[str], str]]", true))
    assert.are.equal(F.STR_LIST, bits("Optional[list[str]]"))
    assert.are.equal(F.DICT, bits("Optional[dict]"))
    assert.are.equal(F.DICT, bits("dict[str, Any]"))
    assert.are.equal(0, bits("dict[str, int]"))
    assert.are.equal(F.INT | F.NUMBER, bits("Union[int, float]"))
    local b, lits = types.accepted_as_is(types.parse("bool | Literal['gaussian', 'pissa_niter_[number of iters]']"))
    assert.are.equal(F.BOOL | F.LITERAL, b)
    assert.are.same({ gaussian = true }, lits) -- the placeholder is left to check()
    -- two kinds of table: which one a table is depends on the order
    assert.are.equal(F.INT, bits("Optional[Union[list[int], dict, int]]"))
    assert.are.equal(0, bits("Any"))
    assert.are.equal(0, bits("Optional[LoftQConfig]"))
  end)

  it("gives the same objects and errors as the full check", function()
    local cfg = peft.LoraConfig { target_modules = { "v_proj", "q_proj", "q_proj" }, layers_to_transform = 3 }
    assert.are.same({ "q_proj", "v_proj" }, cfg.target_modules)
    assert.are.equal(core.json_array_mt, getmetatable(cfg.target_modules))
    local err = helpers.error_of(function() peft.LoraConfig { bias = "some" } end)
    assert.are.equal("ValueError", err.kind)
    assert.truthy(err.message:find("^LoraConfig.bias: expected one of"), err.message)
    err = helpers.error_of(function() peft.LoraConfig { r = 1.5, bias = "some" } end)
    assert.truthy(err.message:find("^LoraConfig.r: expected an integer"), err.message) -- r comes first
    err = helpers.error_of(function() peft.LoraConfig { target_modules = { "a", 2 } } end)
    assert.truthy(err.message:find("^LoraConfig.target_modules: .*item 2 is an integer"), err.message)
    err = helpers.error_of(function() peft.LoraConfig { loftq_config = { loftq_bits = "x" } } end)
    assert.truthy(err.message:find("^LoraConfig.loftq_config: LoftQConfig.loftq_bits: expected an integer"), err.message)
    assert.are.same({}, peft.LoraConfig { loftq_config = {} }.loftq_config)
  end)
end)

describe("the public constructor and loaders", function()
  it("take only their documented options: the loader's internal ones are not reachable through opts", function()
    local err = helpers.error_of(peft.LoraConfig.new, { bogus = 1 }, { keep_unknown = function() end, checked = true })
    assert.are.equal("TypeError", err.kind)
    assert.truthy(err.message:find("got an unknown field 'bogus'", 1, true), err.message)
    local cfg = peft.LoraConfig.new({ r = 4 }, { extra = { smuggled = true } })
    assert.is_nil(cfg:extra().smuggled)
    -- from_pretrained's is_file is not an option: a directory is still resolved
    local dir = helpers.tmpdir()
    peft.IA3Config{}:save_pretrained(dir)
    assert.are.equal("IA3Config", peft.from_pretrained(dir, { is_file = true }):get_class().name)
    helpers.cleanup()
  end)
end)
