-- Embedding: a C host built only with pkg-config flags against an install,
-- and `luarocks make` into a fresh tree for a stock lua5.4.
local helpers = require "helpers"

local run, q = helpers.run, helpers.q

describe("a C host", function()
  local prefix, host, dir
  setup(function()
    prefix = helpers.tmpdir()
    assert.is_true(os.execute("make -s install BUILD=" .. helpers.MAKE_BUILD .. " PREFIX=" .. q(prefix) .. " >/dev/null 2>&1"))
    host = prefix .. "/validate_adapters"
    local pc = "PKG_CONFIG_PATH=" .. q(prefix .. "/lib/pkgconfig")
    local cmd = string.format("%s; cc scripts/examples/validate_adapters.c $(%s pkg-config --cflags --libs peft) -o %s",
      "export " .. pc, pc, q(host))
    assert.is_true(os.execute(cmd .. " 2>/dev/null"), "the example host does not build with pkg-config's flags")
    dir = helpers.tmpdir()
    os.execute("mkdir -p " .. q(dir .. "/good") .. " " .. q(dir .. "/warn") .. " " .. q(dir .. "/bad"))
    helpers.write(dir .. "/good/adapter_config.json", '{"peft_type": "LORA", "r": 16, "task_type": "CAUSAL_LM"}')
    helpers.write(dir .. "/warn/adapter_config.json", '{"peft_type": "IA3", "merge_weights": true}')
    helpers.write(dir .. "/bad/adapter_config.json", '{"peft_type": "LORA", "r": "16"}')
  end)
  teardown(helpers.cleanup)

  it("installs the headers, the libraries and peft.pc", function()
    for _, p in ipairs { "/include/peft/peft.h", "/include/peft/peft_registry.h", "/lib/libpeft.a",
                         "/lib/libpeft.so.0", "/lib/pkgconfig/peft.pc" } do
      assert.truthy(helpers.read(prefix .. p), p)
    end
  end)

  it("loads and validates configs, and gets an error string for a bad one", function()
    local r = run({ dir .. "/good", dir .. "/warn", dir .. "/bad", dir .. "/missing" }, { cmd = host })
    assert.are.equal(1, r.code)
    local lines = {}
    for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal("OK      " .. dir .. "/good: LoraConfig (CAUSAL_LM) r=16", lines[1])
    assert.truthy(lines[2]:find("^OK      .*/warn: IA3Config %(no task type%), 1 warning: 1 key unknown to IA3Config"),
      lines[2])
    assert.are.equal("INVALID " .. dir .. "/bad: TypeError: " .. dir .. '/bad/adapter_config.json: LoraConfig.r:'
      .. ' expected an integer, got "16" (PEFT reads the file, but its model code needs an integer here: a size, a count'
      .. ' or a seed)', lines[3])
    assert.are.equal("INVALID " .. dir .. "/missing: FileNotFoundError: " .. dir
      .. "/missing: no such file or directory",
      lines[4])
  end)

  -- the C API says the kind the peft command says (issue 14)
  it("reports each failure with the kind the peft command prints", function()
    local cases = {
      { "missing", nil, "FileNotFoundError" },
      { "broken", '{"peft_type": "LORA", "r": ', "JSONDecodeError" },
      { "type", '{"peft_type": "LORA", "r": "16"}', "TypeError" },
      { "value", '{"peft_type": "LORA", "r": 4, "layers_pattern": "layers"}', "ValueError" },
      { "unknown", '{"peft_type": "NOPE"}', "ValueError" },
      { "model", '{"model_type": "llama"}', "ValueError" },
    }
    for _, c in ipairs(cases) do
      local path = dir .. "/kinds/" .. c[1]
      if c[2] then
        os.execute("mkdir -p " .. q(path))
        helpers.write(path .. "/adapter_config.json", c[2])
      end
      local r = run({ path }, { cmd = host })
      local c_kind = r.out:match("^INVALID .-: (%a+): ")
      local cli = run({ "validate", path })
      local cli_kind = cli.out:match("^FAIL .-: (%a+): ")
      assert.are.equal(c[3], c_kind, r.out)
      assert.are.equal(c[3], cli_kind, cli.out)
    end
  end)

  it("exits 0 when everything is valid", function()
    local r = run({ dir .. "/good" }, { cmd = host })
    assert.are.equal(0, r.code, r.err)
  end)
end)

describe("the rockspec", function()
  after_each(helpers.cleanup)

  it("is up to date with the sources", function()
    local tmp = helpers.tmpdir() .. "/peft-scm-1.rockspec"
    assert.is_true(os.execute("lua5.4 scripts/gen-rockspec.lua " .. q(tmp)))
    assert.are.equal(helpers.read("peft-scm-1.rockspec"), helpers.read(tmp))
  end)

  -- one rockspec for every Lua: luarocks builds the module that Lua needs through the Makefile's rock target
  for _, h in ipairs {
    { "lua5.4", "5.4", "native", {} }, { "lua5.3", "5.3", "cmod", {} }, { "lua5.1", "5.1", "cmod", {} },
    { "luajit", "5.1", "ffi", { "LUA=/usr/bin/luajit", "LUA_INCDIR=/usr/include/luajit-2.1" } },
  } do
    it("luarocks make into a fresh tree gives a stock " .. h[1] .. " a working require 'peft'", function()
      local work = helpers.tmpdir()
      local tree = helpers.tmpdir()
      assert.is_true(os.execute("cp -r lua src scripts Makefile peft-scm-1.rockspec " .. q(work)))
      local lr = "luarocks --lua-version " .. h[2] .. " --tree " .. q(tree)
      local ok = os.execute("cd " .. q(work) .. " && " .. lr .. " make peft-scm-1.rockspec " .. table.concat(h[4], " ")
        .. " >" .. q(work .. "/luarocks.log") .. " 2>&1")
      assert.is_true(ok, "luarocks make failed:\n" .. (helpers.read(work .. "/luarocks.log") or ""))
      local p = io.popen(lr .. " path --lr-path")
      local lpath = p:read("l")
      p:close()
      p = io.popen(lr .. " path --lr-cpath")
      local cpath = p:read("l")
      p:close()
      local r = run({ "-e", [[
        local peft = require "peft"
        print(#peft.methods(), peft.LoraConfig{ r = 4 }:to_dict().r, peft.backend or "native")
      ]] }, { cmd = h[1], env = { LUA_PATH = lpath .. ";;", LUA_CPATH = cpath .. ";;" } })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal("45\t4\t" .. h[3] .. "\n", r.out)
    end)
  end
end)
