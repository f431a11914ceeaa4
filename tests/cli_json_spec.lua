-- Every command's --json output against the JSON Schema `peft schema --cli COMMAND`
-- prints (checked with python3-jsonschema, draft 2020-12), in success and failure.
local peft = require "peft"
local helpers = require "helpers"

local run, q = helpers.run, helpers.q

local VALIDATE = [[
import json, sys
from jsonschema import Draft202012Validator
d = sys.argv[1]
cases = json.load(open(f"{d}/cases.json"))
schemas = {}
for case in cases:
    cmd = case["command"]
    if cmd not in schemas:
        schema = json.load(open(f"{d}/schema-{cmd}.json"))
        Draft202012Validator.check_schema(schema)
        schemas[cmd] = Draft202012Validator(schema)
    data = json.load(open(f"{d}/{case['file']}"))
    errors = list(schemas[cmd].iter_errors(data))
    for e in errors[:3]:
        print(f"{case['name']}: {e.message[:200]} at {list(e.absolute_path)}")
    if not errors:
        print(f"{case['name']}: valid")
]]

describe("--json output", function()
  after_each(helpers.cleanup)

  it("has a schema for every command that takes --json, and only for those", function()
    local cli = require "peft.cli"
    local schemas = require "peft.cli.output_schema"
    local with_json = {}
    for _, name in ipairs(cli.commands()) do
      if require("peft.cli." .. name).options.json then with_json[#with_json + 1] = name end
    end
    table.sort(with_json)
    assert.are.same(with_json, schemas.commands())
    local r = run { "schema", "--cli", "vaildate" }
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find("no --json output for 'vaildate' (did you mean 'validate'?)", 1, true), r.err)
  end)

  it("of every command follows its schema", function()
    local dir = helpers.tmpdir()
    local function sh(c) assert(os.execute(c), c) end
    -- adapters, weights, a base model, a BONE adapter, a Hub cache
    local base = dir .. "/base"
    sh("mkdir -p " .. q(base))
    helpers.write_safetensors(base .. "/model.safetensors", helpers.llama_tensors())
    helpers.write(base .. "/config.json", '{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64}')
    local lora = dir .. "/ads/lora"
    peft.LoraConfig { r = 8, target_modules = { "q_proj", "v_proj" }, task_type = "CAUSAL_LM" }:save_pretrained(lora)
    local t = {}
    for i = 0, 1 do
      local p = "base_model.model.model.layers." .. i .. ".self_attn."
      t[#t + 1] = { p .. "q_proj.lora_A.weight", { 8, 64 } }
      t[#t + 1] = { p .. "q_proj.lora_B.weight", { 64, 8 } }
      t[#t + 1] = { p .. "v_proj.lora_A.weight", { 8, 64 } }
      t[#t + 1] = { p .. "v_proj.lora_B.weight", { 32, 8 } }
    end
    helpers.write_safetensors(lora .. "/adapter_model.safetensors", t)
    local lora2 = dir .. "/ads/lora2"
    peft.LoraConfig { r = 4, target_modules = { "q_proj" }, use_dora = true }:save_pretrained(lora2)
    t[1].shape = { 4, 64 }
    helpers.write_safetensors(lora2 .. "/adapter_model.safetensors", t)
    local ia3 = dir .. "/ads/ia3"
    peft.IA3Config { task_type = "SEQ_CLS" }:save_pretrained(ia3)
    helpers.write(ia3 .. "/adapter_model.bin", "PK")
    local bad = dir .. "/ads/bad"
    sh("mkdir -p " .. q(bad))
    helpers.write(bad .. "/adapter_config.json", '{"peft_type": "LORA", "r": "x", "fan_in": 1}')
    local warn = dir .. "/ads/warn"
    sh("mkdir -p " .. q(warn))
    helpers.write(warn .. "/adapter_config.json", '{"peft_type": "IA3", "enable_lora": [true]}')
    local bone = dir .. "/bone"
    sh("mkdir -p " .. q(bone))
    helpers.write(bone .. "/adapter_config.json", '{"peft_type": "BONE", "r": 8, "target_modules": ["q_proj"]}')
    local hub = dir .. "/hub/models--org--ad"
    sh("mkdir -p " .. q(hub .. "/refs") .. " " .. q(hub .. "/snapshots"))
    sh("cp -r " .. q(lora) .. " " .. q(hub .. "/snapshots/0123abcd"))
    helpers.write(hub .. "/refs/main", "0123abcd")
    local env = { HF_HUB_CACHE = dir .. "/hub", HOME = dir }

    local cases = {
      { "types", { "types" } },
      { "show", { "show", "lora" } }, { "show", { "show", "adalora" } }, { "show", { "show", "prefix_tuning" } },
      { "inspect", { "inspect", lora } }, { "inspect", { "inspect", "org/ad" } },
      { "inspect", { "inspect", lora, bad, ia3, warn, "org/none", "--base", base } }, { "inspect", { "inspect", bad } },
      { "diff", { "diff", lora, lora2 } }, { "diff", { "diff", lora, ia3 } }, { "diff", { "diff", lora, lora } },
      { "ls", { "ls", dir .. "/ads", "org/ad", "org/none", dir .. "/nope" } },
      { "plan", { "plan", lora, "--base", base } }, { "plan", { "plan", ia3, "--base", base } },
      { "plan", { "plan", bad, "--base", base } }, { "plan", { "plan", lora, "--base", dir .. "/nope" } },
      { "validate", { "validate", dir .. "/ads", dir .. "/nope", "org/ad", "org/none" } },
      { "validate", { "validate", dir .. "/ads", "--strict", "--no-weights" } },
      { "new", { "new", "lora", "r=0", "target_modules=q,v" } }, { "new", { "new", "ia3", "-o", dir .. "/new" } },
      { "schema", { "schema", "lora" } }, { "schema", { "schema", "--cli", "plan" } },
      { "migrate", { "migrate", bone } }, { "migrate", { "migrate", lora } },
      { "migrate", { "migrate", bone, "-o", dir .. "/migrated" } },
      { "migrate", { "migrate", lora2, "--to-peft", "0.10.0" } },
      { "migrate", { "migrate", lora2, "--to-peft", "0.5.0" } },
      { "check", { "check", dir .. "/ads", dir .. "/nope" } }, { "check", { "check", lora, "--engine", "vllm" } },
      { "check", { "check", lora2, "--peft", "0.5.0", "--engine", "tgi" } },
      { "targets", { "targets" } },
    }
    local list, seen = {}, {}
    for i, c in ipairs(cases) do
      local cmd, args = c[1], c[2]
      if not seen[cmd] then
        seen[cmd] = true
        local r = run { "schema", "--cli", cmd }
        assert.are.equal(0, r.code, r.err)
        helpers.write(dir .. "/schema-" .. cmd .. ".json", r.out)
      end
      if cmd ~= "schema" then args[#args + 1] = "--json" end
      local r = run(args, { env = env })
      assert.truthy(r.code == 0 or r.code == 1, table.concat(args, " ") .. ": " .. r.err)
      assert.truthy(r.out:sub(1, 1) == "{", table.concat(args, " ") .. ": no JSON: " .. r.out .. r.err)
      local file = "out-" .. i .. ".json"
      helpers.write(dir .. "/" .. file, r.out)
      list[#list + 1] = { command = cmd, file = file, name = i .. " " .. table.concat(args, " "):gsub(dir, "D") }
    end
    helpers.write(dir .. "/cases.json", peft.core.json_encode(list))
    local script = helpers.write(dir .. "/check.py", VALIDATE)
    local r = run({ script, dir }, { cmd = "/usr/bin/python3" })
    assert.are.equal(0, r.code, r.err)
    local bad_lines = {}
    for l in r.out:gmatch("[^\n]+") do
      if not l:find(": valid$") then bad_lines[#bad_lines + 1] = l end
    end
    assert.are.same({}, bad_lines)
    assert.are.equal(#cases, select(2, r.out:gsub(": valid\n", "")))
  end)

  it("a schema catches output that strays from it", function()
    -- the check above could not fail if the schemas accepted anything
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/schema-validate.json", run({ "schema", "--cli", "validate" }).out)
    helpers.write(dir .. "/a.json", '{"files": [], "summary": {"files": 0, "valid": 0, "warnings": 0, "invalid": 0},'
      .. ' "strict": false}')
    helpers.write(dir .. "/b.json", '{"files": [{"path": "x", "status": "valid", "warnings": [], "class": null,'
      .. ' "peft_type": null, "method": null, "hub": null, "error": null, "weights": null}],'
      .. ' "summary": {"files": 1, "ok": 1, "warning": 0, "error": 0}, "strict": false}')
    helpers.write(dir .. "/cases.json", '[{"command": "validate", "file": "a.json", "name": "old keys"},'
      .. ' {"command": "validate", "file": "b.json", "name": "bad status"}]')
    local script = helpers.write(dir .. "/check.py", VALIDATE)
    local r = run({ script, dir }, { cmd = "/usr/bin/python3" })
    assert.are.equal(0, r.code, r.err)
    assert.is_nil(r.out:find(": valid\n", 1, true), r.out)
    assert.truthy(r.out:find("old keys: Additional properties are not allowed", 1, true), r.out)
    assert.truthy(r.out:find("bad status: 'valid' is not one of ['ok', 'warning', 'error']", 1, true), r.out)
  end)
end)
