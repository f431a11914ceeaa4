-- Adapters in the local Hugging Face Hub cache: cache repository directories and
-- Hub ids (org/name[@revision]) resolved offline by every command that takes an
-- adapter path, and the message when one is not cached.
local peft = require "peft"
local helpers = require "helpers"

local q, run = helpers.q, helpers.run
local decode = peft.core.json_decode

local function sh(cmd) assert(os.execute(cmd), cmd) end

local MAIN, V2, PR = "aaaa1111bbbb2222cccc3333dddd4444eeee5555", "ffff6666000011112222333344445555aaaa6666",
  "9999888877776666555544443333222211110000"

-- A cache as huggingface_hub lays it out: blobs, refs, snapshots of links.
local function cache_repo(hub, repo, snapshots, refs)
  local dir = hub .. "/models--" .. repo:gsub("/", "--")
  sh("mkdir -p " .. q(dir .. "/blobs") .. " " .. q(dir .. "/refs/pr"))
  for commit, files in pairs(snapshots) do
    sh("mkdir -p " .. q(dir .. "/snapshots/" .. commit))
    for name, content in pairs(files) do
      local blob = dir .. "/blobs/" .. commit .. "-" .. name
      if type(content) == "function" then content(blob) else helpers.write(blob, content) end
      sh("ln -s ../../blobs/" .. q(commit .. "-" .. name) .. " " .. q(dir .. "/snapshots/" .. commit .. "/" .. name))
    end
  end
  for ref, commit in pairs(refs) do helpers.write(dir .. "/refs/" .. ref, commit) end
  return dir
end

local function lora(t) return peft.LoraConfig(t):to_json() end

