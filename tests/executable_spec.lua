-- The `peft` executable: options, scripts, exit codes, the plain REPL on a
-- pipe, and an installed copy (binary and module) used from elsewhere.
local helpers = require "helpers"

local run = helpers.run

describe("peft executable", function()
  after_each(helpers.cleanup)

  it("prints its version and help", function()
    local r = run { "--version" }
    assert.are.equal(0, r.code)
    assert.truthy(r.out:match("^peft %d+%.%d+%.%d+ %(Lua 5%.4"), r.out)
    r = run { "-v" }
    assert.are.equal(0, r.code)
    r = run { "--help" }
    assert.are.equal(0, r.code)
    assert.truthy(r.out:find("usage: ", 1, true))
    assert.truthy(r.out:find("-l FILE", 1, true))
  end)

  it("exits 2 on a bad option, with the usage on stderr", function()
    local r = run { "-x" }
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find("usage:", 1, true))
    r = run { "-e" }
    assert.are.equal(2, r.code)
  end)

  it("runs -e with peft as a global and through require", function()
    local r = run { "-e", "print(peft == require('peft'), peft.PeftType.LORA, #peft.methods())" }
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("true\tLORA\t45\n", r.out)
  end)

  it("starts without loading what start-up does not need, and loads it on first use", function()
    local r = run { "-e", [[
      local before = {}
      for _, m in ipairs { "peft.types", "peft.loader", "peft.cli", "peft.model" } do
        before[#before + 1] = tostring(package.loaded[m] ~= nil)
      end
      local cfg = peft.LoraConfig { r = 4, bias = "all" }
      print(table.concat(before, " "), package.loaded["peft.types"] ~= nil, peft.types.repr(cfg.bias),
        getmetatable(peft.types) == nil, peft.types == require("peft.types"), next(peft.types) ~= nil)
    ]] }
    assert.are.equal(0, r.code, r.err)
    assert.are.equal('false false false false\ttrue\t"all"\ttrue\ttrue\ttrue\n', r.out)
  end)

  it("loads a method's definitions again after a first load that failed part-way", function()
    -- (the embedded method files load their definitions on first use: a failure among them, out of
    -- memory say, must leave no class half defined for the next use)
    local r = run { "-e", [[
      local real, n = peft.define, 0
      peft.define = function(name, parts)
        n = n + 1
        if n == 3 then error("stopped at " .. name, 0) end
        return real(name, parts)
      end
      print(pcall(function() return peft.LoraConfig.new { r = 4 } end))
      peft.define = real
      local cfg = peft.LoraConfig.new { r = 4, runtime_config = { ephemeral_gpu_offload = true } }
      print(cfg.r, cfg.runtime_config.ephemeral_gpu_offload, peft.EvaConfig.new({}).rho)
    ]] }
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("false\tstopped at EvaConfig\n4\ttrue\t2.0\n", r.out)
  end)

  it("exits 1 when a chunk fails, printing the error", function()
    local r = run { "-e", "error('boom')" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("boom", 1, true))
    r = run { "-e", "peft.register_peft_method{ name = 'lora', config_cls = peft.LoraConfig }" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("KeyError: There is already PEFT method called 'lora'", 1, true), r.err)
  end)

  it("shows warn() output only after warn('@on'), as lua5.4 does", function()
    local r = run { "-e", "warn('hidden') warn('@on') warn('a', 'b', 'c') warn('@off') warn('hidden too')" }
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("Lua warning: abc\n", r.err)
    r = run { "-e", "warn('@on') warn('x') warn('@bogus') warn('y')" }
    assert.are.equal("Lua warning: x\nLua warning: y\n", r.err)
  end)

  it("runs code that allocates and frees a great deal (the executable's allocator)", function()
    local r = run { "-e", [[
      local t = {}
      for i = 1, 200000 do t[i] = { i, ("v"):rep(i % 500) } end
      for i = 1, 200000, 3 do t[i] = nil end
      collectgarbage()
      local n = 0
      for i = 1, 200000 do if t[i] then n = n + #t[i][2] end end
      print(n)]] }
    assert.are.equal(0, r.code, r.err)
    local expect = 0
    for i = 1, 200000 do if (i - 1) % 3 ~= 0 then expect = expect + i % 500 end end
    assert.are.equal(expect .. "\n", r.out)
  end)

  it("runs a script with its arguments", function()
    local dir = helpers.tmpdir()
    local script = helpers.write(dir .. "/s.lua", "print(arg[0] ~= nil, peft.PeftType.IA3, ...)")
    local r = run { script, "a", "b" }
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("true\tIA3\ta\tb\n", r.out)
    r = run { dir .. "/missing.lua" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("cannot open", 1, true))
  end)

  it("runs standard input when it is not a terminal", function()
    local r = run({}, { stdin = "print(peft.PeftType.LORA)\n" })
    assert.are.equal(0, r.code)
    assert.are.equal("LORA\n", r.out)
  end)

  it("loads -l extensions after PEFT_PATH; a failing one is reported, start-up goes on", function()
    local dir = helpers.tmpdir()
    local good = helpers.write(dir .. "/good.lua", 'peft.add_peft_type("CLI_EXT")')
    local bad = helpers.write(dir .. "/bad.lua", 'peft.add_peft_type("CLI_BAD")\nerror("nope")')
    local r = run { "-l", bad, "-l", good, "-e", "print(peft.PeftType('CLI_EXT'), (peft.PeftType('CLI_BAD')))" }
    assert.are.equal(0, r.code)
    assert.are.equal("CLI_EXT\tnil\n", r.out)
    assert.truthy(r.err:find(bad .. ":2: nope", 1, true), r.err)
  end)

  it("-i reads a piped session line by line: expressions, statements, multi-line, errors", function()
    local r = run({ "-i" }, { stdin = table.concat({
      "1 + 1",
      "x = peft.PeftType.LORA",
      "x",
      "for i = 1, 2 do",
      "  print('line', i)",
      "end",
      "error('bad line')",
      "peft.PEFT_TYPE_TO_PREFIX_MAPPING.LOHA",
    }, "\n") .. "\n" })
    assert.are.equal(0, r.code)
    assert.truthy(r.out:find("2\n", 1, true), r.out)
    assert.truthy(r.out:find("LORA", 1, true))
    assert.truthy(r.out:find("line\t1\nline\t2\n", 1, true))
    assert.truthy(r.out:find("hada_", 1, true))
    assert.truthy(r.err:find("bad line", 1, true))
  end)
end)

