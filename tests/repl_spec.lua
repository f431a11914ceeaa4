-- The REPL, on a pseudo-terminal (completion, multi-line input, history,
-- errors, Ctrl-C, help) and through a pipe.
local helpers = require "helpers"

describe("the REPL on a terminal", function()
  local env
  before_each(function()
    env = { PEFT_HISTORY = helpers.tmpdir() .. "/history", NO_COLOR = "1" }
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
