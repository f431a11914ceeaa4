-- The hostile-input check: every reproduction of issue 13 (an adversarial test
-- and new users), run against the `peft` executable as a user would run them.
-- Each one failed before its fix. Files and paths hold terminal escapes,
-- newlines, bytes that are not UTF-8 and NULs; FIFOs stand where files
-- should be; directories cannot be read or are deeper than PATH_MAX.
local peft = require "peft"
local helpers = require "helpers"

local q = helpers.q
local scale = tonumber(os.getenv("PEFT_TIMEOUT_SCALE") or "1")

-- run(args [, opts]) with a time limit: a hang is a failure (exit 124), not a stuck suite
local function run(args, opts)
  opts = opts or {}
  opts.sh_prefix = (opts.sh_prefix or "") .. "timeout " .. math.floor(20 * scale) .. " env "
  return helpers.run(args, opts)
end

local function sh(cmd)
  assert(os.execute(cmd), cmd)
end

local function decode(text)
  local v, err = peft.core.json_decode(text)
  assert(v ~= nil, "not JSON: " .. tostring(err) .. "\n" .. text)
  return v
end

-- the bytes of s that a terminal would act on: C0 controls but the newline and the tab, DEL, C1 controls
local function terminal_controls(s)
  local found = {}
  for pos, c in s:gmatch("()([%z\1-\8\11-\31\127])") do found[#found + 1] = string.format("\\x%02x at %d", c:byte(), pos) end
  for pos in s:gmatch("()\194[\128-\159]") do found[#found + 1] = "a C1 control at " .. pos end
  return table.concat(found, ", ")
end

local function lines_of(s)
  local t = {}
  for l in s:gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

local ESC_TITLE = "\27]0;pwned\7"
local ESC_CLEAR = "\27[2J"

local function lora_json(extra)
  local t = { peft_type = "LORA", r = 8, lora_alpha = 16, target_modules = peft.core.json_decode('["q_proj"]'),
              task_type = "CAUSAL_LM" }
  for k, v in pairs(extra or {}) do t[k] = v end
  return peft.core.json_encode(t, 2)
end

after_each(helpers.cleanup)

describe("1. terminal escapes from files and paths are shown escaped", function()
  local dir, sub
  before_each(function()
    dir = helpers.tmpdir()
    sub = dir .. "/evil\n3 files: 3 valid, 0 with warnings, 0 invalid" .. ESC_CLEAR
    sh("mkdir -p " .. q(sub))
    helpers.write(sub .. "/adapter_config.json", lora_json { [ESC_TITLE] = 1, base_model_name_or_path = ESC_CLEAR .. "m",
      ["evil\nWARN forged"] = true })
  end)

  it("validate: one line per problem, the summary last, nothing a terminal acts on", function()
    local r = run { "validate", dir }
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("", terminal_controls(r.out .. r.err))
    local l = lines_of(r.out)
    assert.are.equal(2, #l, r.out)
    assert.truthy(l[1]:find("^WARN .*evil\\n3 files: 3 valid, 0 with warnings, 0 invalid\\x1b%[2J/adapter_config%.json: "
      .. "2 keys unknown to LoraConfig: '\\x1b%]0;pwned\\x07', 'evil\\nWARN forged'"), l[1])
    assert.are.equal("1 file: 0 valid, 1 with warnings, 0 invalid", l[2])
    -- JSON output stays exact
    local d = decode(run({ "validate", dir, "--json" }).out)
    assert.are.equal(sub .. "/adapter_config.json", d.files[1].path)
    assert.truthy(d.files[1].warnings[1]:find(ESC_TITLE, 1, true))
  end)

  it("inspect, plan, new, migrate and the warning handler", function()
    local r = run { "inspect", sub }
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("", terminal_controls(r.out .. r.err))
    assert.truthy(r.out:find("base model   \\x1b[2Jm", 1, true), r.out)
    assert.are.equal(ESC_CLEAR .. "m", decode(run({ "inspect", sub, "--json" }).out).base_model_name_or_path)
    -- a base model whose tensor names hold escapes
    local base = dir .. "/base" .. ESC_TITLE
    sh("mkdir -p " .. q(base))
    helpers.write_safetensors(base .. "/model.safetensors", { { "layers.0." .. ESC_CLEAR .. ".q_proj.weight", { 4, 4 } } })
    r = run { "plan", sub, "--base", base }
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("", terminal_controls(r.out .. r.err))
    assert.truthy(r.out:find("layers.0.\\x1b[2J.q_proj", 1, true), r.out)
    -- errors and warnings on stderr
    r = run { "plan", sub .. "/nothing" .. ESC_TITLE, "--base", base }
    assert.are.equal(1, r.code)
    assert.are.equal("", terminal_controls(r.err))
    r = run { "new", "lora", "base_model_name_or_path=" .. ESC_CLEAR, "bogus" .. ESC_TITLE .. "=1" }
    assert.are.equal("", terminal_controls(r.out .. r.err))
    r = run { "-e", "peft.from_pretrained(" .. string.format("%q", sub) .. ")" }
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.err:find("peft: warning: ", 1, true))
    assert.are.equal("", terminal_controls(r.err))
    r = run { "validate", dir .. "/missing" .. ESC_TITLE }
    assert.are.equal("", terminal_controls(r.out .. r.err))
    r = run { "migrate", sub }
    assert.are.equal("", terminal_controls(r.out .. r.err))
  end)

  it("core.printable escapes control characters as Python's repr does, and leaves the rest", function()
    local printable = peft.core.printable
    assert.are.equal("a\\x1b]0;pwned\\x07b\\nc\\rd\\te\\x7f", printable("a\27]0;pwned\7b\nc\rd\te\127"))
    assert.are.equal("\\x9b\\xff\\xed\\xa0\\x80 \\u202e\\u200b\\ufeff", printable("\194\155\255\237\160\128 \u{202e}\u{200b}\u{feff}"))
    assert.are.equal("caf\195\169 \\ back\\slash \u{1F600}", printable("caf\195\169 \\ back\\slash \u{1F600}"))
    assert.are.equal("a\nb\tc\\x1b", printable("a\nb\tc\27", true))
    local s = "plain text"
    assert.are.equal(s, printable(s))
  end)

  it("the REPL prints values and errors escaped", function()
    local r = run({ "-i" }, { stdin = "cfg = peft.from_pretrained(" .. string.format("%q", sub) .. ", { quiet = true })\n"
      .. "cfg.base_model_name_or_path\nerror(cfg.base_model_name_or_path)\n" })
    assert.are.equal("", terminal_controls(r.out .. r.err))
    assert.truthy((r.out .. r.err):find("\\x1b[2Jm", 1, true), r.out .. r.err)
  end)
end)

describe("2. a FIFO where a file should be is refused, not waited on", function()
  it("adapter_config.json, model.safetensors, a shard and an index", function()
    local dir = helpers.tmpdir()
    sh("mkdir -p " .. q(dir .. "/ad") .. " && mkfifo " .. q(dir .. "/ad/adapter_config.json"))
    local r = run { "validate", dir .. "/ad/adapter_config.json" }
    assert.are.equal(1, r.code, r.err)
    assert.truthy(r.out:find("not a regular file", 1, true), r.out)
    r = run { "inspect", dir .. "/ad/adapter_config.json" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("not a regular file", 1, true), r.err)
    -- a directory search counts it as an error too
    r = run { "validate", dir }
    assert.are.equal(1, r.code)
    assert.truthy(r.out:find("not a regular file", 1, true), r.out)
    -- the weights and the base model
    sh("mkdir -p " .. q(dir .. "/good") .. " " .. q(dir .. "/base"))
    helpers.write(dir .. "/good/adapter_config.json", lora_json())
    sh("mkfifo " .. q(dir .. "/good/adapter_model.safetensors"))
    r = run { "validate", dir .. "/good" }
    assert.are.equal(1, r.code)
    assert.truthy(r.out:find("not a regular file", 1, true), r.out)
    sh("mkfifo " .. q(dir .. "/base/model.safetensors"))
    r = run { "plan", dir .. "/good", "--base", dir .. "/base/model.safetensors" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("not a regular file", 1, true), r.err)
    os.remove(dir .. "/base/model.safetensors")
    sh("mkfifo " .. q(dir .. "/base/model.safetensors.index.json"))
    r = run { "plan", dir .. "/good", "--base", dir .. "/base/model.safetensors.index.json" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("not a regular file", 1, true), r.err)
    os.remove(dir .. "/base/model.safetensors.index.json")
    helpers.write(dir .. "/base/model.safetensors.index.json",
      '{"weight_map": {"layers.0.q_proj.weight": "model-00001-of-00001.safetensors"}}')
    sh("mkfifo " .. q(dir .. "/base/model-00001-of-00001.safetensors"))
    r = run { "plan", dir .. "/good", "--base", dir .. "/base" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("shard model-00001-of-00001.safetensors: not a regular file", 1, true), r.err)
    -- the base model's config.json: a FIFO, or text that is not JSON, is an error, not a silent gap
    os.remove(dir .. "/base/model.safetensors.index.json")
    helpers.write_safetensors(dir .. "/base/model.safetensors", helpers.llama_tensors())
    sh("mkfifo " .. q(dir .. "/base/config.json"))
    r = run { "plan", dir .. "/good", "--base", dir .. "/base" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find(dir .. "/base/config.json: not a regular file", 1, true), r.err)
    os.remove(dir .. "/base/config.json")
    helpers.write(dir .. "/base/config.json", '{"model_type": "llama",')
    r = run { "plan", dir .. "/good", "--base", dir .. "/base" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find(dir .. "/base/config.json: invalid JSON at line 1, column 24", 1, true), r.err)
  end)
end)

describe("3. validate reports what it cannot search", function()
  -- as root a directory with mode 000 can still be read: the run drops to nobody
  local function as_user(args)
    local p = io.popen("id -u")
    local uid = p:read("l")
    p:close()
    if uid ~= "0" then return run(args) end
    local cmd = { "--reuid=65534", "--regid=65534", "--clear-groups", "--", helpers.PEFT_BIN }
    for _, a in ipairs(args) do cmd[#cmd + 1] = a end
    return run(cmd, { cmd = "setpriv" })
  end

  it("an unreadable subdirectory is an error line, counted, and the exit status is 1", function()
    local dir = helpers.tmpdir()
    sh("mkdir -p " .. q(dir .. "/a") .. " " .. q(dir .. "/locked/inner"))
    helpers.write(dir .. "/a/adapter_config.json", lora_json())
    helpers.write(dir .. "/locked/inner/adapter_config.json", lora_json())
    sh("chmod -R a+rX " .. q(dir) .. " && chmod 000 " .. q(dir .. "/locked"))
    local r = as_user { "validate", dir, "--no-weights" }
    sh("chmod 755 " .. q(dir .. "/locked"))
    assert.are.equal(1, r.code, r.out .. r.err)
    assert.truthy(r.out:find("FAIL " .. dir .. "/locked: OSError: cannot open directory " .. dir .. "/locked: "
      .. "Permission denied", 1, true), r.out)
    assert.truthy(r.out:find("2 files: 1 valid, 0 with warnings, 1 invalid", 1, true), r.out)
  end)

  it("a path longer than PATH_MAX is an error line, counted", function()
    local dir = helpers.tmpdir()
    local name = string.rep("d", 200)
    -- 25 levels of 201 bytes, past PATH_MAX (4096): built from the bottom up, so
    -- that no path used here is long
    sh("cd " .. q(dir) .. " && mkdir L && printf '{\"peft_type\": \"IA3\"}' > L/adapter_config.json"
      .. " && for i in $(seq 25); do mkdir T && mv L T/" .. name .. " && mv T L || exit 1; done && mv L deep")
    helpers.write(dir .. "/adapter_config.json", lora_json())
    local r = run { "validate", dir, "--no-weights" }
    assert.are.equal(1, r.code, r.out .. r.err)
    assert.truthy(r.out:find("File name too long", 1, true), r.out)
    assert.truthy(r.out:find("2 files: 1 valid, 0 with warnings, 1 invalid", 1, true), r.out)
  end)
end)

describe("4. bytes that are not UTF-8", function()
  it("--json output always comes out, such bytes written as \\udcXX (Python's surrogateescape)", function()
    local dir = helpers.tmpdir()
    local sub = dir .. "/caf\xe9"
    sh("mkdir -p " .. q(sub))
    helpers.write(sub .. "/adapter_config.json", lora_json { unknown_key = 1 })
    local r = run { "validate", dir, "--json", "--no-weights" }
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find('caf\\udce9/adapter_config.json"', 1, true), r.out)
    r = run { "inspect", sub, "--json" }
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find('caf\\udce9/adapter_config.json"', 1, true), r.out)
  end)

  it("the safetensors reader refuses tensor names that are not UTF-8; the config reader refuses encoded surrogates",
    function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/adapter_config.json", lora_json())
    local header = '{"base_model.model.q_proj.lora_A\xff.weight": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}'
    helpers.write(dir .. "/adapter_model.safetensors", string.pack("<I8", #header) .. header .. "\0")
    local r = run { "validate", dir, "--json" }
    assert.are.equal(1, r.code)
    local d = decode(r.out)
    assert.truthy(d.files[1].weights.problems[1]:find("invalid UTF-8 in string", 1, true),
      d.files[1].weights.problems[1])
    helpers.write(dir .. "/adapter_config.json", '{"peft_type": "LORA", "x": "\xed\xa0\x80"}')
    r = run { "validate", dir .. "/adapter_config.json", "--no-weights" }
    assert.are.equal(1, r.code)
    assert.truthy(r.out:find("JSONDecodeError: invalid JSON at line 1, column 29: invalid UTF-8 in string", 1, true),
      r.out)
    -- an escaped lone surrogate is a string Python reads, and writes back as it was
    helpers.write(dir .. "/adapter_config.json", '{"peft_type": "LORA", "x": "\\ud800"}')
    r = run { "-e", "print(peft.from_pretrained(" .. string.format("%q", dir) .. ", { quiet = true }):to_json())" }
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find('"x": "\\ud800"', 1, true), r.out)
  end)
end)

describe("5. NUL bytes in names", function()
  it("peft_type and task_type are compared with their length", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/adapter_config.json", '{"peft_type": "LORA\\u0000X"}')
    local r = run { "validate", dir, "--no-weights" }
    assert.are.equal(1, r.code)
    assert.truthy(r.out:find("unknown 'peft_type' \"LORA\\0X\"", 1, true), r.out)
    helpers.write(dir .. "/adapter_config.json", '{"peft_type": "LORA", "task_type": "CAUSAL_LM\\u0000X"}')
    r = run { "validate", dir, "--no-weights" }
    assert.are.equal(1, r.code, r.out)
    assert.truthy(r.out:find("task_type", 1, true), r.out)
    r = run { "-e", "peft.add_peft_type('FOO\\0BAR')" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("ValueError: PeftType member must be an upper-case identifier", 1, true), r.err)
  end)
end)

describe("6. integers beyond 64 bits", function()
  it("keep their digits through a load and a save", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/adapter_config.json",
      '{"peft_type": "LORA", "big": 18446744073709551616, "neg": -99999999999999999999999, "alpha_pattern": '
      .. '{"x": 123456789012345678901234567890}}')
    local r = run { "-e", "local c = peft.from_pretrained(" .. string.format("%q", dir) .. ", { quiet = true }) "
      .. "c:save_pretrained(" .. string.format("%q", dir) .. ")" }
    assert.are.equal(0, r.code, r.err)
    local text = helpers.read(dir .. "/adapter_config.json")
    assert.truthy(text:find('"big": 18446744073709551616,', 1, true), text)
    assert.truthy(text:find('"neg": -99999999999999999999999', 1, true), text)
    assert.truthy(text:find('"x": 123456789012345678901234567890', 1, true), text)
  end)
end)

describe("7. a save keeps the mode of the file it replaces", function()
  it("0600 stays 0600", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/adapter_config.json", lora_json())
    sh("chmod 600 " .. q(dir .. "/adapter_config.json"))
    local r = run { "new", "lora", "r=4", "-o", dir, "--force" }
    assert.are.equal(0, r.code, r.err)
    local p = io.popen("stat -c %a " .. q(dir .. "/adapter_config.json"))
    assert.are.equal("600\n", p:read("a"))
    p:close()
  end)
end)

describe("9. amplification", function()
  it("a config with many unknown keys loads in linear time, with suggestions for the first few only", function()
    local parts = { '{"peft_type": "LORA"' }
    for i = 1, 200000 do parts[#parts + 1] = string.format(', "lora_alph%d": %d', i, i) end
    parts[#parts + 1] = "}"
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/adapter_config.json", table.concat(parts))
    local t0 = os.time()
    local r = run({ "validate", dir, "--no-weights" }, { sh_prefix = "ulimit -t " .. math.floor(10 * scale) .. "; " })
    assert.are.equal(0, r.code, r.err)
    assert.is_true(os.time() - t0 <= 10 * scale)
    assert.truthy(r.out:find("200000 keys unknown to LoraConfig: 'lora_alph1' (did you mean 'lora_alpha'?)", 1, true),
      r.out:sub(1, 300))
    assert.truthy(r.out:find("(and 199980 more)", 1, true), r.out:sub(1, 3000))
  end)
end)

describe("9. amplification elsewhere: safetensors headers and indexes are checked as they are read", function()
  it("a 40 MB header of one long list takes no more memory than its bytes", function()
    if os.getenv("SANITIZE") == "1" or os.getenv("VALGRIND") == "1" then
      pending("an address-space limit does not work under the sanitizers or Valgrind")
      return
    end
    local dir = helpers.tmpdir()
    local body = '{"x":[' .. string.rep("0,", 20000000) .. '0]}'
    helpers.write(dir .. "/model.safetensors", string.pack("<I8", #body) .. body)
    local index = '{"weight_map": {}, "metadata": [' .. string.rep("0,", 20000000) .. '0]}'
    helpers.write(dir .. "/model.safetensors.index.json", index)
    -- 300 MB of address space: the file's bytes, the interpreter, and room to spare
    local r = run({ "-e", "print(peft.safetensors.read_header(" .. string.format("%q", dir .. "/model.safetensors")
      .. ")) print(peft.safetensors.read_index(" .. string.format("%q", dir .. "/model.safetensors.index.json") .. "))" },
      { sh_prefix = "ulimit -v 300000; " })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find("tensor 'x': expected an object, got a list", 1, true), r.out)
    assert.truthy(r.out:find("table:", 1, true), r.out) -- the index reads: an empty weight map, metadata passed over
  end)
end)

describe("10. temporary files", function()
  it("a release build ignores PEFT_FAULT_BEFORE_RENAME", function()
    local dir = helpers.tmpdir()
    local r = run({ "new", "lora", "r=4", "-o", dir }, { env = { PEFT_FAULT_BEFORE_RENAME = "1" } })
    assert.are.equal(0, r.code, r.err)
    local p = io.popen("ls -A " .. q(dir))
    assert.are.equal("adapter_config.json\n", p:read("a"))
    p:close()
  end)

  it("the temporary files of a killed save cannot be created in advance, and go at the next save", function()
    local dir = helpers.tmpdir()
    -- every name of the old scheme taken in advance
    for i = 0, 99 do helpers.write(string.format("%s/.adapter_config.json.tmp%d.%d", dir, 999999999, i), "x") end
    local r = run { "new", "lora", "-o", dir }
    assert.are.equal(0, r.code, r.err)
    local p = io.popen("ls -A " .. q(dir))
    assert.are.equal("adapter_config.json\n", p:read("a"))
    p:close()
  end)
end)

describe("11. a mistyped command", function()
  it("is an unknown command with a suggestion, not a file run from the current directory", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/valdiate", "print('ran the file')")
    local r = run({ "valdiate", "x" }, { sh_prefix = "cd " .. q(dir) .. " && " })
    assert.are.equal(2, r.code)
    assert.are.equal("", r.out)
    assert.are.equal("peft: unknown command 'valdiate' (did you mean 'validate'?)\n", r.err)
    r = run({ "./valdiate" }, { sh_prefix = "cd " .. q(dir) .. " && " })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("ran the file\n", r.out)
  end)
end)

describe("12. paths", function()
  local function count(s, part)
    local n, i = 0, 1
    while true do
      local a, b = s:find(part, i, true)
      if not a then return n end
      n, i = n + 1, b + 1
    end
  end

  it("index errors name the path once; a shard may have '..' inside its name", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/model.safetensors.index.json", '{"weight_map": {"a": "missing.safetensors"}}')
    local h, err = peft.safetensors.read_index(dir .. "/model.safetensors.index.json")
    assert.is_nil(h)
    assert.are.equal(1, count(err, dir), err)
    helpers.write(dir .. "/model.safetensors.index.json", "{")
    h, err = peft.safetensors.read_index(dir .. "/model.safetensors.index.json")
    assert.are.equal(1, count(err, dir), err)
    helpers.write_safetensors(dir .. "/model..safetensors", { { "a", { 2 } } })
    helpers.write(dir .. "/model.safetensors.index.json", '{"weight_map": {"a": "model..safetensors"}}')
    h, err = peft.safetensors.read_index(dir .. "/model.safetensors.index.json")
    assert.truthy(h, err)
    assert.are.equal("model..safetensors", h.tensors[1].shard)
    for _, bad in ipairs { "..", "../x.safetensors", "a/../b.safetensors", "/etc/passwd", "", "." } do
      helpers.write(dir .. "/model.safetensors.index.json", peft.core.json_encode { weight_map = { a = bad } })
      h, err = peft.safetensors.read_index(dir .. "/model.safetensors.index.json")
      assert.is_nil(h, bad)
      assert.truthy(err:find("must name a file beside the index", 1, true), err)
    end
  end)
end)

describe("13. a misspelt type annotation", function()
  it("is an error when the class is declared, naming the field and the known forms", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/my_method.lua", [[
peft.add_peft_type("MY_METHOD")
local C = peft.declare_config { name = "MyMethodConfig", peft_type = peft.PeftType.MY_METHOD,
  fields = { { "r", "integer", 8, "Rank." } } }
peft.register_peft_method { name = "my_method", config_cls = C }
]])
    local r = run({ "new", "my_method", "r=abc" }, { env = { PEFT_PATH = dir } })
    assert.are.equal(2, r.code, r.out)
    assert.truthy(r.err:find("MyMethodConfig.r: unknown type 'integer' in the annotation 'integer' (did you mean "
      .. "'int'?)", 1, true), r.err)
    assert.truthy(r.err:find("int, float, str, bool", 1, true), r.err)
    assert.are.equal("", r.out)
  end)
end)

describe("13. annotations at declaration (Lua API)", function()
  it("a name that is no form, enum or helper class is refused wherever it stands; known ones pass", function()
    local err = helpers.error_of(peft.declare_config, { name = "BadAnnotConfig",
      fields = { { "a", "Optional[Union[list[flaot], str]]", nil, "A." } } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("a", err.field)
    assert.truthy(err.message:find("^BadAnnotConfig%.a: unknown type 'flaot' in the annotation "
      .. "'Optional%[Union%[list%[flaot%], str%]%]' %(did you mean 'float'%?%)"), err.message)
    assert.is_nil(peft.config.classes.BadAnnotConfig)
    local ok = peft.declare_config { name = "GoodAnnotConfig", kind = "helper",
      fields = { { "t", "Optional[TaskType]", nil, "T." }, { "e", "Optional[EvaConfig]", nil, "E." },
                 { "d", "dict[str, list[int]]", {}, "D." } } }
    assert.truthy(ok)
  end)
end)

describe("15. every target's prerequisites are explicit", function()
  -- what make would run on a fresh clone (make -n, with a build directory that does not exist)
  local function plan(target)
    local dir = helpers.tmpdir() .. "/fresh"
    local p = io.popen("make -n " .. target .. " BUILD=" .. q(dir) .. " 2>&1")
    local out = p:read("a")
    p:close()
    return out, dir
  end

  it("test, sanitize and valgrind build the module, the executables and the tools their specs use first", function()
    for _, target in ipairs { "test", "sanitize", "valgrind" } do
      local out, dir = plan(target)
      local run_at = out:find("scripts/run-tests", 1, true)
      assert.truthy(run_at, out)
      for _, need in ipairs { "-o " .. dir .. "/lib/peft/core.so", "-o " .. dir .. "/peft ", "rcs " .. dir .. "/libpeft.a" } do
        local at = out:find(need, 1, true)
        assert.truthy(at and at < run_at, target .. " does not build " .. need .. " first")
      end
      assert.truthy(out:find("PEFT_MAKE_BUILD=" .. dir, 1, true), target)
    end
    local out, dir = plan("sanitize")
    assert.truthy(out:find("PEFT_CORE_DIR=" .. dir .. "/lib", 1, true), out)
    assert.truthy(out:find("build/asan/peft-faults", 1, true), out)
  end)
end)

describe("14. errors keep their place", function()
  it("tostring names the caller's file and line; an uncaught error prints a traceback", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/script.lua", "local peft = peft or require 'peft'\n\nlocal c = peft.LoraConfig { r = '8' }\n")
    local r = run { dir .. "/script.lua" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("peft: " .. dir .. "/script.lua:3: TypeError: LoraConfig.r: expected an integer", 1, true),
      r.err)
    assert.truthy(r.err:find("stack traceback:", 1, true), r.err)
    assert.truthy(r.err:find(dir .. "/script.lua:3: in main chunk", 1, true), r.err)
  end)
end)
