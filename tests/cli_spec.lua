-- The `peft COMMAND` line: output and exit codes of every command on good
-- and bad input, in text and --json.
local peft = require "peft"
local helpers = require "helpers"

local run = helpers.run
local decode = peft.core.json_decode

local LORA = [[{
  "peft_type": "LORA",
  "task_type": "CAUSAL_LM",
  "r": 16,
  "lora_alpha": 32,
  "lora_dropout": 0.05,
  "target_modules": ["v_proj", "q_proj"],
  "rank_pattern": {"layers.0.self_attn.q_proj": 4},
  "base_model_name_or_path": "meta-llama/Llama-3.2-1B",
  "merge_weights": false
}]]

local function adapter(dir, text)
  os.execute("mkdir -p " .. helpers.q(dir))
  return helpers.write(dir .. "/adapter_config.json", text)
end

describe("peft COMMAND", function()
  after_each(helpers.cleanup)

  describe("help", function()
    it("lists the commands; help COMMAND and COMMAND --help explain one", function()
      local r = run { "help" }
      assert.are.equal(0, r.code)
      for _, c in ipairs { "types", "show", "inspect", "validate", "new", "schema", "migrate" } do
        assert.truthy(r.out:find("\n  " .. c .. " ", 1, true), c)
      end
      r = run { "help", "validate" }
      assert.are.equal(0, r.code)
      assert.truthy(r.out:find("usage: peft validate PATH...", 1, true))
      assert.are.equal(r.out, run { "validate", "--help" }.out)
    end)

    it("exits 2 on an unknown topic or option", function()
      local r = run { "help", "valdate" }
      assert.are.equal(2, r.code)
      assert.are.equal("peft help: unknown command 'valdate' (did you mean 'validate'?)\n", r.err)
      r = run { "types", "--jsn" }
      assert.are.equal(2, r.code)
      assert.are.equal("peft types: unknown option '--jsn' (did you mean 'json'?) (see 'peft help types')\n", r.err)
    end)
  end)

  describe("types", function()
    it("lists every member with its registration, and the task types", function()
      local r = run { "types" }
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:match("\nLORA +lora +lora_ +yes +LoraConfig +LoraModel\n"))
      assert.truthy(r.out:match("\nADALORA +adalora +lora_%* +yes +AdaLoraConfig +AdaLoraModel\n"))
      assert.truthy(r.out:find("TaskType: SEQ_CLS, SEQ_2_SEQ_LM, CAUSAL_LM, TOKEN_CLS, QUESTION_ANS, FEATURE_EXTRACTION",
        1, true))
      assert.is_nil(r.out:find("\27[", 1, true)) -- no colour off a terminal
    end)

    it("--json", function()
      local r = run { "types", "--json" }
      assert.are.equal(0, r.code)
      local d = decode(r.out)
      assert.are.equal(45, #d.peft_types)
      assert.are.equal("LORA", d.peft_types[5].name)
      assert.are.equal("lora_", d.peft_types[5].prefix)
      assert.is_true(d.peft_types[5].is_mixed_compatible)
      assert.are.equal("lora", d.peft_types[6].shares_prefix_with)
      assert.are.equal(6, #d.task_types)
    end)

    it("shows an unregistered member added by an extension", function()
      local dir = helpers.tmpdir()
      helpers.write(dir .. "/x.lua", 'peft.add_peft_type("LONELY")')
      local r = run({ "types" }, { env = { PEFT_PATH = dir } })
      assert.truthy(r.out:match("\nLONELY +%- +%- +%- +%(not registered%)"), r.out)
    end)
  end)

  describe("show", function()
    it("prints every field grouped by declaring class, by method, PeftType or class name", function()
      local r = run { "show", "adalora" }
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find("AdaLoraConfig  (PeftType ADALORA, method 'adalora', prefix 'lora_'", 1, true))
      local a = r.out:find("from PeftConfig:", 1, true)
      local b = r.out:find("from LoraConfig:", 1, true)
      local c = r.out:find("from AdaLoraConfig:", 1, true)
      assert.truthy(a and b and c and a < b and b < c)
      assert.truthy(r.out:find("  total_step  Optional[int] = null", 1, true))
      assert.truthy(r.out:find("allowed: 'none', 'all', 'lora_only'", 1, true))
      assert.truthy(r.out:find("nested EvaConfig", 1, true))
      assert.are.equal(r.out, run { "show", "ADALORA" }.out)
      assert.are.equal(r.out, run { "show", "AdaLoraConfig" }.out)
    end)

    it("--json gives every field with type, default, choices and help", function()
      local r = run { "show", "lora", "--json" }
      assert.are.equal(0, r.code)
      local d = decode(r.out)
      assert.are.equal("LoraConfig", d.class)
      assert.are.equal("lora_", d.prefix)
      local byname = {}
      for _, f in ipairs(d.fields) do byname[f.name] = f end
      assert.are.equal(8, byname.r.default)
      assert.are.equal("int", byname.r.type)
      assert.are.same({ "none", "all", "lora_only" }, byname.bias.choices)
      assert.is_true(byname.target_modules.set)
      assert.is_false(byname.runtime_config.written)
      assert.truthy(d.nested.LoftQConfig)
    end)

    it("exits 2 on an unknown method, suggesting one", function()
      local r = run { "show", "lorra" }
      assert.are.equal(2, r.code)
      assert.are.equal("peft show: unknown method 'lorra' (did you mean 'lora'?); 'peft types' lists them"
        .. " (see 'peft help show')\n", r.err)
    end)
  end)

  describe("inspect", function()
    it("explains a config: method, task, non-defaults, targets, rank, unknown keys, warnings", function()
      local dir = helpers.tmpdir()
      adapter(dir, LORA)
      local r = run { "inspect", dir }
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find("method       lora (LORA) -> LoraConfig", 1, true))
      assert.truthy(r.out:find("task         CAUSAL_LM", 1, true))
      assert.truthy(r.out:find("targets      2 names, each matching a module whose name is equal to it or ends"
        .. " with '.' plus it: q_proj, v_proj", 1, true))
      assert.truthy(r.out:find("rank         r = 16, lora_alpha = 32; scaling lora_alpha / r = 2", 1, true))
      assert.truthy(r.out:find("layers.0.self_attn.q_proj -> 4", 1, true))
      assert.truthy(r.out:find('lora_dropout = 0.05  (default 0.0)', 1, true))
      assert.truthy(r.out:find("merge_weights = false", 1, true))
      assert.truthy(r.out:find("1 key unknown to LoraConfig: 'merge_weights'", 1, true))
    end)

    it("describes a regex and all-linear", function()
      local dir = helpers.tmpdir()
      adapter(dir .. "/a", '{"peft_type": "LORA", "target_modules": ".*\\\\.(q|v)_proj$"}')
      adapter(dir .. "/b", '{"peft_type": "LORA", "target_modules": "all-linear", "use_rslora": true, "r": 4}')
      local r = run { "inspect", dir .. "/a" }
      assert.truthy(r.out:find("a regular expression that must match the whole module name: .*\\.(q|v)_proj$", 1, true))
      r = run { "inspect", dir .. "/b/adapter_config.json" }
      assert.truthy(r.out:find("'all-linear': every linear layer except the output layer", 1, true))
      assert.truthy(r.out:find("scaling lora_alpha / sqrt(r)  (rsLoRA) = 4", 1, true))
    end)

    it("--json", function()
      local dir = helpers.tmpdir()
      adapter(dir, LORA)
      local d = decode(run({ "inspect", dir, "--json" }).out)
      assert.are.equal("LoraConfig", d.class)
      assert.are.equal(16, d.rank.value)
      assert.are.equal(2.0, d.rank.scaling)
      assert.are.equal(false, d.unknown_keys.merge_weights)
      assert.are.equal(1, #d.warnings)
      assert.are.same({ "q_proj", "v_proj" }, d.target_modules.value)
    end)

    it("exits 1 with the error on stderr for a bad file, --json on stdout", function()
      local dir = helpers.tmpdir()
      local path = adapter(dir, '{"peft_type": "LORA", "r": "16"}')
      local r = run { "inspect", dir }
      assert.are.equal(1, r.code)
      assert.are.equal("invalid: TypeError: " .. path .. ': LoraConfig.r: expected an integer, got "16"'
        .. " (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)\n", r.err)
      r = run { "inspect", dir, "--json" }
      assert.are.equal(1, r.code)
      local d = decode(r.out)
      assert.is_false(d.ok)
      assert.are.equal("r", d.error.field)
    end)

    it("exits 2 without a path", function()
      assert.are.equal(2, run({ "inspect" }).code)
    end)
  end)

  describe("validate", function()
    local dir
    before_each(function()
      dir = helpers.tmpdir()
      adapter(dir .. "/good", '{"peft_type": "IA3"}')
      adapter(dir .. "/warn", '{"peft_type": "IA3", "enable_lora": [true]}')
      adapter(dir .. "/deep/bad", '{"peft_type": "IA3", "fan_in_fan_out": 1}')
      adapter(dir .. "/deep/broken", '{"peft_type": "IA3",')
      helpers.write(dir .. "/deep/notes.json", "{}")
    end)

    it("searches directories, reports failed and warned files, keeps going, exits 1", function()
      local r = run { "validate", dir }
      assert.are.equal(1, r.code)
      local lines = {}
      for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.are.equal(4, #lines, r.out)
      assert.are.equal("FAIL " .. dir .. "/deep/bad/adapter_config.json: ValueError: IA3Config.fan_in_fan_out:"
        .. " expected a boolean, got 1", lines[1])
      assert.truthy(lines[2]:find("^FAIL " .. dir:gsub("%p", "%%%0") .. "/deep/broken/adapter_config.json: JSONDecodeError:"))
      assert.truthy(lines[3]:find("^WARN .*/warn/adapter_config.json: 1 key unknown to IA3Config: 'enable_lora'"))
      assert.are.equal("4 files: 1 valid, 1 with warnings, 2 invalid", lines[4])
    end)

    it("exits 0 when everything is valid, even with warnings; --strict makes warnings fail", function()
      local r = run { "validate", dir .. "/good", dir .. "/warn" }
      assert.are.equal(0, r.code)
      assert.truthy(r.out:find("2 files: 1 valid, 1 with warnings, 0 invalid", 1, true))
      r = run { "validate", "--strict", dir .. "/good", dir .. "/warn" }
      assert.are.equal(1, r.code)
      assert.truthy(r.out:find("FAIL .*/warn/adapter_config.json: ValueError: 1 key unknown to IA3Config:"))
      assert.truthy(r.out:find("2 files: 1 valid, 0 with warnings, 1 invalid", 1, true))
    end)

    it("accepts a file path and reports a missing one", function()
      local r = run { "validate", dir .. "/good/adapter_config.json", dir .. "/nope" }
      assert.are.equal(1, r.code)
      assert.truthy(r.out:find("FAIL " .. dir .. "/nope: FileNotFoundError: no such file or directory", 1, true), r.out)
    end)

    it("walks depth first in sorted order, counts links to files, does not follow links to directories",
      function()
      local root = helpers.tmpdir()
      adapter(root .. "/b", '{"peft_type": "IA3"}')
      adapter(root .. "/a/z", '{"peft_type": "IA3"}')
      adapter(root .. "/a", '{"peft_type": "IA3"}')
      adapter(root .. "/a/c", '{"peft_type": "IA3"}')
      -- a Hub cache snapshot: the config is a link to a blob
      helpers.write(root .. "/blob", '{"peft_type": "LORA"}')
      os.execute("mkdir -p " .. helpers.q(root .. "/snap") .. " && ln -s ../blob " .. helpers.q(root .. "/snap/adapter_config.json"))
      -- a link back up the tree would loop if followed
      os.execute("ln -s .. " .. helpers.q(root .. "/a/up"))
      -- a file of another name and a dangling link are passed over
      helpers.write(root .. "/a/c/adapter_config.json.bak", "{")
      os.execute("ln -s nowhere " .. helpers.q(root .. "/b/adapter_config.jsonx"))
      local r = run { "validate", root .. "//", "--json" }
      assert.are.equal(0, r.code, r.out)
      local got = {}
      for i, f in ipairs(decode(r.out).files) do got[i] = f.path:sub(#root + 2) end
      assert.are.same({ "a/adapter_config.json", "a/c/adapter_config.json", "a/z/adapter_config.json",
        "b/adapter_config.json", "snap/adapter_config.json" }, got)
    end)

    it("walk_files: paths in order, and an error for a directory it cannot open", function()
      local core = peft.core
      local root = helpers.tmpdir()
      adapter(root .. "/x/y", '{}')
      adapter(root .. "/w", '{}')
      local got = {}
      for p, reg in core.walk_files(root .. "/", "adapter_config.json") do got[#got + 1] = { p, reg } end
      assert.are.same({ { root .. "/w/adapter_config.json", true }, { root .. "/x/y/adapter_config.json", true } }, got)
      local it, msg = core.walk_files(root .. "/nope", "adapter_config.json")
      assert.is_nil(it)
      assert.are.equal("cannot open directory " .. root .. "/nope: No such file or directory", msg)
      it, msg = core.walk_files(root .. "/w/adapter_config.json", "adapter_config.json")
      assert.is_nil(it)
      assert.truthy(msg:find("Not a directory", 1, true))
    end)

    it("listdir and walk_files: names in byte order, however alike their first eight bytes", function()
      local core = peft.core
      local root = helpers.tmpdir()
      local names = { "abcdefgh", "abcdefgh0", "abcdefgh1", "abcdefgha", "abcdefg", "abcdefgi", "b", "a",
                      "abcdefgh\xc3\xa9", "\xc3\xa9t\xc3\xa9", "ABCDEFGHIJ", "abcdefghij2", "abcdefghij10", "z" }
      for i = 1, 300 do names[#names + 1] = string.format("n%07d-%d", (i * 7919) % 1000, i) end
      for _, n in ipairs(names) do helpers.write(root .. "/" .. n, "") end
      local want = {}
      for i, n in ipairs(names) do want[i] = n end
      table.sort(want, function(x, y) -- byte order, as strcmp
        for i = 1, math.min(#x, #y) do
          local a, b = x:byte(i), y:byte(i)
          if a ~= b then return a < b end
        end
        return #x < #y
      end)
      assert.are.same(want, (core.listdir(root)))
    end)

    it("walk_files: beside(name) says what the directory of the file just given holds", function()
      local core = peft.core
      local root = helpers.tmpdir()
      adapter(root .. "/a", '{}')
      adapter(root .. "/b", '{"peft_type": "LORA"}')
      adapter(root .. "/c", '{}')
      helpers.write(root .. "/a/adapter_model.safetensors", "x")
      assert.is_true(os.execute("ln -s nowhere " .. root .. "/b/adapter_model.bin"))
      assert.is_true(os.execute("ln -s ../a/adapter_model.safetensors " .. root .. "/c/adapter_model.safetensors"))
      local files, beside = core.walk_files(root, "adapter_config.json")
      local seen = {}
      for p in files do
        seen[#seen + 1] = { p:sub(#root + 2), beside("adapter_model.safetensors"), beside("adapter_model.bin"),
                            beside("adapter_config.json"), beside("adapter_model.safetensors\0x") }
      end
      assert.are.same({
        { "a/adapter_config.json", true, false, true, false },
        { "b/adapter_config.json", false, false, true, false }, -- a link that leads nowhere is not there
        { "c/adapter_config.json", true, false, true, false },  -- a link to a file is
      }, seen)
      assert.is_false(beside("adapter_config.json")) -- the walk is over
      -- validate uses it for the weights beside each config, as a stat would find them
      local r = run { "validate", root .. "/b" }
      assert.are.equal(0, r.code)
    end)

    it("counts a nested config's unknown keys as a warning of the file, which --strict fails", function()
      local d = helpers.tmpdir()
      adapter(d .. "/eva", '{"peft_type": "LORA", "init_lora_weights": "eva", "eva_config": {"bogus": 1}}')
      local r = run { "validate", d, "--json" }
      assert.are.equal(0, r.code)
      assert.are.equal("", r.err)
      local f = decode(r.out).files[1]
      assert.are.equal("warning", f.status)
      assert.are.same({ "LoraConfig: eva_config: keys unknown to EvaConfig kept as they are: bogus" }, f.warnings)
      assert.are.equal(1, run({ "validate", "--strict", d }).code)
    end)

    it("--json lists every file", function()
      local r = run { "validate", dir, "--json" }
      assert.are.equal(1, r.code)
      local d = decode(r.out)
      -- the summary counts by the statuses the entries carry
      assert.are.same({ files = 4, ok = 1, warning = 1, error = 2 }, d.summary)
      assert.are.equal(4, #d.files)
      local status, by = {}, {}
      for _, f in ipairs(d.files) do
        local name = f.path:match("([^/]+)/adapter_config.json$")
        status[name], by[name] = f.status, f
      end
      assert.are.same({ good = "ok", warn = "warning", bad = "error", broken = "error" }, status)
      -- every entry names its class and method when it loads, and its error without the path
      assert.are.same({ "IA3Config", "IA3", "ia3" }, { by.good.class, by.good.peft_type, by.good.method })
      assert.are.equal(peft.core.null, by.good.error)
      assert.are.equal(peft.core.null, by.broken.class)
      assert.are.equal("JSONDecodeError", by.broken.error.kind)
      assert.is_nil(by.broken.error.message:find(dir, 1, true), by.broken.error.message)
      assert.truthy(by.broken.error.message:find("^invalid JSON at line"), by.broken.error.message)
      assert.are.equal("ValueError", by.bad.error.kind)
      assert.truthy(by.bad.error.message:find("^IA3Config%.fan_in_fan_out:"), by.bad.error.message)
    end)

    it("exits 1 when nothing is found and 2 without a path", function()
      local empty = helpers.tmpdir()
      local r = run { "validate", empty }
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("no adapter_config.json found", 1, true))
      assert.are.equal(2, run({ "validate" }).code)
    end)
  end)

  describe("new", function()
    it("prints a config built from defaults and FIELD=VALUE (JSON when it parses)", function()
      local r = run { "new", "lora", "r=16", 'target_modules=["q_proj","v_proj"]', "task_type=CAUSAL_LM",
                      "lora_dropout=0.1" }
      assert.are.equal(0, r.code, r.err)
      local cfg = peft.from_json(r.out)
      assert.are.equal(16, cfg.r)
      assert.are.equal("CAUSAL_LM", cfg.task_type)
      assert.are.same({ "q_proj", "v_proj" }, cfg.target_modules)
      assert.are.equal(0.1, cfg.lora_dropout)
      assert.are.equal(peft.LoraConfig { r = 16, target_modules = { "q_proj", "v_proj" }, task_type = "CAUSAL_LM",
                                         lora_dropout = 0.1 }:to_json() .. "\n", r.out)
    end)

    it("saves with -o and reports warnings on stderr", function()
      local dir = helpers.tmpdir() .. "/out"
      local r = run { "new", "lora", "init_lora_weights=eva", "-o", dir }
      assert.are.equal(0, r.code, r.err)
      assert.are.equal("wrote " .. dir .. "/adapter_config.json\n", r.out)
      assert.truthy(r.err:find("warning: LoraConfig: ", 1, true))
      assert.are.equal("eva", peft.PeftConfig.from_pretrained(dir, { quiet = true }).init_lora_weights)
    end)

    it("exits 1 on an invalid value and 2 on bad usage", function()
      local r = run { "new", "lora", "r=sixteen" }
      assert.are.equal(1, r.code)
      assert.are.equal('peft new: ValueError: LoraConfig.r: expected an integer, got "sixteen"\n', r.err)
      r = run { "new", "lora", "rr=1" }
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("LoraConfig got an unknown field 'rr' (did you mean 'r'?)", 1, true))
      assert.are.equal(2, run({ "new", "lora", "r" }).code)
      assert.are.equal(2, run({ "new" }).code)
    end)

    it("--json", function()
      local d = decode(run({ "new", "ia3", "--json" }).out)
      assert.are.equal("IA3", d.config.peft_type)
      assert.are.equal(0, #d.warnings)
    end)
  end)

  describe("migrate", function()
    local BONE = '{"peft_type": "BONE", "r": 64, "target_modules": ["q_proj"], "peft_version": "0.17.1"}'

    it("shows the BONE -> MISS diff without writing: a unified diff with hunk headers", function()
      local dir = helpers.tmpdir()
      local path = adapter(dir, BONE)
      local r = run { "migrate", dir }
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find(path .. ": BONE -> MISS (dry run; --write applies it, -o DIR writes a copy)", 1, true))
      assert.truthy(r.out:find("\n--- " .. path .. "\n+++ " .. path .. " (migrated)\n@@ -1 +1,21 @@\n-{", 1, true), r.out)
      assert.truthy(r.out:find('\n+  "peft_type": "MISS",', 1, true), r.out)
      assert.truthy(r.out:find('\n+  "miss_dropout": 0.0,', 1, true), r.out)
      assert.are.equal(BONE, helpers.read(path))
    end)

    it("writes with --write, and the result loads as MISS", function()
      local dir = helpers.tmpdir()
      adapter(dir, BONE)
      local r = run { "migrate", dir, "--write" }
      assert.are.equal(0, r.code, r.err)
      local cfg = peft.PeftConfig.from_pretrained(dir)
      assert.are.equal("MissConfig", cfg:get_class().name)
      assert.are.equal(64, cfg.r)
      assert.are.equal("0.17.1", cfg.peft_version)
      r = run { "migrate", dir }
      assert.truthy(r.out:find("nothing to migrate", 1, true))
    end)

    local function bone_weights(dir)
      local t = {}
      for i = 0, 1 do
        t[#t + 1] = { "base_model.model.model.layers." .. i .. ".self_attn.q_proj.bone_block", { 64, 64 } }
      end
      t[#t + 1] = { "base_model.model.lm_head.weight", { 100, 64 } }
      local path = helpers.write_safetensors(dir .. "/adapter_model.safetensors", t, { format = "pt" })
      -- distinct bytes in the data region, so that a copy that moved or lost any shows
      local f = assert(io.open(path, "r+b"))
      local n = string.unpack("<I8", f:read(8))
      f:seek("set", 8 + n)
      local bytes = {}
      for i = 1, (64 * 64 * 2 + 100 * 64) * 4 do bytes[i] = string.char((i * 7 + i // 251) % 256) end
      f:write(table.concat(bytes))
      f:close()
      return path
    end

    local function data_of(path)
      local s = helpers.read(path)
      local n = string.unpack("<I8", s)
      return s:sub(9 + n)
    end

    it("converts the weights too: .bone_ keys become .miss_, tensor bytes unchanged", function()
      local dir = helpers.tmpdir()
      adapter(dir, BONE)
      local wpath = bone_weights(dir)
      local before = data_of(wpath)
      local r = run { "migrate", dir }
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find(wpath .. ": 2 of 3 keys renamed (.bone_ -> .miss_), tensor data unchanged", 1, true),
        r.out)
      r = run { "migrate", dir, "--write" }
      assert.are.equal(0, r.code, r.err)
      local h = assert(peft.safetensors.read_header(wpath))
      local names = {}
      for _, t in ipairs(h.tensors) do names[#names + 1] = t.name end
      table.sort(names)
      assert.are.same({ "base_model.model.lm_head.weight",
                        "base_model.model.model.layers.0.self_attn.q_proj.miss_block",
                        "base_model.model.model.layers.1.self_attn.q_proj.miss_block" }, names)
      assert.are.equal("pt", h.metadata.format)
      assert.are.equal(before, data_of(wpath))
      assert.are.equal("MissConfig", peft.PeftConfig.from_pretrained(dir):get_class().name)
      -- config and weights now agree: validate reads both
      r = run { "validate", dir }
      assert.are.equal(0, r.code, r.out .. r.err)
    end)

    it("-o DIR writes a migrated copy and leaves the adapter as it was", function()
      local dir, dest = helpers.tmpdir(), helpers.tmpdir() .. "/migrated"
      local path = adapter(dir, BONE)
      local wpath = bone_weights(dir)
      local old_weights = helpers.read(wpath)
      local r = run { "migrate", dir, "-o", dest }
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find("(written to " .. dest .. ")", 1, true), r.out)
      assert.are.equal(BONE, helpers.read(path))
      assert.are.equal(old_weights, helpers.read(wpath))
      assert.are.equal("MissConfig", peft.PeftConfig.from_pretrained(dest):get_class().name)
      assert.truthy(peft.safetensors.read_header(dest .. "/adapter_model.safetensors"))
      assert.are.equal(2, run({ "migrate", dir, "-o", dir }).code)
      assert.are.equal(2, run({ "migrate", dir, "-o", dest, "--write" }).code)
    end)

    it("keeps CRLF line endings, and says when the files it replaces are links (a Hub cache snapshot)", function()
      local dir = helpers.tmpdir()
      local blobs = dir .. "/blobs"
      os.execute("mkdir -p " .. helpers.q(blobs) .. " " .. helpers.q(dir .. "/snap"))
      helpers.write(blobs .. "/cfg", BONE:gsub(", ", ",\r\n  "))
      bone_weights(blobs)
      os.execute("ln -s ../blobs/cfg " .. helpers.q(dir .. "/snap/adapter_config.json"))
      os.execute("ln -s ../blobs/adapter_model.safetensors " .. helpers.q(dir .. "/snap/adapter_model.safetensors"))
      local r = run { "migrate", dir .. "/snap", "--write" }
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find("adapter_model.safetensors is a symbolic link (a Hub cache snapshot?)", 1, true), r.out)
      assert.truthy(r.out:find("adapter_config.json is a symbolic link", 1, true), r.out)
      local text = helpers.read(dir .. "/snap/adapter_config.json")
      assert.truthy(text:find('"peft_type": "MISS",\r\n', 1, true))
      assert.is_nil(text:find("[^\r]\n"))
      -- the blobs the links pointed to are untouched
      assert.truthy(helpers.read(blobs .. "/cfg"):find('"BONE"', 1, true))
    end)

    it("refuses to write when the weights are a pickle file it cannot convert", function()
      local dir = helpers.tmpdir()
      local path = adapter(dir, BONE)
      helpers.write(dir .. "/adapter_model.bin", "PK")
      local r = run { "migrate", dir, "--write" }
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("adapter_model.bin is a pickle file", 1, true), r.err)
      assert.are.equal(BONE, helpers.read(path))
    end)

    it("--json, and exit 1 on a bad file", function()
      local dir = helpers.tmpdir()
      adapter(dir, BONE)
      local d = decode(run({ "migrate", dir, "--json" }).out)
      assert.is_true(d.changed)
      assert.are.equal("BONE -> MISS", d.migration)
      assert.is_false(d.written)
      adapter(dir, "{")
      assert.are.equal(1, run({ "migrate", dir }).code)
    end)
  end)

  describe("colour", function()
    it("is never used when NO_COLOR is set (checked through the helper)", function()
      local r = run({ "-e", [[
        local cli = require "peft.cli"
        print(cli.main { "types", "--json" })
      ]] }, { env = { NO_COLOR = "1" } })
      assert.are.equal(0, r.code)
      assert.is_nil(r.out:find("\27[", 1, true))
    end)
  end)
end)

describe("adapters with weights", function()
  local base, ad
  before_each(function()
    local dir = helpers.tmpdir()
    base, ad = dir .. "/base", dir .. "/ad"
    os.execute("mkdir -p " .. helpers.q(base) .. " " .. helpers.q(ad))
    helpers.write_safetensors(base .. "/model.safetensors", helpers.llama_tensors())
    peft.LoraConfig { r = 8, target_modules = { "q_proj", "v_proj" }, task_type = "CAUSAL_LM", use_dora = true,
                      modules_to_save = { "lm_head" } }:save_pretrained(ad)
  end)
  after_each(helpers.cleanup)

  local function weights(opts)
    opts = opts or {}
    local t = {}
    for i = 0, 1 do
      local p = "base_model.model.model.layers." .. i .. ".self_attn."
      local rq = (opts.rank_q1 and i == 1) and opts.rank_q1 or 8
      t[#t + 1] = { p .. "q_proj.lora_A.weight", { rq, 64 } }
      t[#t + 1] = { p .. "q_proj.lora_B.weight", { 64, rq } }
      if not opts.no_magnitude then t[#t + 1] = { p .. "q_proj.lora_magnitude_vector", { 64 } } end
      t[#t + 1] = { p .. "v_proj.lora_A.weight", { 8, 64 } }
      t[#t + 1] = { p .. "v_proj.lora_B.weight", { opts.v_out or 32, 8 } }
      t[#t + 1] = { p .. "v_proj.lora_magnitude_vector", { opts.v_out or 32 } }
    end
    if opts.extra then t[#t + 1] = { "base_model.model.model.layers.0.mlp.up_proj.lora_A.weight", { 8, 64 } } end
    if not opts.no_head then t[#t + 1] = { "base_model.model.lm_head.weight", { 100, 64 } } end
    helpers.write_safetensors(ad .. "/adapter_model.safetensors", t)
  end

  it("plan lists what get_peft_model creates, module by module, then PEFT's line", function()
    local r = run { "plan", ad, "--base", base }
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find("PeftModelForCausalLM: lora adapter 'default' on " .. base, 1, true))
    assert.truthy(r.out:find("model.layers.0.self_attn.v_proj  (linear 64 -> 32, r=8, alpha=8)", 1, true))
    assert.truthy(r.out:match("lora_B%.default%.weight +%[32, 8%] +256"))
    assert.truthy(r.out:match("lm_head%.modules_to_save%.default%.weight +%[100, 64%] +6,400"))
    -- (512+512+64 + 512+256+32) * 2 + 6400 = 10176; all 86848 + 10176 = 97024
    assert.truthy(r.out:find("\ntrainable params: 10,176 || all params: 97,024 || trainable%: 10.4881\n", 1, true))
    local d = decode(run({ "plan", ad, "--base", base, "--json" }).out)
    assert.are.equal(10176, d.trainable_params)
    assert.are.equal(4, #d.modules)
    assert.are.equal(3, #d.modules[1].params)
    assert.are.equal(1, #d.modules_to_save)
  end)

  it("plan takes PEFT's default targets for the model type from config.json, and lists what save_pretrained writes",
    function()
    helpers.write(base .. "/config.json", '{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64}')
    peft.LoraConfig { r = 4, task_type = "CAUSAL_LM" }:save_pretrained(ad)
    local r = run { "plan", ad, "--base", base }
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find('target_modules unset: PEFT\'s default for model type llama is ["q_proj", "v_proj"]', 1,
      true), r.out)
    assert.truthy(r.out:find("save_pretrained writes 8 tensors", 1, true), r.out)
    local d = decode(run({ "plan", ad, "--base", base, "--json" }).out)
    assert.are.equal("llama", d.model_type)
    assert.are.equal(8, #d.saved)
    assert.are.equal("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", d.saved[1].key)
    -- inference_mode: everything frozen, and plan says why
    peft.LoraConfig { r = 4, task_type = "CAUSAL_LM", inference_mode = true }:save_pretrained(ad)
    r = run { "plan", ad, "--base", base }
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find("note: inference_mode is true in the config: PEFT freezes every tensor", 1, true), r.out)
    -- a model type PEFT has no defaults for
    helpers.write(base .. "/config.json", '{"model_type": "my_arch"}')
    peft.LoraConfig { r = 4 }:save_pretrained(ad)
    r = run { "plan", ad, "--base", base }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find('Please specify target_modules in the config: PEFT has no default targets for lora on '
      .. 'model type "my_arch"', 1, true), r.err)
  end)

  it("plan works on a sharded base", function()
    local sharded = helpers.tmpdir() .. "/sharded"
    os.execute("mkdir -p " .. helpers.q(sharded))
    local all = helpers.llama_tensors()
    local a, b, map = {}, {}, {}
    for i, t in ipairs(all) do
      local shard = i % 2 == 0 and "model-00001-of-00002.safetensors" or "model-00002-of-00002.safetensors"
      table.insert(i % 2 == 0 and a or b, t)
      map[t[1]] = shard
    end
    helpers.write_safetensors(sharded .. "/model-00001-of-00002.safetensors", a)
    helpers.write_safetensors(sharded .. "/model-00002-of-00002.safetensors", b)
    helpers.write(sharded .. "/model.safetensors.index.json", peft.core.json_encode { metadata = {}, weight_map = map })
    local d = decode(run({ "plan", ad, "--base", sharded, "--json" }).out)
    assert.are.equal(10176, d.trainable_params)
    assert.are.equal(97024, d.all_params)
  end)

  it("plan reports errors: no base, bad base, no match", function()
    assert.are.equal(2, run({ "plan", ad }).code)
    local r = run { "plan", ad, "--base", ad }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("no model.safetensors", 1, true))
    peft.LoraConfig { target_modules = { "qq_proj" } }:save_pretrained(ad)
    r = run { "plan", ad, "--base", base }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("Target modules [\"qq_proj\"] not found in the base model", 1, true), r.err)
  end)

  it("validate reads the weights beside each config (--no-weights skips them), and notes a .bin it does not read",
    function()
    weights { rank_q1 = 4 }
    local r = run { "validate", ad }
    assert.are.equal(1, r.code)
    assert.truthy(r.out:find("FAIL " .. ad .. "/adapter_config.json: weights: model.layers.1.self_attn.q_proj has "
      .. "rank 4, the config says 8", 1, true), r.out)
    assert.truthy(r.out:find("1 file: 0 valid, 0 with warnings, 1 invalid", 1, true))
    local d = decode(run({ "validate", ad, "--json" }).out)
    assert.are.equal("error", d.files[1].status)
    assert.is_false(d.files[1].weights.ok)
    assert.are.equal(1, #d.files[1].weights.problems)
    r = run { "validate", ad, "--no-weights" }
    assert.are.equal(0, r.code, r.out)
    weights()
    assert.are.equal(0, run({ "validate", ad }).code)
    os.remove(ad .. "/adapter_model.safetensors")
    helpers.write(ad .. "/adapter_model.bin", "PK")
    r = run { "validate", ad }
    assert.are.equal(0, r.code)
    assert.truthy(r.out:find("NOTE " .. ad .. "/adapter_config.json: adapter_model.bin is a pickle file and is not "
      .. "read", 1, true), r.out)
    -- a header that is not safetensors fails the file
    helpers.write(ad .. "/adapter_model.safetensors", "abc")
    r = run { "validate", ad }
    assert.are.equal(1, r.code)
    assert.truthy(r.out:find("weights: " .. ad .. "/adapter_model.safetensors: the file has 3 bytes", 1, true), r.out)
  end)

  it("inspect reports tensors, ranks and whether the weights match the config", function()
    weights()
    local r = run { "inspect", ad, "--base", base }
    assert.are.equal(0, r.code, r.out .. r.err)
    assert.truthy(r.out:find("13 tensors, 10,176 parameters, dtypes F32 x13", 1, true))
    assert.truthy(r.out:find("lora: 12 keys in 4 modules", 1, true))
    assert.truthy(r.out:find("ranks found: r=8 x4", 1, true))
    assert.truthy(r.out:find("the weights match the config", 1, true))
  end)

  it("inspect finds a rank, a DoRA magnitude, a target and a saved module that do not match", function()
    weights { rank_q1 = 4, no_magnitude = true, extra = true, no_head = true }
    local r = run { "inspect", ad }
    assert.are.equal(1, r.code)
    assert.truthy(r.out:find("mismatch: model.layers.1.self_attn.q_proj has rank 4, the config says 8", 1, true), r.out)
    assert.truthy(r.out:find("mismatch: model.layers.0.self_attn.q_proj has no DoRA magnitude vector", 1, true))
    assert.truthy(r.out:find("mismatch: model.layers.0.mlp.up_proj has adapter weights but target_modules does not"
      .. " select it", 1, true))
    assert.truthy(r.out:find('mismatch: modules_to_save names "lm_head" but no weights of it are saved', 1, true))
    local d = decode(run({ "inspect", ad, "--json" }).out)
    assert.is_false(d.weights.ok)
    assert.are.equal(6, #d.weights.problems) -- up_proj also lacks a magnitude
  end)

  it("inspect --base compares with the base model's shapes", function()
    weights { v_out = 48 }
    local r = run { "inspect", ad, "--base", base }
    assert.are.equal(1, r.code)
    assert.truthy(r.out:find("mismatch: base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight has shape"
      .. " [48, 8], the base model gives [32, 8]", 1, true), r.out)
  end)
end)

describe("an extension method", function()
  after_each(helpers.cleanup)

  it("shows up in types, show, new, schema, the REPL and require 'peft'", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/my_method.lua", helpers.read("README.md"):match("```lua\n(%-%- ~/.peft/my_method.lua.-)```"))
    local env = { PEFT_PATH = dir }
    local r = run({ "types" }, { env = env })
    assert.truthy(r.out:match("\nMY_METHOD +my_method +my_method_ +no +MyMethodConfig +MyMethodModel\n"), r.out .. r.err)
    r = run({ "show", "my_method" }, { env = env })
    assert.truthy(r.out:find("init  Literal['zeros', 'gaussian'] = \"zeros\"", 1, true), r.out)
    r = run({ "new", "my_method", "r=4" }, { env = env })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find('"peft_type": "MY_METHOD"', 1, true))
    r = run({ "new", "my_method", "r=100", "init=gaussian" }, { env = env })
    assert.are.equal(1, r.code)
    assert.are.equal("peft new: ValueError: MyMethodConfig.r: must be at most 64 with init 'gaussian', got 100\n", r.err)
    r = run({ "schema", "my_method" }, { env = env })
    assert.are.same({ "zeros", "gaussian" }, decode(r.out).properties.init.enum)
    r = run({ "-i" }, { env = env, stdin = "MyMethodConfig{ r = 2 }\n" })
    assert.truthy(r.out:find("MyMethodConfig(r=2)", 1, true), r.out)
    -- its model side: plan builds it on a base model, with LoRA's default targets for llama
    local base, ad = dir .. "/base", dir .. "/ad"
    os.execute("mkdir -p " .. helpers.q(base))
    helpers.write_safetensors(base .. "/model.safetensors", helpers.llama_tensors())
    helpers.write(base .. "/config.json", '{"model_type": "llama"}')
    r = run({ "new", "my_method", "r=4", "-o", ad }, { env = env })
    assert.are.equal(0, r.code, r.err)
    local d = decode(run({ "plan", ad, "--base", base, "--json" }, { env = env }).out)
    -- q (64 -> 64) and v (64 -> 32): (4*64 + 64*4) + (4*64 + 32*4) = 896 per layer
    assert.are.equal(1792, d.trainable_params)
    assert.are.equal("base_model.model.model.layers.0.self_attn.q_proj.my_method_A.weight", d.saved[1].key)
    assert.are.same({ 4, 64 }, d.saved[1].shape)
    peft.LoraConfig{}:save_pretrained(ad) -- a method it does not adapt: refused in PEFT's words
    helpers.write(ad .. "/adapter_config.json", '{"peft_type": "MY_METHOD", "target_modules": ["norm"]}')
    r = run({ "plan", ad, "--base", base }, { env = env })
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find("TypeError: Target module model.norm (a normalisation layer) is not supported by MyMethod",
      1, true), r.err)
    r = run({ "-e", "print(require('peft').PEFT_TYPE_TO_PREFIX_MAPPING.MY_METHOD)" },
      { cmd = "lua5.4", env = { PEFT_PATH = dir, LUA_PATH = "lua/?.lua;lua/?/init.lua;;",
                                LUA_CPATH = helpers.CORE_DIR .. "/?.so;;" } })
    assert.are.equal("my_method_\n", r.out)
  end)
end)

describe("peft schema", function()
  after_each(helpers.cleanup)

  it("is a draft 2020-12 schema with types, defaults, enums and descriptions", function()
    local r = run { "schema", "lora" }
    assert.are.equal(0, r.code, r.err)
    local s = decode(r.out)
    assert.are.equal("https://json-schema.org/draft/2020-12/schema", s["$schema"])
    assert.are.same({ "peft_type" }, s.required)
    assert.are.same({ const = "LORA", default = "LORA", description = s.properties.peft_type.description },
      s.properties.peft_type)
    assert.are.equal("integer", s.properties.r.type)
    assert.are.equal(8, s.properties.r.default)
    assert.are.same({ "none", "all", "lora_only" }, s.properties.bias.enum)
    assert.truthy(s.properties.r.description)
    assert.truthy(s["$defs"].EvaConfig)
    assert.is_nil(s.properties.runtime_config)
  end)

  it("validates PEFT's default config of every method and rejects a wrongly typed field"
     .. " (checked by Debian's python3-jsonschema)", function()
    local dir = helpers.tmpdir()
    local fixture = decode(helpers.read("tests/fixtures/peft_defaults.json")).configs
    local cases = {}
    for name, fx in pairs(fixture) do
      local cls = peft[name]
      helpers.write(dir .. "/" .. name .. ".schema.json",
        peft.core.json_encode(require("peft.schema").schema(cls)))
      helpers.write(dir .. "/" .. name .. ".good.json", fx.json)
      -- a wrongly typed field: peft_version (a string) as a number
      local bad = decode(fx.json)
      bad.peft_version = 3
      helpers.write(dir .. "/" .. name .. ".bad.json", peft.core.json_encode(bad))
      cases[#cases + 1] = name
    end
    table.sort(cases)
    local script = helpers.write(dir .. "/check.py", [[
import json, sys
from jsonschema import Draft202012Validator
d = sys.argv[1]
for name in sys.argv[2:]:
    schema = json.load(open(f"{d}/{name}.schema.json"))
    Draft202012Validator.check_schema(schema)
    v = Draft202012Validator(schema)
    good = list(v.iter_errors(json.load(open(f"{d}/{name}.good.json"))))
    bad = list(v.iter_errors(json.load(open(f"{d}/{name}.bad.json"))))
    print(name, "good" if not good else "GOOD-REJECTED:" + good[0].message,
          "bad-rejected" if bad else "BAD-ACCEPTED")
]])
    local args = { script, dir }
    for _, c in ipairs(cases) do args[#args + 1] = c end
    local r = run(args, { cmd = "/usr/bin/python3" })
    assert.are.equal(0, r.code, r.err)
    local n = 0
    for line in r.out:gmatch("[^\n]+") do
      n = n + 1
      assert.truthy(line:match("^%w+ good bad%-rejected$"), line)
    end
    assert.are.equal(#cases, n)
  end)

  it("rejects a field of another type, an unknown enum value, and a bad nested value", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/schema.json", run({ "schema", "lora" }).out)
    local cases = {
      ok = '{"peft_type": "LORA", "r": 16, "init_lora_weights": "pissa_niter_4", "eva_config": {"rho": 2.0}}',
      r_string = '{"peft_type": "LORA", "r": "16"}',
      bias = '{"peft_type": "LORA", "bias": "some"}',
      peft_type = '{"peft_type": "IA3"}',
      nested = '{"peft_type": "LORA", "eva_config": {"rho": "high"}}',
      init = '{"peft_type": "LORA", "init_lora_weights": "pissa_niter_x"}',
    }
    for k, v in pairs(cases) do helpers.write(dir .. "/" .. k .. ".json", v) end
    local script = helpers.write(dir .. "/check.py", [[
import json, sys
from jsonschema import Draft202012Validator
d = sys.argv[1]
v = Draft202012Validator(json.load(open(f"{d}/schema.json")))
for name in sorted(["ok", "r_string", "bias", "peft_type", "nested", "init"]):
    print(name, "valid" if v.is_valid(json.load(open(f"{d}/{name}.json"))) else "invalid")
]])
    local r = run({ script, dir }, { cmd = "/usr/bin/python3" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("bias invalid\ninit invalid\nnested invalid\nok valid\npeft_type invalid\nr_string invalid\n",
      r.out)
  end)
end)

-- What a new user stumbled on (issue 16): several adapters at once, diff, ls, plans
-- that adapt nothing, new's overwrites and look-alike values, files that are not PEFT's.
describe("several adapters", function()
  after_each(helpers.cleanup)

  it("inspect takes several PATHs: each in turn, one JSON entry each, exit 1 when one fails", function()
    local dir = helpers.tmpdir()
    adapter(dir .. "/a", LORA)
    adapter(dir .. "/b", '{"peft_type": "IA3", "task_type": "SEQ_CLS"}')
    local bad = adapter(dir .. "/c", '{"peft_type": "IA3", "fan_in_fan_out": 1}')
    local r = run { "inspect", dir .. "/a", dir .. "/b" }
    assert.are.equal(0, r.code, r.err)
    local a_at = r.out:find(dir .. "/a/adapter_config.json\n", 1, true)
    local b_at = r.out:find("\n\n" .. dir .. "/b/adapter_config.json\n", 1, true)
    assert.truthy(a_at and b_at and a_at < b_at, r.out)
    assert.truthy(r.out:find("method       ia3 (IA3) -> IA3Config", 1, true))
    r = run { "inspect", dir .. "/a", dir .. "/c", dir .. "/b", "--json" }
    assert.are.equal(1, r.code)
    local d = decode(r.out)
    assert.are.same({ "LoraConfig", peft.null, "IA3Config" }, { d.adapters[1].class, d.adapters[2].class or peft.null,
                                                             d.adapters[3].class })
    assert.is_false(d.adapters[2].ok)
    assert.are.equal(dir .. "/c", d.adapters[2].path)
    -- the error's message does not repeat the path the entry names
    assert.are.equal("IA3Config.fan_in_fan_out: expected a boolean, got 1", d.adapters[2].error.message)
    assert.is_nil(d.adapters[2].error.message:find(bad, 1, true))
  end)

  describe("diff", function()
    it("exits 0 when two adapters hold the same values", function()
      local dir = helpers.tmpdir()
      adapter(dir .. "/a", LORA)
      adapter(dir .. "/b", LORA)
      local r = run { "diff", dir .. "/a", dir .. "/b" }
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find("  the configs hold the same values\n  weights: neither has weights beside it\n", 1,
        true), r.out)
      assert.is_true(decode(run({ "diff", dir .. "/a", dir .. "/b", "--json" }).out).same)
    end)

    it("lists the fields that differ with the default, and the unknown keys", function()
      local dir = helpers.tmpdir()
      adapter(dir .. "/a", LORA)
      adapter(dir .. "/b", (LORA:gsub('"r": 16', '"r": 8'):gsub('"merge_weights": false', '"fan_in": 3')))
      local r = run { "diff", dir .. "/a", dir .. "/b" }
      assert.are.equal(1, r.code, r.err)
      assert.truthy(r.out:find("a: " .. dir .. "/a/adapter_config.json  (LoraConfig)\nb: " .. dir
        .. "/b/adapter_config.json  (LoraConfig)\n", 1, true), r.out)
      assert.truthy(r.out:find("\n  r              16 -> 8  (default 8)\n", 1, true), r.out)
      assert.truthy(r.out:find("\n  fan_in         null -> 3  (unknown key, kept)\n", 1, true), r.out)
      assert.truthy(r.out:find("\n  merge_weights  false -> null  (unknown key, kept)\n", 1, true), r.out)
      local d = decode(run({ "diff", dir .. "/a", dir .. "/b", "--json" }).out)
      assert.is_false(d.same)
      assert.are.same({ name = "r", a = 16, b = 8, default = 8, in_a = true, in_b = true, unknown_key = false },
        d.fields[1])
      assert.are.equal(3, #d.fields)
    end)

    it("compares two methods: peft_type first, a field only one has when it is not at its default", function()
      local dir = helpers.tmpdir()
      adapter(dir .. "/a", '{"peft_type": "LORA", "use_dora": true}')
      adapter(dir .. "/b", '{"peft_type": "LOHA", "rank_dropout": 0.5}')
      local r = run { "diff", dir .. "/a", dir .. "/b" }
      assert.are.equal(1, r.code)
      assert.truthy(r.out:find('\n  peft_type     "LORA" -> "LOHA"  (the method)\n', 1, true), r.out)
      assert.truthy(r.out:find("\n  use_dora      true -> (no such field)  (default false)\n", 1, true), r.out)
      assert.truthy(r.out:find("\n  rank_dropout  (no such field) -> 0.5  (default 0.0)\n", 1, true), r.out)
      assert.truthy(r.out:find("\n  and 25 fields only LoraConfig has, at their defaults\n", 1, true), r.out)
      local d = decode(run({ "diff", dir .. "/a", dir .. "/b", "--json" }).out)
      assert.are.equal("peft_type", d.fields[1].name)
      for _, f in ipairs(d.fields) do
        if f.name == "use_dora" then assert.are.same({ true, false }, { f.in_a, f.in_b }) end
      end
    end)

    it("summarises how the weights differ: keys, shapes, dtypes, values", function()
      local dir = helpers.tmpdir()
      local a, b = dir .. "/a", dir .. "/b"
      adapter(a, LORA)
      adapter(b, LORA)
      local p = "base_model.model.model.layers.0.self_attn."
      helpers.write_safetensors(a .. "/adapter_model.safetensors", {
        { p .. "q_proj.lora_A.weight", { 16, 64 } }, { p .. "q_proj.lora_B.weight", { 64, 16 } },
        { p .. "v_proj.lora_A.weight", { 16, 64 } }, { p .. "v_proj.lora_B.weight", { 32, 16 } },
        { p .. "k_proj.lora_A.weight", { 16, 64 } } })
      helpers.write_safetensors(b .. "/adapter_model.safetensors", {
        { p .. "q_proj.lora_A.weight", { 16, 64 } }, { p .. "q_proj.lora_B.weight", { 64, 16 }, "F16" },
        { p .. "v_proj.lora_A.weight", { 8, 64 } }, { p .. "v_proj.lora_B.weight", { 32, 16 } },
        { p .. "o_proj.lora_A.weight", { 16, 64 } } })
      -- one byte of b's v_proj.lora_B differs (its data starts after q_A, q_B (F16) and v_A)
      local f = assert(io.open(b .. "/adapter_model.safetensors", "r+b"))
      local n = string.unpack("<I8", f:read(8))
      f:seek("set", 8 + n + 16 * 64 * 4 + 64 * 16 * 2 + 8 * 64 * 4 + 5)
      f:write("\1")
      f:close()
      local r = run { "diff", a, b }
      assert.are.equal(1, r.code, r.err)
      assert.truthy(r.out:find("  weights: a 5 tensors (4,608 parameters), b 5 tensors (4,096 parameters)\n", 1, true),
        r.out)
      assert.truthy(r.out:find("    1 only in a: " .. p .. "k_proj.lora_A.weight\n", 1, true), r.out)
      assert.truthy(r.out:find("    1 only in b: " .. p .. "o_proj.lora_A.weight\n", 1, true), r.out)
      assert.truthy(r.out:find("    shape of " .. p .. "v_proj.lora_A.weight: [16, 64] -> [8, 64]\n", 1, true), r.out)
      assert.truthy(r.out:find("    dtype of " .. p .. "q_proj.lora_B.weight: F32 -> F16\n", 1, true), r.out)
      assert.truthy(r.out:find("    1 tensors hold the same values, 1 other values: " .. p .. "v_proj.lora_B.weight\n",
        1, true), r.out)
      local d = decode(run({ "diff", a, b, "--json" }).out)
      assert.are.equal(1, d.weights.same_values)
      assert.are.same({ p .. "v_proj.lora_B.weight" }, d.weights.different_values)
      assert.is_false(d.same)
    end)

    it("exits 1 when one cannot be loaded, 2 without two adapters", function()
      local dir = helpers.tmpdir()
      adapter(dir .. "/a", LORA)
      local r = run { "diff", dir .. "/a", dir .. "/nope" }
      assert.are.equal(1, r.code)
      assert.are.equal("peft diff: FileNotFoundError: " .. dir .. "/nope: no such file or directory\n", r.err)
      assert.are.equal(2, run({ "diff", dir .. "/a" }).code)
    end)
  end)

  describe("ls", function()
    it("prints one row per adapter found, invalid ones with why, and exits 1 for them", function()
      local dir = helpers.tmpdir()
      adapter(dir .. "/a", LORA)
      peft.LoHaConfig { r = 4, alpha = 8, target_modules = "all-linear", task_type = "SEQ_CLS" }
        :save_pretrained(dir .. "/b")
      helpers.write_safetensors(dir .. "/b/adapter_model.safetensors", {})
      adapter(dir .. "/c", '{"peft_type": "LORA", "r": "x"}')
      local r = run { "ls", dir }
      assert.are.equal(1, r.code)
      local lines = {}
      for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.are.equal(4, #lines, r.out)
      assert.truthy(lines[1]:match("^PATH +METHOD +TASK +R +ALPHA +TARGETS +BASE MODEL +PEFT +WEIGHTS$"), lines[1])
      assert.truthy(lines[2]:match("/a +lora +CAUSAL_LM +16 +32 +q_proj,v_proj +meta%-llama/Llama%-3%.2%-1B +%- +%-$"),
        lines[2])
      assert.truthy(lines[3]:match("/b +loha +SEQ_CLS +4 +8 +all%-linear +%- +0%.20%.1%.dev0@%x+ +safetensors$"),
        lines[3])
      assert.truthy(lines[4]:find(dir .. "/c/adapter_config.json  invalid: ValueError: LoraConfig.r: expected an"
        .. " integer, got \"x\"", 1, true), lines[4])
      local d = decode(run({ "ls", dir, "--json" }).out)
      assert.are.equal(3, #d.adapters)
      assert.are.same({ "LORA", 16, 32, "safetensors" }, { d.adapters[1].peft_type, d.adapters[1].r,
        d.adapters[1].alpha, d.adapters[2].weights })
      assert.are.same({ "q_proj", "v_proj" }, d.adapters[1].target_modules)
      assert.is_false(d.adapters[3].ok)
      assert.are.equal("ValueError", d.adapters[3].error.kind)
    end)

    it("exits 1 when nothing is found, 2 without a PATH", function()
      local r = run { "ls", helpers.tmpdir() }
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("peft ls: no adapter_config.json found under", 1, true))
      assert.are.equal(2, run({ "ls" }).code)
    end)
  end)
end)

describe("plans that adapt nothing", function()
  local base, dir
  before_each(function()
    dir = helpers.tmpdir()
    base = dir .. "/base"
    os.execute("mkdir -p " .. helpers.q(base))
    helpers.write_safetensors(base .. "/model.safetensors", helpers.llama_tensors())
    helpers.write(base .. "/config.json", '{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64}')
  end)
  after_each(helpers.cleanup)

  local function plan(fields, opts)
    local ad = helpers.tmpdir() .. "/ad"
    local args = { "new", "lora", "-o", ad }
    for _, f in ipairs(fields) do args[#args + 1] = f end
    assert.are.equal(0, run(args, opts).code)
    return run({ "plan", ad, "--base", base }, opts), ad
  end

  it("lists, for each target that matches nothing, the module names closest to it", function()
    local r, ad = plan { 'target_modules=["q_prj","self_attn.vproj"]' }
    assert.are.equal(1, r.code)
    assert.are.equal("peft plan: ValueError: Target modules [\"q_prj\", \"self_attn.vproj\"] not found in the base"
      .. " model (NoMatchingPeftModuleError).\n"
      .. "  \"q_prj\" matches no module; closest module names: q_proj, k_proj, o_proj\n"
      .. "  \"self_attn.vproj\" matches no module; closest module names: self_attn.v_proj, self_attn.k_proj,"
      .. " self_attn.o_proj\n", r.err)
    local d = decode(run({ "plan", ad, "--base", base, "--json" }).out)
    assert.is_false(d.ok)
    assert.are.equal("ValueError", d.error.kind)
    assert.are.equal(2, #d.hints)
  end)

  it("explains a comma-joined string and a bare name given as target_modules (one regular expression)", function()
    local r = plan { "target_modules=q_proj,v_proj" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find('\n  target_modules is one string, "q_proj,v_proj", which PEFT reads as one regular'
      .. ' expression that must match a whole module name, commas included; the list of names is ["q_proj",'
      .. ' "v_proj"]\n', 1, true), r.err)
    r = plan { "target_modules=q_proj" }
    assert.are.equal(1, r.code)
    assert.truthy(r.err:find('\n  target_modules is the string "q_proj", a regular expression that must match a'
      .. ' whole module name (such as model.layers.0.self_attn.q_proj); the list ["q_proj"] matches every module'
      .. " whose name ends with .q_proj\n", 1, true), r.err)
  end)

  it("notes a listed target that matches nothing when others do", function()
    local r, ad = plan { 'target_modules=["q_proj","vproj"]' }
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find('\n  note: "vproj" matches no module; closest module names: v_proj, k_proj, o_proj\n', 1,
      true), r.out)
    local d = decode(run({ "plan", ad, "--base", base, "--json" }).out)
    assert.are.same({ { target = "vproj", closest = { "v_proj", "k_proj", "o_proj" }, note = peft.null } },
      d.unmatched_targets)
  end)

  it("says that inference_mode is why every tensor is frozen", function()
    local r = plan { "inference_mode=true" }
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find("  note: inference_mode is true in the config: PEFT freezes every tensor of the adapter"
      .. " (it is loaded for inference, not for training), so nothing is trainable\ntrainable params: 0 ||", 1, true),
      r.out)
  end)

  it("exits 1 and says why when nothing is trained", function()
    -- a method whose layers add only buffers
    local ext = helpers.tmpdir()
    helpers.write(ext .. "/frozen.lua", [==[
peft.add_peft_type("FROZEN")
local cfg = peft.declare_config { name = "FrozenConfig", peft_type = peft.PeftType.FROZEN, fields = {
  { "target_modules", "Optional[Union[list[str], str]]", nil, "Modules to adapt.", set = true } } }
local t = peft.tuner
local model = peft.declare_model { name = "FrozenModel", prefix = "frozen_", layer_names = { "frozen_s" },
  targets = "lora",
  layer = function(c, module, ctx) return { t.buffer("frozen_s", ctx.adapter, { 4 }, true) } end }
peft.register_peft_method { name = "frozen", config_cls = cfg, model_cls = model }
]==])
    local env = { PEFT_PATH = ext }
    local ad = dir .. "/frozen"
    assert.are.equal(0, run({ "new", "frozen", "-o", ad }, { env = env }).code)
    local r = run({ "plan", ad, "--base", base }, { env = env })
    assert.are.equal(1, r.code, r.out .. r.err)
    assert.truthy(r.out:find("trainable params: 0 ||", 1, true), r.out)
    assert.are.equal("peft plan: nothing is trained: every tensor the adapter adds is frozen or a buffer\n", r.err)
    local d = decode(run({ "plan", ad, "--base", base, "--json" }, { env = env }).out)
    assert.is_false(d.ok)
    assert.are.equal("nothing is trained: every tensor the adapter adds is frozen or a buffer", d.note)
  end)
end)

describe("peft new", function()
  after_each(helpers.cleanup)

  it("refuses to replace an adapter_config.json without --force", function()
    local dir = helpers.tmpdir()
    local path = adapter(dir, LORA)
    local r = run { "new", "ia3", "-o", dir }
    assert.are.equal(1, r.code)
    assert.are.equal("peft new: " .. path .. " exists; --force replaces it\n", r.err)
    assert.are.equal(LORA, helpers.read(path))
    r = run { "new", "ia3", "-o", dir, "--force" }
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("IA3", peft.from_pretrained(dir).peft_type)
    assert.are.equal(2, run({ "new", "ia3", "--force" }).code)
  end)

  it("warns that a comma-joined target_modules is one regular expression, and shows the list form", function()
    local r = run { "new", "lora", "target_modules=q_proj,v_proj" }
    assert.are.equal(0, r.code)
    assert.are.equal("peft new: warning: target_modules=q_proj,v_proj is one string, which PEFT reads as one regular"
      .. " expression that must match a whole module name, commas included (it matches no module); for a list of"
      .. " names write 'target_modules=[\"q_proj\",\"v_proj\"]'\n", r.err)
    r = run { "new", "lora", "target_modules=[q_proj, v_proj]" }
    assert.truthy(r.err:find("target_modules=[q_proj, v_proj] is not valid JSON, so it is kept as the string"
      .. " \"[q_proj, v_proj]\", which PEFT reads as one regular expression (a character class); for a list of"
      .. " module names write 'target_modules=[\"q_proj\",\"v_proj\"]'", 1, true), r.err)
    -- a real regular expression and a list say nothing
    for _, v in ipairs { "target_modules=.*(q|v)_proj", 'target_modules=["q_proj","v_proj"]' } do
      r = run { "new", "lora", v }
      assert.are.equal("", r.err, v)
    end
  end)

  it("warns about a value PEFT accepts in the config but refuses when it builds the model", function()
    local r = run { "new", "lora", "r=0" }
    assert.are.equal(0, r.code)
    assert.are.equal("peft new: warning: PEFT accepts this config, but its get_peft_model refuses it (tried on a"
      .. " Llama-shaped model): ValueError: `r` should be a positive integer value but the value passed is 0\n", r.err)
    local d = decode(run({ "new", "lora", "r=0", "--json" }).out)
    assert.truthy(d.warnings[1]:find("`r` should be a positive integer", 1, true))
    -- prompt learning without a task type: PEFT picks no model class
    r = run { "new", "prompt_tuning", "num_virtual_tokens=8" }
    assert.truthy(r.err:find("PromptTuningConfig needs a task_type", 1, true), r.err)
    -- no num_virtual_tokens: PEFT's prompt embedding cannot be sized (a TypeError, not a Lua error)
    r = run { "new", "prompt_tuning", "task_type=CAUSAL_LM" }
    assert.truthy(r.err:find("(tried on a Llama-shaped model): TypeError: Prompt tuning: num_virtual_tokens is null in"
      .. " the config, and the layer shapes need an integer", 1, true), r.err)
    -- what depends on the model is not reported: targets the trial model lacks
    for _, args in ipairs { { "lora" }, { "lora", 'target_modules=["c_attn"]' }, { "lora", "layers_to_transform=30" },
                            { "vblora" }, { "road" }, { "shira" }, { "c3a" }, { "waveft" },
                            { "prompt_tuning", "task_type=CAUSAL_LM", "num_virtual_tokens=8" } } do
      r = run { "new", table.unpack(args) }
      assert.are.equal("", r.err, table.concat(args, " "))
    end
  end)
end)

describe("files that are not PEFT's", function()
  after_each(helpers.cleanup)

  it("are named: AdapterHub and mlx-lm configs, a transformers config; a missing peft_type points to 'peft types'",
    function()
    local dir = helpers.tmpdir()
    adapter(dir .. "/adapterhub", [[{"config": {"mh_adapter": false, "output_adapter": true, "reduction_factor": 16,
      "non_linearity": "relu", "architecture": null}, "hidden_size": 768, "model_class": "BertAdapterModel",
      "model_name": "bert-base-uncased", "model_type": "bert", "name": "sst-2", "version": "0.2.1"}]])
    adapter(dir .. "/mlx", [[{"fine_tune_type": "lora", "lora_parameters": {"rank": 8, "scale": 20.0},
      "model": "mlx-community/Llama-3.2-1B-Instruct-4bit", "num_layers": 16}]])
    adapter(dir .. "/model", '{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}')
    adapter(dir .. "/none", '{"r": 8}')
    local r = run { "validate", dir }
    assert.are.equal(1, r.code)
    local lines = {}
    for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal("FAIL " .. dir .. "/adapterhub/adapter_config.json: ValueError: this is an AdapterHub adapter"
      .. " config (written by the adapters library, formerly adapter-transformers: 'config', 'model_class',"
      .. " 'model_name'), not a PEFT one: it has no peft_type, and PEFT cannot load it", lines[1])
    assert.are.equal("FAIL " .. dir .. "/mlx/adapter_config.json: ValueError: this is an mlx-lm adapter config"
      .. " (written by mlx_lm.lora for Apple's MLX: 'lora_parameters', 'fine_tune_type'), not a PEFT one: it has no"
      .. " peft_type, and PEFT cannot load it", lines[2])
    assert.truthy(lines[3]:find("this is a transformers model config (model_type 'llama')", 1, true), lines[3])
    assert.are.equal("FAIL " .. dir .. "/none/adapter_config.json: ValueError: missing 'peft_type': an adapter config"
      .. " must name its method, a PeftType member such as LORA or IA3 ('peft types' or peft.PeftType lists the "
      .. #peft.methods() .. " registered ones)", lines[4])
  end)
end)

describe("peft migrate's diff", function()
  after_each(helpers.cleanup)

  it("of a CRLF file shows only what changes, removed lines before added ones, in hunks", function()
    local dir = helpers.tmpdir()
    local text = peft.BoneConfig.new({ r = 8, target_modules = { "q_proj" } }, { quiet = true }):to_json()
      :gsub("\n", "\r\n")
    local path = adapter(dir, text)
    local r = run { "migrate", dir }
    assert.are.equal(0, r.code, r.err)
    local diff = r.out:match("\n(%-%-%- .*)$")
    assert.is_nil(diff:find("\r", 1, true))
    local lines = {}
    for l in diff:gmatch("[^\n]+") do lines[#lines + 1] = l end
    -- peft_type changes, and MiSS's fields come in: every changed line is in a hunk
    -- with context around it, and the file's other lines are not shown
    assert.are.equal("--- " .. path, lines[1])
    assert.are.equal("+++ " .. path .. " (migrated)", lines[2])
    local removed_before_added, hunks, shown = true, 0, 0
    local seen_plus = false
    for i = 3, #lines do
      local c = lines[i]:sub(1, 1)
      if c == "@" then
        hunks = hunks + 1
        seen_plus = false
        assert.truthy(lines[i]:match("^@@ %-%d+,?%d* %+%d+,?%d* @@$"), lines[i])
      elseif c == "+" then seen_plus = true
      elseif c == "-" and seen_plus then removed_before_added = false
      elseif c == " " then seen_plus = false -- a change block ends at a context line
      end
      if c == " " or c == "-" then shown = shown + 1 end
    end
    assert.is_true(removed_before_added)
    assert.truthy(hunks >= 1)
    local n = select(2, text:gsub("\n", ""))
    assert.truthy(shown < n, "the diff shows the whole file")
    assert.truthy(diff:find('\n-  "peft_type": "BONE",\n', 1, true), diff)
    assert.truthy(diff:find('\n+  "peft_type": "MISS",\n', 1, true), diff)
    r = run { "migrate", dir, "--write" }
    assert.are.equal(0, r.code, r.err)
    local written = helpers.read(path)
    assert.truthy(written:find('"peft_type": "MISS",\r\n', 1, true))
    assert.is_nil(written:find("[^\r]\n"))
  end)
end)
