-- Every host (issue 14): the same program (tests/hosts/program.lua: 20 real configs, r and
-- target_modules, a LoRA config built, saved and loaded back, the registry) gives the same output
-- (tests/fixtures/hosts/expected.txt) under lua5.4, lua5.1, lua5.3, LuaJIT, Neovim, nginx's Lua module,
-- and as a C and a C++ program; each against an install made by make install PREFIX=..., reached as the
-- README says. Then more of the API (tests/hosts/api.lua) under each Lua against Lua 5.4's own module,
-- libpeft's hidden Lua, and the README's lines.
local helpers = require "helpers"

local run, q = helpers.run, helpers.q

local FIX = "tests/fixtures/hosts"

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok and 0 or code
end

local root = sh("pwd"):gsub("\n$", "")
local prefix, expected

-- the environment a stand-alone interpreter of Lua version v needs (the README's lines)
local function lua_env(v)
  local lpath = prefix .. "/share/lua/" .. v .. "/?.lua;"
  if v == "5.4" then lpath = lpath .. prefix .. "/share/lua/5.4/?/init.lua;" end
  return { LUA_PATH = lpath .. ";", LUA_CPATH = prefix .. "/lib/lua/" .. v .. "/?.so;;" }
end

-- a small Llama-style base model, for the model side
local function write_model(dir)
  os.execute("mkdir -p " .. q(dir))
  helpers.write_safetensors(dir .. "/model.safetensors", helpers.llama_tensors())
  helpers.write(dir .. "/config.json", '{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, '
    .. '"vocab_size": 100, "num_attention_heads": 8, "num_key_value_heads": 4}')
end

setup(function()
  prefix = helpers.tmpdir()
  local out, code = sh("make -s install BUILD=" .. helpers.MAKE_BUILD .. " PREFIX=" .. q(prefix))
  assert(code == 0, "make install failed:\n" .. out)
  expected = assert(helpers.read(FIX .. "/expected.txt"))
end)
teardown(helpers.cleanup)

describe("the done-when program", function()
  local function standalone(cmd, v)
    local work = helpers.tmpdir()
    return run({ "tests/hosts/run.lua", FIX, work }, { cmd = cmd, env = lua_env(v) })
  end

  it("runs under lua5.4 with peft's own module", function()
    local r = standalone("lua5.4", "5.4")
    assert.are.equal(0, r.code, r.err)
    assert.are.equal(expected, r.out)
    -- what the expected output says, checked by hand once more
    assert.truthy(expected:find("configs loaded: 20\n", 1, true))
    assert.truthy(expected:find("loaded back: LoraConfig r=8 lora_alpha=16 target_modules=q_proj,v_proj task=CAUSAL_LM "
      .. "same_json=true\n", 1, true))
    assert.truthy(expected:find("method lora: name=lora peft_type=LORA prefix=lora_ mixed=true config=LoraConfig "
      .. "model=LoraModel\n", 1, true))
  end)

  for _, h in ipairs { { "lua5.1", "5.1", "cmod" }, { "lua5.3", "5.3", "cmod" }, { "luajit", "5.1", "ffi" } } do
    it("gives the same output under " .. h[1] .. " (peft over " .. h[3] .. ")", function()
      local r = standalone(h[1], h[2])
      assert.are.equal(0, r.code, r.err)
      assert.are.equal(expected, r.out)
      -- the same warning on stderr as under 5.4 (the file with unknown keys)
      assert.truthy(r.err:find("05%-lora%-old/adapter_config.json: 2 keys unknown to LoraConfig"), r.err)
      local b = run({ "-e", 'io.write(require("peft").backend)' }, { cmd = h[1], env = lua_env(h[2]) })
      assert.are.equal(h[3], b.out, b.err)
    end)
  end

  it("gives the same output inside Neovim (headless)", function()
    local work, out = helpers.tmpdir(), helpers.tmpdir() .. "/out.txt"
    local env = lua_env("5.1")
    env.PEFT_FIXTURES, env.PEFT_WORK, env.PEFT_OUT = FIX, work, out
    local r = run({ "60", "nvim", "--headless", "-u", "NONE", "-i", "NONE", "-c", "luafile tests/hosts/nvim.lua" },
      { cmd = "timeout", env = env })
    assert.are.equal(0, r.code, (helpers.read(out) or "") .. r.err)
    assert.are.equal(expected, helpers.read(out))
  end)

  for _, lang in ipairs { { "C", "cc", "program.c", "" }, { "C++", "g++", "program.cpp", "-std=c++17" } } do
    it("gives the same output as a " .. lang[1] .. " program built against the install", function()
      local bin = helpers.tmpdir() .. "/program"
      local pc = "PKG_CONFIG_PATH=" .. q(prefix .. "/lib/pkgconfig")
      local out, code = sh(string.format("%s %s -Wall -Wextra -Werror %s tests/hosts/%s "
        .. "$(%s pkg-config --cflags --libs peft) -o %s", pc, lang[2], lang[4], lang[3], pc, q(bin)))
      assert.are.equal(0, code, out)
      local r = run({ FIX, helpers.tmpdir() }, { cmd = bin })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal(expected, r.out)
    end)
  end
end)

describe("nginx with its Lua module", function()
  local dir, port, pidfile
  setup(function()
    dir = helpers.tmpdir()
    local conf = assert(helpers.read("tests/hosts/nginx.conf.in"))
    -- a loopback port: a few tries from one derived from the process id
    local base = 20000 + (tonumber(helpers.pid()) * 7919) % 30000
    local started, log
    for try = 0, 9 do
      port = base + try * 101
      local text = conf:gsub("@(%u+)@", { DIR = dir, PREFIX = prefix, ROOT = root, PORT = tostring(port) })
      helpers.write(dir .. "/nginx.conf", text)
      -- (nginx goes to the background once it listens; its output to a file, not a pipe it would keep)
      os.execute("nginx -p " .. q(dir) .. " -c " .. q(dir .. "/nginx.conf") .. " >" .. q(dir .. "/start.log")
        .. " 2>&1")
      log = helpers.read(dir .. "/start.log")
      if helpers.read(dir .. "/nginx.pid") then
        started = true
        break
      end
    end
    assert(started, "nginx did not start:\n" .. tostring(log) .. (helpers.read(dir .. "/error.log") or ""))
    pidfile = dir .. "/nginx.pid"
  end)
  teardown(function()
    local pid = pidfile and helpers.read(pidfile)
    if pid then
      os.execute("kill " .. pid:gsub("%s", "") .. " 2>/dev/null")
      -- it is gone before the next spec runs
      for _ = 1, 50 do
        if not os.execute("kill -0 " .. pid:gsub("%s", "") .. " 2>/dev/null") then break end
        os.execute("sleep 0.1")
      end
    end
  end)

  local function curl(path, body_file)
    local out = helpers.tmpdir() .. "/body"
    local args = "-sS --max-time 60 -o " .. q(out) .. " -w '%{http_code}' "
    if body_file then args = args .. "--data-binary @" .. q(body_file) .. " " end
    local status, code = sh("curl " .. args .. q("http://127.0.0.1:" .. port .. path))
    assert(code == 0, "curl failed: " .. status .. (helpers.read(dir .. "/error.log") or ""))
    return tonumber(status), helpers.read(out)
  end

  it("runs the done-when program in a request handler, with the same output", function()
    local status, body = curl("/program")
    assert.are.equal(200, status, (body or "") .. (helpers.read(dir .. "/error.log") or ""))
    assert.are.equal(expected, body)
  end)

  it("validates a posted adapter_config.json and answers with the JSON report", function()
    local good = helpers.tmpdir() .. "/good.json"
    helpers.write(good, '{"peft_type": "LORA", "r": 16, "task_type": "CAUSAL_LM", "merge_weights": false}')
    local status, body = curl("/validate", good)
    assert.are.equal(200, status, body)
    assert.are.equal('{"backend": "ffi", "class": "LoraConfig", "peft_type": "LORA", "task_type": "CAUSAL_LM", '
      .. '"valid": true, "warnings": ["1 key unknown to LoraConfig: \'merge_weights\'; kept as they are and written '
      .. 'back on save"]}', body)
    local bad = helpers.tmpdir() .. "/bad.json"
    helpers.write(bad, '{"peft_type": "LORA", "r": "16"}')
    status, body = curl("/validate", bad)
    assert.are.equal(422, status, body)
    assert.are.equal('{"kind": "TypeError", "message": "request body: LoraConfig.r: expected an integer, got \\"16\\" '
      .. '(PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)", "valid": false}',
      body)
    local broken = helpers.tmpdir() .. "/broken.json"
    helpers.write(broken, '{"peft_type": ')
    status, body = curl("/validate", broken)
    assert.are.equal(422, status, body)
    assert.truthy(body:find('"kind": "JSONDecodeError"', 1, true), body)
  end)
end)

describe("the API beyond the program", function()
  local work, reference
  setup(function()
    work = helpers.tmpdir()
    write_model(work .. "/model")
    local r = run({ "tests/hosts/run_api.lua", FIX, work }, { cmd = "lua5.4", env = lua_env("5.4") })
    assert(r.code == 0, r.err)
    reference = r.out
  end)

  it("is what Lua 5.4's own module says (a few lines checked by hand)", function()
    assert.truthy(reference:find("PeftType.LORAA -> AttributeError: unknown PeftType member 'LORAA' (did you mean "
      .. "'LORA'?)\n", 1, true), reference)
    assert.truthy(reference:find("\nlenient: total_step=nil warning=AdaLoraConfig: total_step: must be an integer > 0 "
      .. "(the number of training steps AdaLoRA schedules), got null (a check PEFT added in 0.15.0; loaded "
      .. "leniently)\n",
      1, true), reference)
    assert.truthy(reference:find("\nplan: PeftModelForCausalLM trainable=7168 all=94016 saved=8\n", 1, true), reference)
  end)

  for _, h in ipairs { { "lua5.1", "5.1" }, { "lua5.3", "5.3" }, { "luajit", "5.1" } } do
    it("has the same shape under " .. h[1], function()
      os.execute("rm -rf " .. q(work .. "/saved"))
      local r = run({ "tests/hosts/run_api.lua", FIX, work }, { cmd = h[1], env = lua_env(h[2]) })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal(reference, r.out)
    end)
  end

  for _, h in ipairs { { "lua5.1", "5.1" }, { "luajit", "5.1" } } do
    it("maps an adapter's tensor names to modules, methods and adapters under " .. h[1], function()
      local adapter = helpers.tmpdir()
      helpers.write(adapter .. "/adapter_config.json", '{"peft_type": "ADALORA", "total_step": 100, '
        .. '"target_modules": ["q_proj"]}')
      helpers.write_safetensors(adapter .. "/adapter_model.safetensors", {
        { "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", { 8, 64 } },
        { "base_model.model.model.layers.0.self_attn.q_proj.lora_E.weight", { 8, 1 } },
        { "base_model.model.score.weight", { 2, 64 } },
      })
      local script = [[
        local peft = require "peft"
        for _, o in ipairs(peft.tensor_owners(arg[1], { adapter = "a1" })) do
          print(o.name, o.method, o.module, o.layer, o.adapter, o.param)
        end
        for _, o in ipairs(peft.tensor_owners({ "model.layers.1.mlp.up_proj.hada_w1_a.b2" })) do
          print(o.method, o.module, o.layer, o.adapter, o.param)
        end
        local ok, e = pcall(peft.tensor_owners, arg[1] .. "/nope")
        print(e.kind)
      ]]
      local r = run({ "-", adapter }, { cmd = h[1], env = lua_env(h[2]), stdin = script })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal(table.concat({
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight\tadalora\tmodel.layers.0.self_attn.q_proj\t"
          .. "lora_A\ta1\tweight",
        "base_model.model.model.layers.0.self_attn.q_proj.lora_E.weight\tadalora\tmodel.layers.0.self_attn.q_proj\t"
          .. "lora_E\ta1\tweight",
        "base_model.model.score.weight\tnil\tnil\tnil\ta1\tnil",
        "loha\tmodel.layers.1.mlp.up_proj\thada_w1_a\tb2\tnil",
        "FileNotFoundError",
      }, "\n") .. "\n", r.out)
    end)
  end
end)

describe("libpeft's own Lua", function()
  it("is hidden: libpeft.so exports no Lua symbol, the host modules leave lua_* to their interpreter", function()
    local out = sh("nm -D --defined-only " .. q(prefix .. "/lib/libpeft.so.0"))
    assert.truthy(out:find(" peft_open\n", 1, true), out:sub(1, 200))
    assert.falsy(out:find(" lua[L_]"), out:match("[^\n]* lua[L_][^\n]*"))
    assert.falsy(out:find(" luaopen_"), out:match("[^\n]* luaopen_[^\n]*"))
    for _, v in ipairs { "5.1", "5.3" } do
      local mod = prefix .. "/lib/lua/" .. v .. "/peft/cmod.so"
      local defined = sh("nm -D --defined-only " .. q(mod))
      assert.falsy(defined:find(" lua_"), defined:match("[^\n]* lua_[^\n]*"))
      assert.truthy(defined:find(" luaopen_peft_cmod\n", 1, true))
      assert.truthy(sh("nm -D --undefined-only " .. q(mod)):find(" lua_pushstring\n", 1, true))
    end
  end)
end)

describe("the README's install lines", function()
  it("work as written, for every host", function()
    local readme = assert(helpers.read("README.md"))
    local lines = {}
    for line in readme:gmatch("[^\n]+") do
      if line:match("^LUA_PATH=") or line:match("^eval ") then lines[#lines + 1] = line end
    end
    assert.is_true(#lines >= 4, "the README has no LUA_PATH lines")
    for _, line in ipairs(lines) do
      local cmd = "PREFIX=" .. q(prefix) .. "; " .. line
      local out, code = sh(cmd)
      assert.are.equal(0, code, line .. "\n" .. out)
      assert.truthy(out:find("LoraConfig 45", 1, true), line .. "\n" .. out)
    end
  end)
end)