describe("make install", function()
  local prefix
  setup(function()
    prefix = helpers.tmpdir()
    local ok = os.execute("make -s install BUILD=" .. helpers.MAKE_BUILD .. " PREFIX=" .. helpers.q(prefix) .. " >/dev/null 2>&1")
    assert.is_true(ok)
  end)
  teardown(helpers.cleanup)

  it("installs the binary, the C module and the Lua files", function()
    for _, p in ipairs { "/bin/peft", "/lib/lua/5.4/peft/core.so", "/share/lua/5.4/peft/init.lua",
                         "/share/lua/5.4/peft/methods/lora.lua" } do
      assert.truthy(helpers.read(prefix .. p), p)
    end
  end)

  it("the installed peft works from any directory", function()
    local r = run({ "-e", "print(#peft.methods())" }, { cmd = prefix .. "/bin/peft" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("45\n", r.out)
  end)

  it("a stock lua5.4 requires peft from the install and sees the same registry", function()
    local env = { LUA_PATH = prefix .. "/share/lua/5.4/?.lua;" .. prefix .. "/share/lua/5.4/?/init.lua;;",
                  LUA_CPATH = prefix .. "/lib/lua/5.4/?.so;;" }
    local code = [[
      local peft = require "peft"
      local n = 0
      for k in pairs(peft.PEFT_TYPE_TO_CONFIG_MAPPING) do n = n + 1 end
      print(n, peft.PEFT_TYPE_TO_PREFIX_MAPPING.ADALORA, package.searchpath("peft.core", package.cpath))
    ]]
    local r = run({ "-e", code }, { cmd = "lua5.4", env = env })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("45\tlora_\t" .. prefix .. "/lib/lua/5.4/peft/core.so\n", r.out)
  end)
end)