describe("the Hugging Face cache", function()
  local hub, repo, env
  before_each(function()
    hub = helpers.tmpdir() .. "/hub"
    repo = cache_repo(hub, "org/adapter", {
      [MAIN] = { ["adapter_config.json"] = lora { r = 8, target_modules = { "q_proj", "v_proj" } } },
      [V2] = { ["adapter_config.json"] = lora { r = 16, target_modules = { "q_proj", "v_proj" } } },
      [PR] = { ["adapter_config.json"] = lora { r = 4 } },
    }, { main = MAIN, v2 = V2, ["pr/1"] = PR })
    env = { HF_HUB_CACHE = hub, HOME = helpers.tmpdir() }
  end)
  after_each(helpers.cleanup)

  it("a cache repository directory follows refs/main, or @REVISION", function()
    local r = run({ "inspect", repo, "--json" }, { env = env })
    assert.are.equal(0, r.code, r.err)
    local d = decode(r.out)
    assert.are.equal(repo .. "/snapshots/" .. MAIN .. "/adapter_config.json", d.path)
    assert.are.equal(8, d.rank.value)
    assert.are.same({ repo = "org/adapter", commit = MAIN, refs = { "main" }, subfolder = peft.null }, d.hub)
    d = decode(run({ "inspect", repo .. "@v2", "--json" }, { env = env }).out)
    assert.are.equal(16, d.rank.value)
    -- the text names where it comes from
    r = run({ "inspect", repo }, { env = env })
    assert.truthy(r.out:find(MAIN .. "/adapter_config.json  (org/adapter@main)", 1, true), r.out)
  end)

  it("a Hub id is looked up in the cache: branch, tag, PR ref, commit or its prefix", function()
    for rev, rank in pairs { [""] = 8, ["@main"] = 8, ["@v2"] = 16, ["@pr/1"] = 4, ["@" .. V2] = 16,
                             ["@" .. PR:sub(1, 7)] = 4 } do
      local r = run({ "inspect", "org/adapter" .. rev, "--json" }, { env = env })
      assert.are.equal(0, r.code, rev .. ": " .. r.err)
      assert.are.equal(rank, decode(r.out).rank.value, rev)
    end
  end)

  it("looks in HF_HUB_CACHE, then HF_HOME/hub, then ~/.cache/huggingface/hub", function()
    local home = helpers.tmpdir()
    sh("mkdir -p " .. q(home .. "/.cache/huggingface") .. " && cp -a " .. q(hub) .. " "
      .. q(home .. "/.cache/huggingface/hub"))
    local hf_home = helpers.tmpdir()
    sh("cp -a " .. q(hub) .. " " .. q(hf_home .. "/hub"))
    local function where(e)
      local r = run({ "ls", "org/adapter", "--json" }, { env = e })
      assert.are.equal(0, r.code, r.err)
      return decode(r.out).adapters[1].path
    end
    assert.truthy(where { HF_HUB_CACHE = hub, HF_HOME = hf_home, HOME = home }:find(hub, 1, true))
    assert.truthy(where { HF_HOME = hf_home, HOME = home }:find(hf_home .. "/hub/", 1, true))
    assert.truthy(where { HOME = home }:find(home .. "/.cache/huggingface/hub/", 1, true))
  end)

  it("says so, and where it looked, when a Hub id is not cached, or its revision is not", function()
    local hf_home = helpers.tmpdir()
    local r = run({ "inspect", "org/missing" },
      { env = { HF_HUB_CACHE = hub, HF_HOME = hf_home, HOME = "/nonexistent" } })
    assert.are.equal(1, r.code)
    assert.are.equal("invalid: FileNotFoundError: org/missing: no such file or directory, and org/missing is not in"
      .. " the Hugging Face cache (looked for models--org--missing in " .. hub .. " (HF_HUB_CACHE), " .. hf_home
      .. "/hub (HF_HOME/hub), /nonexistent/.cache/huggingface/hub (the default)); peft does not download: fetch it"
      .. " first (huggingface-cli download org/missing)\n", r.err)
    r = run({ "inspect", "org/adapter@v3" }, { env = env })
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("org/adapter@v3: revision 'v3' is not in the cache at " .. repo
      .. " (refs: main, pr/1, v2; snapshots: 999988887777, aaaa1111bbbb, ffff66660000)", 1, true), r.err)
    -- a prefix naming two snapshots is ambiguous
    cache_repo(hub, "org/twins", { abcdef01 = { ["adapter_config.json"] = lora {} },
                                   abcdef02 = { ["adapter_config.json"] = lora {} } }, {})
    r = run({ "inspect", "org/twins@abcdef0" }, { env = env })
    assert.truthy(r.err:find("revision 'abcdef0' is the start of 2 snapshots", 1, true), r.err)
    -- no refs/main and several snapshots: name one
    r = run({ "inspect", "org/twins" }, { env = env })
    assert.truthy(r.err:find("has no refs/main (refs: none; snapshots: abcdef01, abcdef02): name one as"
      .. " org/twins@REVISION", 1, true), r.err)
    -- an existing relative path wins over a Hub id of the same spelling
    local cwd = helpers.tmpdir()
    sh("mkdir -p " .. q(cwd .. "/org/adapter"))
    helpers.write(cwd .. "/org/adapter/adapter_config.json", lora { r = 2 })
    r = run({ "inspect", "org/adapter", "--json" }, { env = env, sh_prefix = "cd " .. q(cwd) .. " && " })
    assert.are.equal(2, decode(r.out).rank.value)
  end)

  it("works in validate, ls, diff, plan (--base too), migrate and check", function()
    -- validate: a missing id is one FAIL line, the others are checked
    local r = run({ "validate", "org/adapter", "org/adapter@v2", "org/missing" }, { env = env })
    assert.are.equal(1, r.code)
    assert.truthy(r.out:find("FAIL org/missing: FileNotFoundError: no such file or directory, and org/missing is not"
      .. " in the Hugging Face cache", 1, true), r.out)
    assert.truthy(r.out:find("3 files: 2 valid, 0 with warnings, 1 invalid", 1, true), r.out)
    -- ls over the whole cache: one row per snapshot, shown as org/name@ref
    r = run({ "ls", hub }, { env = env })
    assert.are.equal(0, r.code, r.err)
    local rows = {}
    for l in r.out:gmatch("[^\n]+") do rows[#rows + 1] = l:match("^(%S+)") end
    assert.are.same({ "PATH", "org/adapter@pr/1", "org/adapter@main", "org/adapter@v2" }, rows)
    -- diff
    r = run({ "diff", "org/adapter", "org/adapter@v2" }, { env = env })
    assert.are.equal(1, r.code, r.err)
    assert.truthy(r.out:find("  r  8 -> 16  (default 8)", 1, true), r.out)
    -- plan, with the base model from the cache too
    cache_repo(hub, "org/base", { [MAIN] = {
      ["model.safetensors"] = function(p) helpers.write_safetensors(p, helpers.llama_tensors()) end,
      ["config.json"] = '{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64}' } }, { main = MAIN })
    r = run({ "plan", "org/adapter", "--base", "org/base" }, { env = env })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find("trainable params: 3,584 ", 1, true), r.out)
    r = run({ "plan", "org/adapter", "--base", "org/nobase" }, { env = env })
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("peft plan: --base org/nobase: no such file or directory, and org/nobase is not in the"
      .. " Hugging Face cache", 1, true), r.err)
    r = run({ "plan", "org/missing", "--base", "org/base" }, { env = env })
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("peft plan: org/missing: no such file or directory", 1, true), r.err)
    -- migrate and check read it too
    r = run({ "migrate", "org/adapter" }, { env = env })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find(MAIN .. "/adapter_config.json: already in the current layout", 1, true), r.out)
    r = run({ "check", "org/adapter@v2", "--engine", "vllm", "--json" }, { env = env })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(decode(r.out).adapters[1].path:find(V2, 1, true))
  end)
end)

describe("peft.hub", function()
  local hub = require "peft.hub"
  it("parses Hub ids and leaves paths and file names alone", function()
    assert.are.same({ "org/name", "v1.0" }, { hub.parse_id("org/name@v1.0") })
    assert.are.same({ "Org-1/my_model.v2" }, { hub.parse_id("Org-1/my_model.v2") })
    for _, s in ipairs { "name", "./org/name", "org/name/sub", "org/../x", "org/a--b", "a/adapter_config.json",
                         "org/name@", "/abs/path" } do
      assert.is_nil(hub.parse_id(s), s)
    end
    assert.are.equal("models--org--name", hub.folder("org/name"))
  end)
end)
