-- The REPL, on a pseudo-terminal (completion, multi-line input, history,
-- errors, Ctrl-C, help) and through a pipe.
local helpers = require "helpers"

describe("the REPL on a terminal", function()
  local env
  before_each(function()
    env = { PEFT_HISTORY = helpers.tmpdir() .. "/history", NO_COLOR = "1", PAGER = "cat" }
  end)
  after_each(helpers.cleanup)

  it("evaluates expressions, runs statements, continues incomplete chunks", function()
    local out, code, err = helpers.repl({
      "expect peft> ", "send 1 + 1\\n", "expect 2",
      "expect peft> ", "send x = PeftType.IA3\\n",
      "expect peft> ", "send x\\n", "expect PeftType.IA3",
      "expect peft> ", "send for i = 1, 2 do\\n", "expect ...> ", "send print('item', i * 10) end\\n",
      "expect item\t20",
      "expect peft> ", "send LoraConfig{\\n", "expect ...> ", "send r = 4 }\\n", "expect LoraConfig(r=4)",
      "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code, err .. out)
    assert.truthy(out:find("[exit 0]", 1, true), out)
  end)

  -- The terminal redraws the line while completing, so each case checks what
  -- the completed line evaluates to rather than the redrawn text.
  it("completes globals, enum members, class members and object methods", function()
    local out, code, err = helpers.repl({
      "expect peft> ", "send PeftTy\\t.LORA\\n", "expect -- PeftType.LORA",
      "expect peft> ", "send PeftType.LOR\\t\\n", "expect -- PeftType.LORA",
      "expect peft> ", "send PeftType.LO\\t\\t", "expect PeftType.LOKR",
      "send \\x15\\n", -- Ctrl-U clears the line
      "expect peft> ", "send type(LoraConfig.from_pre\\t)\\n", "expect \"function\"",
      "expect peft> ", "send cfg = IA3Config{}\\n",
      "expect peft> ", "send cfg:to_js\\t()\\n", "expect \"peft_type\": \"IA3\"",
      "expect peft> ", "send cfg.fan_in\\t\\n", "expect false",
      "expect peft> ", "send peft.PEFT_TYPE_TO_PR\\t.LOHA\\n", "expect \"hada_\"",
      "expect peft> ", "send peft.LoraR\\t\\n", "expect nested config class LoraRuntimeConfig",
      "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code, err .. out)
  end)

  it("prints an error and goes on; Ctrl-C abandons the line; _ is the last result", function()
    local out, code, err = helpers.repl({
      "expect peft> ", "send PeftType.LORAA\\n",
      "expect AttributeError: unknown PeftType member 'LORAA' (did you mean 'LORA'?)",
      "expect peft> ", "send error('boom')\\n", "expect boom",
      "expect peft> ", "send 6 * 7\\n", "expect 42",
      "expect peft> ", "send y = 1\\x03", "expect ^C",
      "expect peft> ", "send for i = 1, 3 do\\n", "expect ...> ", "send \\x03", "expect ^C",
      "expect peft> ", "send _ + 1\\n", "expect 43",
      "expect peft> ", "send y\\n", "expect nil",
      "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code, err .. out)
    assert.truthy(out:find("[exit 0]", 1, true), out)
  end)

  it("keeps history across runs", function()
    local _, code = helpers.repl({
      "expect peft> ", "send answer = 6 * 7\\n", "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code)
    -- libedit's history format escapes spaces as \040
    assert.truthy(helpers.read(env.PEFT_HISTORY):find("answer\\040=\\0406\\040*\\0407", 1, true))
    local out, code2 = helpers.repl({
      "expect peft> ", "send \\x1b[A", "expect answer = 6 * 7", "send \\n",
      "expect peft> ", "send answer\\n", "expect 42",
      "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code2, out)
  end)

  it("has help() for classes, fields, methods, enums and functions, and the globals ready", function()
    local out, code = helpers.repl({
      "expect peft> ", "send help()\\n", "expect Globals: peft, PeftType, TaskType",
      "expect peft> ", "send help(LoraConfig)\\n", "expect from LoraConfig:",
      "expect peft> ", "send help('LoraConfig.bias')\\n", "expect allowed: 'none', 'all', 'lora_only'",
      "expect peft> ", "send help(peft.register_peft_method)\\n", "expect the C core checks every rule",
      "expect peft> ", "send help(TaskType)\\n", "expect TaskType: 6 members",
      "expect peft> ", "send help('lora')\\n", "expect method lora: PeftType LORA, prefix 'lora_'",
      "expect peft> ", "send IA3Config, AdaLoraConfig ~= nil\\n", "expect config class IA3Config",
      "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code, out)
  end)
end)

describe("the REPL through a pipe", function()
  after_each(helpers.cleanup)

  it("works line by line without the line editor, pretty-printing", function()
    local r = helpers.run({ "-i" }, { stdin = table.concat({
      "peft.method('loha')",
      "LoraConfig{ r = 4, target_modules = { 'v', 'q' } }",
      "{ 1, 2, { a = 'x' } }",
      "PeftType.NOPE",
      "peft.PEFT_TYPE_TO_MIXED_MODEL_MAPPING",
    }, "\n") .. "\n" })
    assert.are.equal(0, r.code)
    assert.truthy(r.out:find("method loha: PeftType LOHA, prefix 'hada_', mixed-compatible, config LoHaConfig,"
      .. " model LoHaModel", 1, true), r.out)
    assert.truthy(r.out:find('LoraConfig(r=4, target_modules=["q", "v"])', 1, true), r.out)
    assert.truthy(r.out:find('[1, 2, {a = "x"}]', 1, true), r.out)
    assert.truthy(r.out:find("PEFT_TYPE_TO_MIXED_MODEL_MAPPING (9 entries)", 1, true), r.out)
    assert.truthy(r.err:find("unknown PeftType member 'NOPE'", 1, true))
  end)

  it("says how much of a long table it left out", function()
    local r = helpers.run({ "-i" }, { stdin = "t = {} for i = 1, 600 do t[i] = i end\nt\n" })
    assert.truthy(r.out:find("... 100 more items not shown: peft.repl.show(x, { limit = math.huge }) shows all",
      1, true), r.out)
  end)
end)

-- What a new user stumbled on in the REPL (issue 16), on a pseudo-terminal.
describe("the REPL for a new user", function()
  local env
  before_each(function()
    env = { PEFT_HISTORY = helpers.tmpdir() .. "/history", NO_COLOR = "1", PAGER = "cat" }
  end)
  after_each(helpers.cleanup)

  -- the completions libedit lists after two <TAB>s, between the line and the next prompt
  local function listed(out, prefix)
    local names = {}
    for name in out:gmatch("%f[%w_]" .. prefix:gsub("%p", "%%%0") .. "([%w_]+)") do names[name] = true end
    return names
  end

  it("completes fields after '.', methods after ':', never internals", function()
    local out, code = helpers.repl({
      "expect peft> ", "send cfg = LoraConfig{}\\n",
      "expect peft> ", "send cfg:\\t\\t", "expect cfg:validate", "send \\x15\\n",
      "expect peft> ", "send cfg.\\t\\t", "expect cfg.use_rslora", "send \\x15\\n",
      "expect peft> ", "send LoraConfig.\\t\\t", "expect LoraConfig.use_rslora", "send \\x15\\n",
      "expect peft> ", "send LoraConfig:\\t\\t", "expect LoraConfig:lineage", "send \\x15\\n",
      "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code, out)
    -- a listing: from the first line that starts with the prefix to the next prompt
    local function section(prefix)
      local a = out:find("\n" .. prefix:gsub("%p", "%%%0") .. "[%a_]")
      assert.truthy(a, prefix)
      return out:sub(a, (out:find("peft>", a, true)))
    end
    local methods = listed(section("cfg:"), "cfg:")
    local fields = listed(section("cfg."), "cfg.")
    local cfields = listed(section("LoraConfig."), "LoraConfig.")
    local cmethods = listed(section("LoraConfig:"), "LoraConfig:")
    for _, m in ipairs { "to_dict", "to_json", "save_pretrained", "replace", "diff", "validate", "warnings" } do
      assert.truthy(methods[m], m)
    end
    for _, f in ipairs { "r", "lora_alpha", "target_modules", "use_dora" } do
      assert.truthy(fields[f], f)
      assert.truthy(cfields[f], f)
      assert.is_nil(methods[f], f)
    end
    for _, m in ipairs { "to_json", "diff" } do assert.is_nil(fields[m], m) end
    for _, m in ipairs { "from_pretrained", "field", "defaults" } do assert.truthy(cmethods[m], m) end
    -- a class's methods are called with '.' too (LoraConfig.from_pretrained(path)); its objects' are not
    assert.truthy(cfields.from_pretrained)
    assert.is_nil(cfields.to_json)
    for _, internal in ipairs { "object_mt", "values_mt", "fill", "was_given_bits", "table_defaults", "field_index",
                                "post_init", "new", "field_map", "check_kwargs" } do
      assert.is_nil(methods[internal], internal)
      assert.is_nil(fields[internal], internal)
      assert.is_nil(cfields[internal], internal)
      assert.is_nil(cmethods[internal], internal)
    end
  end)

  it("help(LoraConfig.r) shows the field's help; the banner mentions help()", function()
    local out, code = helpers.repl({
      "expect help() explains", "expect peft> ", "send help(LoraConfig.r)\\n",
      "expect LoraConfig.r: int = 8", "expect   Rank of the update",
      "expect peft> ", "send help('LoraConfig.r')\\n", "expect LoraConfig.r: int = 8",
      "expect peft> ", "send LoraConfig.peft_type\\n", "expect \"LORA\"",
      "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code, out)
  end)

  it("pages long help through $PAGER on a terminal, not short help", function()
    env.PAGER = "sed s/^/PAGED:/"
    local out, code = helpers.repl({
      "expect peft> ", "send help(LoraConfig)\\n", "expect PAGED:LoraConfig  (PeftType LORA",
      "expect peft> ", "send help('LoraConfig.r')\\n", "expect LoraConfig.r: int",
      "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code, out)
    assert.is_nil(out:find("PAGED:LoraConfig.r", 1, true), out)
    -- a pager that is not there: the help is printed
    env.PAGER = "no-such-pager-anywhere"
    out, code = helpers.repl({
      "expect peft> ", "send help(LoraConfig)\\n", "expect from LoraConfig:", "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code, out)
  end)

  it("hints at Lua's spelling of Python habits", function()
    local out, code = helpers.repl({
      "expect peft> ", "send LoraConfig(r=8, use_dora=True)\\n",
      "expect hint: Lua passes fields in a table, with braces: LoraConfig{ r = 8, use_dora = true }",
      "expect peft> ", "send cfg = LoraConfig{ use_dora = True }\\n",
      "expect NameError: True is Python's; Lua writes true",
      "expect peft> ", "send x = None\\n", "expect NameError: None is Python's; Lua writes nil",
      "expect peft> ", "send x = False\\n", "expect Lua writes false",
      "expect peft> ", "send t = ['q_proj']\\n", "expect hint: Lua writes a list with braces",
      "expect peft> ", "send 1 != 2\\n", "expect hint: Lua writes 'not equal' as ~=",
      "expect peft> ", "send cfg\\n", "expect nil",
      "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code, out)
  end)

  it("stores each line in the history once", function()
    local function session(lines)
      local script = {}
      for _, l in ipairs(lines) do
        script[#script + 1] = "expect peft> "
        script[#script + 1] = "send " .. l .. "\\n"
      end
      script[#script + 1] = "expect peft> "
      script[#script + 1] = "send \\x04"
      script[#script + 1] = "wait"
      local out, code = helpers.repl(script, { env = env })
      assert.are.equal(0, code, out)
    end
    -- (typed: e = "x\\y", two backslashes; in the file each is doubled)
    session { "a = 1", "b = 2", "c = 3" }
    session { "d = 4", [[e = "x\\\\y"]] }
    assert.are.equal("_HiStOrY_V2_\na\\040=\\0401\nb\\040=\\0402\nc\\040=\\0403\nd\\040=\\0404\n"
      .. [[e\040=\040"x\\\\y"]] .. "\n", helpers.read(env.PEFT_HISTORY))
    -- and it reads back as typed
    local out, code = helpers.repl({
      "expect peft> ", "send \\x1b[A\\n", "expect peft> ", "send e\\n", [[expect "x\\y"]],
      "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code, out)
  end)

  it("shows the fields given and those not at their default; a:diff(b) compares two configs", function()
    local out, code = helpers.repl({
      "expect peft> ", "send LoraConfig{ r = 8, lora_alpha = 4 }\\n", "expect LoraConfig(r=8, lora_alpha=4)",
      "expect peft> ", "send a = LoraConfig{ r = 8, task_type = 'CAUSAL_LM' }\\n",
      "expect peft> ", "send b = LoraConfig{ r = 16, task_type = 'CAUSAL_LM', target_modules = { 'q' } }\\n",
      "expect peft> ", "send #a:diff(b), a:diff(b)[1].other, a:diff(b)[2].name\\n", "expect 2", "expect 16",
      "expect \"target_modules\"",
      "expect peft> ", "send a:diff(a)\\n", "expect {}",
      "expect peft> ", "send { a:diff(IA3Config{})[1] }\\n",
      "expect [{name = \"peft_type\", other = \"IA3\", value = \"LORA\"}]",
      "expect peft> ", "send \\x04", "wait",
    }, { env = env })
    assert.are.equal(0, code, out)
  end)
end)

describe("piped input", function()
  after_each(helpers.cleanup)

  it("runs as a script without -i (peft is its only global) and line by line with -i, as the README says", function()
    local r = helpers.run({}, { stdin = "print(peft.PeftType.LORA)\n" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("LORA\n", r.out)
    r = helpers.run({}, { stdin = "print(PeftType.LORA)\n" })
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("stdin:1: attempt to index a nil value (global 'PeftType') (PeftType is a global of the"
      .. " REPL, peft -i; in a script or -e it is peft.PeftType)", 1, true), r.err)
    r = helpers.run({ "-e", "x = LoraConfig{}" })
    assert.truthy(r.err:find("(LoraConfig is a global of the REPL, peft -i; in a script or -e it is peft.LoraConfig)",
      1, true), r.err)
    r = helpers.run({ "-i" }, { stdin = "print(PeftType.LORA)\nPeftType.LORA\n" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal('LORA\n"LORA"  -- PeftType.LORA\n', r.out)
    -- the README says the same
    local readme = helpers.read("README.md")
    assert.truthy(readme:find("piped input runs as a Lua script", 1, true))
    assert.truthy(readme:find("`peft -i` reads piped input line by line", 1, true))
  end)

  it("never pages, whatever PAGER says", function()
    local r = helpers.run({ "-i" }, { stdin = "help(LoraConfig)\n", env = { PAGER = "sed s/^/PAGED:/" } })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find("from LoraConfig:", 1, true))
    assert.is_nil(r.out:find("PAGED:", 1, true))
  end)
end)
