-- Loading and saving adapter_config.json: detection, every error, unknown
-- keys, value kinds, round trips, atomic saves.
local peft = require "peft"
local helpers = require "helpers"

local function load_text(text, opts)
  local dir = helpers.tmpdir()
  helpers.write(dir .. "/adapter_config.json", text)
  return peft.PeftConfig.from_pretrained(dir, opts), dir
end

local function load_error(text, opts)
  local dir = helpers.tmpdir()
  local path = helpers.write(dir .. "/adapter_config.json", text)
  local err = helpers.error_of(peft.PeftConfig.from_pretrained, dir, opts)
  return err, path
end

local function quiet(fn, ...)
  local warnings, ok, a, b = peft.capture_warnings(fn, ...)
  if not ok then error(a, 0) end
  return warnings, a, b
end

describe("from_pretrained", function()
  after_each(helpers.cleanup)

  it("loads a directory or the file itself and picks the class from peft_type", function()
    local text = '{"peft_type": "IA3", "target_modules": ["k", "v"], "task_type": "SEQ_CLS"}'
    local cfg, dir = load_text(text)
    assert.are.equal(peft.IA3Config, cfg:get_class())
    assert.are.same({ "k", "v" }, cfg.target_modules)
    assert.are.equal("SEQ_CLS", cfg.task_type)
    local cfg2 = peft.PeftConfig.from_pretrained(dir .. "/adapter_config.json")
    assert.are.equal(cfg, cfg2)
    assert.are.equal(dir .. "/adapter_config.json", cfg:source())
  end)

  it("keeps only fields in a loaded object's values: unknown keys apart, nulls as None, defaults in", function()
    local text = '{"peft_type": "LORA", "r": 4, "target_modules": ["v", "q", "v"], "layers_pattern": null,'
      .. ' "merge_weights": true, "zzz": [1]}'
    local _, cfg = quiet(peft.PeftConfig.from_json, text)
    local values = rawget(cfg, peft.config.STATE).values
    assert.is_nil(rawget(values, "merge_weights"))
    assert.is_nil(rawget(values, "zzz"))
    assert.is_nil(cfg.layers_pattern)
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.equal(8, cfg.lora_alpha) -- a default
    assert.are.same({}, cfg.rank_pattern) -- a table default, the object's own
    local seen = {}
    for k in pairs(cfg) do seen[#seen + 1] = k end
    assert.are.equal(#peft.LoraConfig.fields, #seen)
    local d = cfg:to_dict()
    assert.is_true(d.merge_weights)
    assert.are.same({ 1 }, d.zzz)
    local _, other = quiet(peft.PeftConfig.from_json, text)
    other.rank_pattern.x = 2
    assert.is_nil(cfg.rank_pattern.x)
  end)

  it("keeps each object's warnings and unknown keys its own (none: a shared empty table nothing may fill)", function()
    local common = require "peft.config.common"
    local _, plain = quiet(peft.PeftConfig.from_json, '{"peft_type": "LORA"}')
    local _, odd = quiet(peft.PeftConfig.from_json, '{"peft_type": "LORA", "zzz": 1}')
    local _, other = quiet(peft.PeftConfig.from_json, '{"peft_type": "LORA", "yyy": 2}')
    assert.are.same({}, plain:warnings())
    assert.are.equal(1, #odd:warnings())
    assert.are.equal(1, #other:warnings())
    assert.truthy(odd:warnings()[1]:find("'zzz'", 1, true))
    assert.truthy(other:warnings()[1]:find("'yyy'", 1, true))
    assert.are.same({ zzz = 1 }, odd:extra())
    assert.are.same({}, plain:extra())
    -- a warning made after loading (a nested config's unknown key) goes to that object alone
    plain.eva_config = { rho = 2.0, bogus = 1 }
    assert.are.equal(1, #plain:warnings())
    local _, fresh = quiet(peft.PeftConfig.from_json, '{"peft_type": "LORA"}')
    assert.are.same({}, fresh:warnings())
    assert.is_nil(next(common.NO_WARNINGS))
    assert.is_nil(next(common.NO_EXTRA))
    assert.has_error(function() common.NO_WARNINGS[1] = "x" end)
  end)

  it("decodes arrays of every size around its batch, nested and inside large objects", function()
    local core = peft.core
    for _, n in ipairs { 0, 1, 2, 31, 32, 33, 63, 64, 65, 100 } do
      local items = {}
      for i = 1, n do items[i] = tostring(i) end
      local text = "[" .. table.concat(items, ",") .. "]"
      local v = core.json_decode(text)
      assert.are.equal(core.json_array_mt, getmetatable(v))
      assert.are.equal(n, #v)
      for i = 1, n do assert.are.equal(i, v[i]) end
      assert.are.equal(text, (core.json_encode(v, nil):gsub(" ", "")))
      -- nested: an array of arrays, and an array as the last member of a 40-member object
      local nested = core.json_decode("[" .. text .. ", [" .. text .. "], " .. text .. "]")
      assert.are.equal(3, #nested)
      assert.are.equal(n, #nested[1])
      assert.are.equal(n, #nested[2][1])
      local members = {}
      for i = 1, 40 do members[i] = string.format('"k%d": %d', i, i) end
      members[#members + 1] = '"list": ' .. text
      local obj = core.json_decode("{" .. table.concat(members, ", ") .. "}")
      assert.are.equal(40, obj.k40)
      assert.are.equal(n, #obj.list)
      if n > 0 then assert.are.equal(n, obj.list[n]) end
    end
  end)

  it("decodes short strings right however they collide in its cache of recent strings", function()
    local core = peft.core
    -- many distinct keys and values, of every length around the cache's limit (24 bytes), alike
    -- in their first and last bytes, some with a NUL inside (escaped in JSON: not cached) or
    -- empty; decoded twice (the second time from the cache) and compared with what was written
    local members, expect = {}, {}
    for i = 1, 700 do
      local len = i % 30
      local body = string.format("%d", i)
      local k = ("k" .. body .. string.rep("x", 30)):sub(1, math.max(len, #body + 1))
      local v = ("v" .. string.rep("y", 30)):sub(1, len) .. (i % 7 == 0 and "\\u0000" or "") .. body
      members[#members + 1] = string.format('"%s": "%s"', k, v)
      expect[k] = (v:gsub("\\u0000", "\0"))
    end
    local text = "{" .. table.concat(members, ", ") .. "}"
    for _ = 1, 2 do
      local obj = core.json_decode(text)
      local n = 0
      for k, v in pairs(obj) do
        n = n + 1
        assert.are.equal(expect[k], v, k)
      end
      local want = 0
      for _ in pairs(expect) do want = want + 1 end
      assert.are.equal(want, n)
    end
    local a = core.json_decode('["abcdefgh12345678", "abcdefgh87654321", "abcdefgh12345678", ""]')
    assert.are.same({ "abcdefgh12345678", "abcdefgh87654321", "abcdefgh12345678", "" }, a)
  end)

  it("decodes with room for the defaults, within bounds", function()
    local core = peft.core
    local v, n = core.json_decode_counted('{"a": 1, "b": [2]}', 32)
    assert.are.same({ a = 1, b = { 2 } }, v)
    assert.are.equal(2, n)
    for _, bad in ipairs { -1, 4097 } do
      local ok, err = pcall(core.json_decode_counted, "{}", bad)
      assert.is_false(ok)
      assert.truthy(err:find("room must be 0 to 4096", 1, true))
    end
  end)

  it("builds through get_peft_config and from_peft_type as well", function()
    local cfg = peft.get_peft_config { peft_type = "IA3", fan_in_fan_out = true }
    assert.are.equal("IA3Config", cfg:get_class().name)
    assert.is_true(cfg.fan_in_fan_out)
    cfg = peft.PeftConfig.from_peft_type { peft_type = "IA3" }
    assert.are.equal("IA3", cfg.peft_type)
  end)

  it("names the path of a missing file and of a directory without a config", function()
    local dir = helpers.tmpdir()
    local err = helpers.error_of(peft.PeftConfig.from_pretrained, dir .. "/nope")
    assert.are.equal("FileNotFoundError", err.kind)
    assert.are.equal(dir .. "/nope: no such file or directory", err.message)
    err = helpers.error_of(peft.PeftConfig.from_pretrained, dir)
    assert.are.equal("FileNotFoundError", err.kind)
    assert.are.equal(dir .. ": the directory has no adapter_config.json", err.message)
  end)

  it("reports malformed JSON with the path, line and column", function()
    local err, path = load_error('{\n  "peft_type": "LORA",\n  "r": None\n}')
    assert.are.equal("JSONDecodeError", err.kind)
    assert.are.equal(path .. ": invalid JSON at line 3, column 8: expected a value", err.message)
    assert.are.equal(3, err.line)
    assert.are.equal(path, err.path)
  end)

  it("says when a file looks truncated or is empty", function()
    local err, path = load_error('{\n  "peft_type": "IA3",\n  "target_modules": ["k",')
    assert.are.equal(path .. ": invalid JSON at line 3, column 26: expected a value, got the end of the input"
      .. " (is the file truncated?)", err.message)
    err, path = load_error("")
    assert.are.equal(path .. ": the file is empty", err.message)
  end)

  it("refuses a top level that is not an object", function()
    local err, path = load_error('[1, 2]')
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(path .. ": an adapter config must be a JSON object, got a list", err.message)
  end)

  describe("peft_type", function()
    it("missing: lists the registered methods", function()
      local err, path = load_error('{"r": 8}')
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("peft_type", err.field)
      assert.are.equal(path .. ": missing 'peft_type': an adapter config must name its method, a PeftType member"
        .. " such as LORA or IA3 ('peft types' or peft.PeftType lists the " .. #peft.methods() .. " registered ones)",
        err.message)
    end)

    it("null", function()
      local err, path = load_error('{"peft_type": null}')
      assert.truthy(err.message:find(path .. ": 'peft_type' is null; it must name the method, a PeftType member such"
        .. " as LORA or IA3 ('peft types'", 1, true), err.message)
    end)

    it("lower-case", function()
      local err, path = load_error('{"peft_type": "lora"}')
      assert.are.equal(path .. [[: 'peft_type' is "lora" but PeftType members are upper-case: did you mean 'LORA'?]],
        err.message)
    end)

    it("misspelt", function()
      local err, path = load_error('{"peft_type": "LORAA"}')
      assert.are.equal(path .. [[: unknown 'peft_type' "LORAA" (did you mean 'LORA'?)]], err.message)
    end)

    it("not a member at all", function()
      local err, path = load_error('{"peft_type": "FINEGATES"}')
      assert.are.equal(path .. [[: unknown 'peft_type' "FINEGATES" (not a PeftType member: a method from a newer]]
        .. [[ or unmerged PEFT? an extension can add it with peft.add_peft_type and register_peft_method)]],
        err.message)
    end)

    it("not a string", function()
      local err, path = load_error('{"peft_type": 3}')
      assert.are.equal(path .. ": 'peft_type' must be a string, got 3", err.message)
    end)

    it("a member without a registered method", function()
      peft.add_peft_type("UNREGISTERED")
      local err, path = load_error('{"peft_type": "UNREGISTERED"}')
      assert.truthy(err.message:find(path .. ": PeftType UNREGISTERED has no registered method", 1, true))
    end)
  end)

  it("recognises a transformers model config", function()
    local err, path = load_error('{"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 4096}')
    assert.are.equal(path .. ": this is a transformers model config (model_type 'llama'), not an adapter config"
      .. " (it has no peft_type); the adapter's own file is adapter_config.json beside the adapter weights",
      err.message)
  end)

  it("recognises an mlx-lm adapter config", function()
    local err = load_error('{"fine_tune_type": "lora", "lora_parameters": {"rank": 8}}')
    assert.truthy(err.message:find("mlx-lm", 1, true))
  end)

  it("rejects an invalid task_type, listing the valid ones", function()
    local err, path = load_error('{"peft_type": "IA3", "task_type": "causal_lm"}')
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(path .. [[: IA3Config.task_type: invalid task type "causal_lm"; must be one of SEQ_CLS,]]
      .. [[ SEQ_2_SEQ_LM, CAUSAL_LM, TOKEN_CLS, QUESTION_ANS, FEATURE_EXTRACTION (task types are upper-case:]]
      .. [[ did you mean 'CAUSAL_LM'?)]], err.message)
    err = load_error('{"peft_type": "IA3", "task_type": "CASUAL_LM"}')
    assert.truthy(err.message:find("(did you mean 'CAUSAL_LM'?)", 1, true))
  end)

  it("names the field and value of a wrongly typed field", function()
    local err, path = load_error('{"peft_type": "IA3", "fan_in_fan_out": "yes"}')
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(path .. [[: IA3Config.fan_in_fan_out: expected a boolean, got "yes"]], err.message)
    assert.are.equal("fan_in_fan_out", err.field)
  end)

  it("ignores runtime_config with a warning", function()
    local warnings, cfg = quiet(load_text, '{"peft_type": "IA3", "runtime_config": {"ephemeral_gpu_offload": true}}')
    assert.are.equal(1, #warnings)
    assert.truthy(warnings[1]:find("'runtime_config', which is ignored", 1, true))
    assert.is_nil(cfg:to_dict().runtime_config)
  end)

  it("ignores runtime_config on a class that has the field, and keeps the other unknown keys", function()
    local warnings, cfg = quiet(load_text,
      '{"peft_type": "LORA", "runtime_config": {"ephemeral_gpu_offload": true}, "merge_weights": true}')
    assert.are.equal(2, #warnings)
    assert.truthy(warnings[1]:find("'runtime_config', which is ignored", 1, true))
    assert.truthy(warnings[2]:find("1 key unknown to LoraConfig: 'merge_weights'", 1, true))
    assert.is_false(cfg.runtime_config.ephemeral_gpu_offload)
    assert.are.same({ merge_weights = true }, cfg:extra())
    assert.is_nil(cfg:to_dict().runtime_config)
  end)

  it("refuses a table with a key that is not a string, with or without runtime_config", function()
    for _, tbl in ipairs {
      { peft_type = "IA3", [1] = "x" },
      { peft_type = "IA3", runtime_config = {}, [true] = 1 },
      { peft_type = "OFT", peft_version = "0.15.0", [2.5] = 1 }, -- OFT looks at the table first
    } do
      local err = helpers.error_of(peft.PeftConfig.from_peft_type, tbl, { path = "p.json", quiet = true })
      assert.are.equal("ValueError", err.kind)
      assert.truthy(err.message:find("^p.json: an adapter config must be a JSON object with string keys, got a key "),
        err.message)
      assert.are.equal("p.json", err.path)
    end
  end)

  it("in strict mode refuses unknown keys before anything else is checked, naming the file once", function()
    local err, path = load_error('{"peft_type": "IA3", "merge_weights": 1, "fan_in_fan_out": "x"}', { strict = true })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(path .. ": 1 key unknown to IA3Config: 'merge_weights' (strict mode)", err.message)
    assert.are.same({ "merge_weights" }, err.unknown)
  end)

  it("records unknown keys of a nested config kept as a dict on the config, and stays quiet when asked", function()
    local text = '{"peft_type": "LORA", "init_lora_weights": "eva", "eva_config": {"rho": 2.0, "bogus": 1}}'
    local warnings, cfg = quiet(load_text, text, { quiet = true })
    assert.are.same({}, warnings) -- nothing emitted
    assert.are.same({ "LoraConfig: eva_config: keys unknown to EvaConfig kept as they are: bogus" }, cfg:warnings())
    assert.are.equal(1, cfg.eva_config.bogus)
    warnings = quiet(load_text, text)
    assert.are.equal(1, #warnings)
    assert.truthy(warnings[1]:find("keys unknown to EvaConfig kept as they are: bogus", 1, true))
    -- strict is about the file's own keys (the CLI's --strict fails on any warning)
    assert.are.equal(1, #load_text(text, { strict = true, quiet = true }):warnings())
  end)

  it("takes the last of a repeated key, as Python's json does, without a warning", function()
    local warnings, cfg = quiet(load_text, '{"peft_type": "IA3", "fan_in_fan_out": true, "fan_in_fan_out": false}')
    assert.are.same({}, warnings)
    assert.is_false(cfg.fan_in_fan_out)
    assert.are.same({}, cfg:extra())
    warnings, cfg = quiet(load_text, '{"peft_type": "IA3", "x": 1, "peft_type": "IA3", "x": 2}')
    assert.are.equal(1, #warnings)
    assert.truthy(warnings[1]:find("1 key unknown to IA3Config: 'x'", 1, true))
    assert.are.same({ x = 2 }, cfg:extra())
  end)

  describe("unknown keys", function()
    local text = '{"peft_type": "IA3", "enable_lora": [true, false], "merge_weights": false, "fan_in_fanout": 1}'

    it("are kept, with one warning listing them", function()
      local warnings, cfg = quiet(load_text, text)
      assert.are.equal(1, #warnings)
      assert.truthy(warnings[1]:find("3 keys unknown to IA3Config: 'enable_lora', 'fan_in_fanout' (did you mean"
        .. " 'fan_in_fan_out'?), 'merge_weights'; kept as they are and written back on save", 1, true), warnings[1])
      assert.are.same({ "enable_lora", "fan_in_fanout", "merge_weights" },
        peft.config.sorted_keys(cfg:extra()))
      assert.are.same(cfg:warnings(), { warnings[1]:match("^.-: (.*)$") })
    end)

    it("are written back on save", function()
      local _, cfg = quiet(load_text, text)
      local d = cfg:to_dict()
      assert.are.same({ true, false }, d.enable_lora)
      assert.are.equal(false, d.merge_weights)
      assert.are.equal(1, d.fan_in_fanout)
      assert.truthy(cfg:to_json():find('"enable_lora": [\n    true,\n    false\n  ]', 1, true))
    end)

    it("are an error in strict mode", function()
      local err, path = load_error(text, { strict = true })
      assert.are.equal("ValueError", err.kind)
      assert.truthy(err.message:find(path .. ": 3 keys unknown to IA3Config: 'enable_lora'", 1, true))
      assert.truthy(err.message:find("(strict mode)", 1, true))
    end)
  end)
end)

describe("saving", function()
  after_each(helpers.cleanup)

  it("keeps integer and float kinds through a load and save", function()
    local text = '{"peft_type": "IA3", "auto_mapping": {"a": 1, "b": 1.0, "c": 1e-05, "d": [0.0, 3]}}'
    local cfg = load_text(text)
    assert.are.equal('{"a": 1, "b": 1.0, "c": 1e-05, "d": [0.0, 3]}', peft.core.json_encode(cfg.auto_mapping))
  end)

  it("round-trips byte for byte: build, save, load, save", function()
    local dir = helpers.tmpdir()
    local cfg = peft.IA3Config { target_modules = { "q", "k", "v" }, feedforward_modules = { "k" },
                                 task_type = "CAUSAL_LM", base_model_name_or_path = "na\u{ef}ve/model" }
    local path = cfg:save_pretrained(dir)
    assert.are.equal(dir .. "/adapter_config.json", path)
    local first = helpers.read(path)
    assert.are.equal(cfg:to_json(), first)
    assert.truthy(first:find('"base_model_name_or_path": "na\\u00efve/model"', 1, true))
    local again = peft.PeftConfig.from_pretrained(dir)
    again:save_pretrained(dir)
    assert.are.equal(first, helpers.read(path))
    assert.are.equal(cfg, again)
  end)

  it("writes peft_version for a new config and keeps a loaded one", function()
    assert.are.equal(peft.PEFT_VERSION, peft.IA3Config{}.peft_version)
    local cfg = load_text('{"peft_type": "IA3", "peft_version": "0.18.1"}')
    assert.are.equal("0.18.1", cfg.peft_version)
  end)

  it("creates missing directories", function()
    local dir = helpers.tmpdir() .. "/a/b/c"
    peft.IA3Config{}:save_pretrained(dir)
    assert.truthy(helpers.read(dir .. "/adapter_config.json"))
  end)

  it("refuses a path that is a file", function()
    local file = helpers.write(helpers.tmpdir() .. "/f", "x")
    local err = helpers.error_of(function() peft.IA3Config{}:save_pretrained(file) end)
    assert.are.equal("NotADirectoryError", err.kind)
    assert.are.equal("Provided path (" .. file .. ") should be a directory, not a file", err.message)
    assert.are.equal("x", helpers.read(file))
  end)

  it("leaves the old file intact when interrupted before the rename", function()
    local dir = helpers.tmpdir()
    local old = peft.IA3Config { fan_in_fan_out = true }
    old:save_pretrained(dir)
    local before = helpers.read(dir .. "/adapter_config.json")
    local r = helpers.run({ "-e", "peft.IA3Config{}:save_pretrained(" .. string.format("%q", dir) .. ")" },
      { env = { PEFT_FAULT_BEFORE_RENAME = "1" }, cmd = helpers.FAULT_BIN })
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("OSError: cannot write " .. dir .. "/adapter_config.json: interrupted before rename",
      1, true), r.err)
    assert.are.equal(before, helpers.read(dir .. "/adapter_config.json"))
  end)

  it("leaves the old file intact when the disk is full", function()
    local dir = helpers.tmpdir()
    peft.IA3Config{}:save_pretrained(dir)
    local before = helpers.read(dir .. "/adapter_config.json")
    -- a file-size limit of one block makes the write of a larger config
    -- fail with EFBIG, as a full device fails with ENOSPC (stderr stays small)
    local r = helpers.run({ "-e", "peft.IA3Config{ base_model_name_or_path = string.rep('m', 8000) }"
      .. ":save_pretrained(" .. string.format("%q", dir) .. ")" }, { sh_prefix = "ulimit -f 1; trap '' XFSZ; " })
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("OSError: cannot write " .. dir .. "/adapter_config.json: File too large"
      .. " (the previous file, if any, is unchanged)", 1, true), r.err)
    assert.are.equal(before, helpers.read(dir .. "/adapter_config.json"))
    -- no temporary file is left behind
    local p = io.popen("ls -A " .. helpers.q(dir))
    assert.are.equal("adapter_config.json\n", p:read("a"))
    p:close()
  end)
end)

describe("saving over an existing file", function()
  after_each(helpers.cleanup)

  it("keeps the mode of the file it replaces", function()
    local dir = helpers.tmpdir()
    peft.IA3Config{}:save_pretrained(dir)
    local path = dir .. "/adapter_config.json"
    assert.is_true(os.execute("chmod 600 " .. helpers.q(path)))
    peft.IA3Config { fan_in_fan_out = true }:save_pretrained(dir)
    local p = io.popen("stat -c %a " .. helpers.q(path))
    assert.are.equal("600\n", p:read("a"))
    p:close()
  end)

  it("removes its own temporary files left by a save that was killed, and only those", function()
    local dir = helpers.tmpdir()
    -- a save killed before its rename (the process is gone) and one still running (this one)
    local dead = dir .. "/.adapter_config.json.peft-tmp.999999999.0123456789abcdef"
    local old_style = dir .. "/.adapter_config.json.tmp999999999.0"
    local live = dir .. "/.adapter_config.json.peft-tmp." .. helpers.pid() .. ".0123456789abcdef"
    local other = dir .. "/.notes.peft-tmp.999999999.0"
    for _, f in ipairs { dead, old_style, live, other } do helpers.write(f, "x") end
    peft.IA3Config{}:save_pretrained(dir)
    assert.is_nil(io.open(dead))
    assert.is_nil(io.open(old_style))
    assert.truthy(io.open(live))
    assert.truthy(io.open(other))
  end)

  it("uses unpredictable temporary names", function()
    local dir = helpers.tmpdir()
    local r = helpers.run({ "-e", "peft.IA3Config{}:save_pretrained(" .. string.format("%q", dir) .. ")" },
      { env = { PEFT_FAULT_BEFORE_RENAME = "1" }, cmd = helpers.FAULT_BIN })
    assert.are.equal(1, r.code)
    local p = io.popen("ls -A " .. helpers.q(dir))
    local names = p:read("a")
    p:close()
    assert.truthy(names:match("^%.adapter_config%.json%.peft%-tmp%.%d+%.%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x\n$"), names)
  end)
end)

describe("from_peft_type and get_peft_config, as PEFT's", function()
  it("from_peft_type without a peft_type builds the class it is called on", function()
    local cfg = peft.LoraConfig.from_peft_type { r = 4 }
    assert.are.equal("LoraConfig", cfg:get_class().name)
    assert.are.equal(4, cfg.r)
    local base = peft.PeftConfig.from_peft_type { task_type = "CAUSAL_LM" }
    assert.are.equal("PeftConfig", base:get_class().name)
    assert.are.equal("CAUSAL_LM", base.task_type)
    -- with a peft_type, that type's class
    assert.are.equal("IA3Config", peft.PeftConfig.from_peft_type { peft_type = "IA3" }:get_class().name)
  end)

  it("runs OFT's check for files older than 0.14 only when loading a file", function()
    local cfg = peft.OFTConfig.from_peft_type { peft_type = "OFT", r = 0, oft_block_size = 16 }
    assert.are.equal(16, cfg.oft_block_size)
    local ok = pcall(peft.PeftConfig.from_peft_type, { peft_type = "OFT" })
    assert.is_true(ok) -- no oft_block_size: the default, no "saved before 0.14" refusal
    local err = helpers.error_of(peft.from_json, '{"peft_type": "OFT"}')
    assert.truthy(err.message:find("older than 0.14.0", 1, true), err.message)
  end)

  it("get_peft_config needs a peft_type and refuses unknown keys with a TypeError", function()
    local err = helpers.error_of(peft.get_peft_config, { r = 4 })
    assert.are.equal("KeyError", err.kind)
    err = helpers.error_of(peft.get_peft_config, { peft_type = "LORA", bogus = 1, zz = 2 })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("LoraConfig got an unexpected keyword argument 'bogus' (and 1 more)", err.message)
    -- from_peft_type keeps them with a warning, like a file
    local warnings, ok, cfg = peft.capture_warnings(peft.PeftConfig.from_peft_type, { peft_type = "LORA", bogus = 1 })
    assert.is_true(ok)
    assert.are.equal(1, cfg:extra().bogus)
    assert.are.equal(1, #warnings)
  end)
end)
