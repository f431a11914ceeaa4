-- peft check: where an adapter works. Against every PEFT release, facts recorded by running each
-- release's own loading code (tests/fixtures/check/, scripts/oracle/record-releases.py); against the
-- serving engines, one crafted adapter (config and a tiny safetensors file) per rule of
-- ../shared/reference/serving-engines.md; migrate --to-peft, the target registry, the command line.
local peft = require "peft"
local helpers = require "helpers"
local check = require "peft.check"
local registry = require "peft.target_registry"

local core = peft.core
local decode, encode = core.json_decode, core.json_encode
local run = helpers.run
local arr = function(t) return setmetatable(t, core.json_array_mt) end

local function fixture(name)
  return assert(decode(assert(helpers.read("tests/fixtures/check/" .. name))))
end

-- an adapter directory: the config (a table or text), and optionally weights ({ name, shape } list),
-- adapter_model.bin, added_tokens.json
local function adapter(dir, cfg, opts)
  opts = opts or {}
  os.execute("mkdir -p " .. helpers.q(dir))
  helpers.write(dir .. "/adapter_config.json", type(cfg) == "string" and cfg or encode(cfg, 2))
  if opts.tensors then helpers.write_safetensors(dir .. "/adapter_model.safetensors", opts.tensors) end
  if opts.bin then helpers.write(dir .. "/adapter_model.bin", "not read") end
  if opts.added_tokens then helpers.write(dir .. "/added_tokens.json", encode(opts.added_tokens)) end
  return dir
end

-- lora_A/lora_B tensors, as PEFT saves them, for modules of a Llama-style model
local function lora_tensors(r, modules, extra)
  local t = {}
  for _, m in ipairs(modules or { "q_proj", "v_proj" }) do
    local p = "base_model.model.model.layers.0.self_attn." .. m
    t[#t + 1] = { p .. ".lora_A.weight", { r, 64 } }
    t[#t + 1] = { p .. ".lora_B.weight", { 64, r } }
  end
  for _, x in ipairs(extra or {}) do t[#t + 1] = x end
  return t
end

local function lora(fields)
  local c = { peft_type = "LORA", task_type = "CAUSAL_LM", r = 8, lora_alpha = 16, lora_dropout = 0.05,
              target_modules = arr { "q_proj", "v_proj" } }
  for k, v in pairs(fields or {}) do c[k] = v end
  return c
end

-- the verdict of one target, and its reasons as rule -> message
local function verdict_of(dir, target)
  local r = peft.check(dir, { target })
  local t = r.adapters[1].targets[1]
  local by_rule = {}
  for _, x in ipairs(t.reasons) do by_rule[x.rule] = x end
  return t.verdict, by_rule, t
end

describe("peft check", function()
  after_each(helpers.cleanup)

  describe("against every PEFT release (facts recorded by running each release's own code)", function()
    -- every file of a fixture, against every release: the verdict, the settings lost, the refusal's text
    local function agree(name)
      local fx = fixture(name)
      local total, agreed, texts, same_text = 0, 0, 0, 0
      local bad = {}
      for _, f in ipairs(fx.files) do
        local A = check.adapter_from_text(f.text, f.name)
        for i, v in ipairs(fx.releases) do
          local want = f.results[i]
          local wv = type(want) == "string" and want or want[1]
          local r = check.evaluate_release(A, registry.get("peft " .. v))
          local ok = r.verdict == wv
          if ok and wv == "changed" then
            local got = {}
            for _, x in ipairs(r.reasons) do got[#got + 1] = x.setting end
            table.sort(got)
            ok = table.concat(got, ",") == table.concat(want[2], ",")
          end
          if ok and wv == "refused" and not want[2]:find("^Unsupported") and not want[2]:find("^JSONDecodeError") then
            texts = texts + 1
            if r.reasons[1].message == want[2] then same_text = same_text + 1
            else bad[#bad + 1] = f.name .. " " .. v .. ": text " .. r.reasons[1].message .. " | " .. want[2] end
          end
          total = total + 1
          if ok then agreed = agreed + 1 elseif #bad < 10 then
            bad[#bad + 1] = string.format("%s %s: want %s, got %s", f.name, v, encode(want), r.verdict)
          end
        end
      end
      return total, agreed, texts, same_text, bad
    end

    -- recorded after the rules were written, from the half of the corpus they were not made from (the
    -- odd-numbered files): the issue asks for 98% of its pairs; it agrees on all 4,550
    it("agrees with at least 98% of the held-out pairs (releases-heldout.json)", function()
      local total, agreed, texts, same_text, bad = agree("releases-heldout.json")
      assert.are.equal(130 * 35, total)
      assert.is_true(agreed / total >= 0.98, table.concat(bad, "\n"))
      assert.is_true(same_text / texts >= 0.98)
    end)

    -- releases-methods.json: every method's default config as PEFT HEAD writes it (no peft_version), BONE, an
    -- unknown peft_type and one with a case slip, against every release (1645/1645 on the first run)
    for _, name in ipairs { "releases-corpus.json", "releases-crafted.json", "releases-edge.json",
                            "releases-probe.json", "releases-methods.json" } do
      it("agrees with every recorded pair of " .. name .. ", refusal texts included", function()
        local total, agreed, texts, same_text, bad = agree(name)
        assert.is_true(total > 1000)
        assert.are.same({}, bad)
        assert.are.equal(total, agreed)
        assert.are.equal(texts, same_text)
      end)
    end

    it("tells why and how to fix each verdict", function()
      local dir = adapter(helpers.tmpdir() .. "/a", lora { use_dora = true, use_rslora = true, r = 16, lora_alpha = 8,
        peft_version = "0.18.0" })
      local v, rules, t = verdict_of(dir, "peft 0.6.2")
      assert.are.equal("refused", v)
      -- the first key the release does not know, in the file's order (sorted here)
      assert.are.equal("TypeError: LoraConfig.__init__() got an unexpected keyword argument 'peft_version'",
        rules["unexpected-keyword"].message)
      assert.are.equal("use PEFT 0.14.0 or later: use_dora, use_rslora are settings PEFT 0.6.2 does not have",
        rules["unexpected-keyword"].fix)
      assert.are.same({ "peft_version", "use_dora", "use_rslora" }, t.reasons[1].keys)
      v, rules, t = verdict_of(dir, "0.5.0")
      assert.is_nil(rules["unexpected-keyword"])
      assert.are.equal("changed", v)
      assert.are.equal("use_rslora = true dropped: PEFT 0.5.0 has no such setting (it appeared in 0.8.0); scale "
        .. "lora_alpha/r = 0.5 instead of lora_alpha/sqrt(r) = 2.0", t.reasons[1].message)
      assert.are.equal("use_dora = true dropped: PEFT 0.5.0 has no such setting (it appeared in 0.9.0); DoRA is off: "
        .. "the adapter runs as plain LoRA and its magnitude vectors are unused", t.reasons[2].message)
      assert.are.equal("use PEFT 0.14.0 or later (use_dora appeared in 0.9.0)", t.reasons[2].fix)
      v = verdict_of(dir, "0.14.0")
      assert.are.equal("ok", v)
      -- at their defaults, the keys a release does not know are a migration away
      dir = adapter(helpers.tmpdir() .. "/b", lora { use_dora = false, peft_version = "0.18.0" })
      v, rules = verdict_of(dir, "0.8.0")
      assert.are.equal("refused", v)
      assert.are.equal("peft migrate PATH --to-peft 0.8.0 (drops 2 keys, which hold their defaults)",
        rules["unexpected-keyword"].fix)
      -- a default that changed
      dir = adapter(helpers.tmpdir() .. "/c", { peft_type = "LORA", r = 4, target_modules = arr { "q" } })
      v, rules, t = verdict_of(dir, "0.3.0")
      assert.truthy(rules["default-changed"])
      assert.are.equal("changed", v)
      assert.are.equal("lora_alpha is not in the file: PEFT 0.3.0's default is null, this runtime's is 8",
        t.reasons[1].message)
      assert.are.equal("write lora_alpha explicitly: peft migrate PATH --to-peft 0.3.0", t.reasons[1].fix)
      -- no loader at all, and the method too new
      v, rules = verdict_of(dir, "0.0.2")
      assert.are.equal("refused", v)
      assert.are.equal("AttributeError: type object 'PeftModel' has no attribute 'from_pretrained' (PEFT 0.0.2 "
        .. "cannot load a saved adapter)", rules["no-from-pretrained"].message)
      dir = adapter(helpers.tmpdir() .. "/d", { peft_type = "LOHA", r = 4, target_modules = arr { "q" } })
      v, rules = verdict_of(dir, "0.5.0")
      assert.are.equal("refused", v)
      assert.are.equal("KeyError: 'LOHA'", rules["unknown-peft-type"].message)
      assert.are.equal("use PEFT 0.6.0 or later (LOHA appeared in 0.6.0)", rules["unknown-peft-type"].fix)
      -- OFT files from before 0.14
      dir = adapter(helpers.tmpdir() .. "/e", { peft_type = "OFT", r = 8, target_modules = arr { "q" } })
      v, rules = verdict_of(dir, "0.15.0")
      assert.are.equal("refused", v)
      assert.truthy(rules["oft-saved-before-0.14"].message:find("^ValueError: OFT has been updated since PEFT 0.14.0"))
      assert.are.equal("ok", (verdict_of(dir, "0.13.2")))
    end)

    it("with no target: every release grouped, the oldest that loads it unchanged, every engine", function()
      local dir = adapter(helpers.tmpdir() .. "/a", lora { use_dora = true, peft_version = "0.18.0" })
      local r = peft.check(dir)
      local e = r.adapters[1]
      assert.are.equal("LoraConfig", e.config_class)
      assert.are.equal("0.14.0", e.oldest_release)
      local runs = {}
      for _, x in ipairs(e.releases) do runs[#runs + 1] = x.from .. "-" .. x.to .. " " .. x.verdict end
      assert.are.same({ "0.0.1-0.0.2 refused", "0.1.0-0.5.0 changed", "0.6.0-0.13.2 refused", "0.14.0-0.20.0 ok" },
        runs)
      local names = {}
      for _, t in ipairs(e.targets) do names[#names + 1] = t.target end
      assert.are.same({ "peft 0.14.0", "vllm", "sglang", "llama.cpp", "mistral.rs", "lorax", "tgi", "tensorrt-llm",
                        "mlx-lm", "ollama" }, names)
      -- one that no release loads unchanged
      dir = adapter(helpers.tmpdir() .. "/b", { peft_type = "FINEGATES", r = 4 })
      e = peft.check(dir).adapters[1]
      assert.are.equal(peft.null, e.oldest_release)
      assert.are.equal("refused", e.targets[1].verdict)
    end)

    it("reads a config object too", function()
      local cfg = peft.LoraConfig { r = 8, use_rslora = true, target_modules = { "q_proj" } }
      local r = peft.check(cfg, { "0.7.0", "sglang" })
      assert.are.equal("(config)", r.adapters[1].path)
      assert.are.equal("refused", r.adapters[1].targets[1].verdict)
      assert.are.equal("changed", r.adapters[1].targets[2].verdict)
    end)

    it("refuses an unknown target or option, naming what there is", function()
      local dir = adapter(helpers.tmpdir() .. "/a", lora())
      local err = helpers.error_of(peft.check, dir, { "vlm" })
      assert.truthy(tostring(err):find("unknown target 'vlm' (did you mean 'vllm'?)", 1, true))
      err = helpers.error_of(peft.check, dir, { "vllm:max_lora_rnk=64" })
      assert.truthy(tostring(err):find("vLLM has no option 'max_lora_rnk' (did you mean 'max_lora_rank'?)", 1, true))
      err = helpers.error_of(peft.check, dir, { "vllm:max_lora_rank=17" })
      assert.truthy(tostring(err):find("vLLM option max_lora_rank must be one of 1, 8, 16, 32, 64, 128, 256, 320, "
        .. "512, got 17", 1, true))
      err = helpers.error_of(peft.check, dir, { "vllm:max_lora_rank=big" })
      assert.truthy(tostring(err):find("expects an integer, got big", 1, true))
      err = helpers.error_of(peft.check, dir, { "0.6.2:x=1" })
      assert.truthy(tostring(err):find("a PEFT release takes no options", 1, true))
      err = helpers.error_of(peft.check, dir, { "tgi:x=1" })
      assert.truthy(tostring(err):find("TGI has no option 'x' (it takes none)", 1, true))
      err = helpers.error_of(peft.check, helpers.tmpdir() .. "/missing")
      assert.are.equal("FileNotFoundError", err.kind)
    end)
  end)

  describe("migrate --to-peft (results loaded by the release's own code, recorded)", function()
    it("makes the recorded config for every recorded case, and the release loads it unchanged", function()
      local fx = fixture("migrations.json")
      local rm = require "peft.release_migrate"
      local tmp = helpers.tmpdir()
      local n = 0
      for _, c in ipairs(fx.cases) do
        assert.are.equal("ok", c.verdict, c.input .. " -> " .. c.release)
        local A = check.adapter_from_text(fx.inputs[c.input], c.input)
        local plan = rm.plan(A, c.release)
        assert.is_true(plan.ok, c.input .. " -> " .. c.release)
        assert.are.equal(check.repr(c.output), check.repr(plan.dict), c.input .. " -> " .. c.release)
        n = n + 1
      end
      assert.is_true(n > 300)
      local _ = tmp
    end)

    it("refuses, listing the settings, when one would be lost", function()
      local dir = adapter(helpers.tmpdir() .. "/a", lora { use_dora = true, use_rslora = true })
      local r = run { "migrate", dir, "--to-peft", "0.5.0" }
      assert.are.equal(1, r.code)
      assert.are.equal("peft migrate: " .. dir .. "/adapter_config.json: PEFT 0.5.0 cannot load this adapter with "
        .. "the same behaviour; it would lose:\n"
        .. "  use_dora = true: PEFT 0.5.0 has no such setting (it appeared in 0.9.0)\n"
        .. "  use_rslora = true: PEFT 0.5.0 has no such setting (it appeared in 0.8.0)\n", r.err)
      -- values a release does not have yet, and OFT across 0.14
      dir = adapter(helpers.tmpdir() .. "/b", lora { init_lora_weights = "pissa" })
      r = run { "migrate", dir, "--to-peft", "0.10.0", "--json" }
      assert.are.equal(1, r.code)
      local j = decode(r.out)
      assert.are.equal("init_lora_weights = \"pissa\": PEFT 0.10.0 does not have this value yet (it appeared in "
        .. "0.11.0)", j.lost[1].message)
      dir = adapter(helpers.tmpdir() .. "/c", { peft_type = "OFT", r = 0, oft_block_size = 32,
                                                target_modules = arr { "q" } })
      r = run { "migrate", dir, "--to-peft", "0.13.2" }
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("OFT's weights changed meaning in PEFT 0.14.0", 1, true))
      r = run { "migrate", dir, "--to-peft", "0.99.0" }
      assert.are.equal(2, r.code)
      assert.truthy(r.err:find("--to-peft 0.99.0: not a PEFT release this runtime knows", 1, true))
    end)

    it("prints a diff, writes in place or a copy, renames MISS to BONE with the weights", function()
      local tmp = helpers.tmpdir()
      local dir = adapter(tmp .. "/a", lora { peft_version = "0.18.0", use_qalora = false })
      local before = helpers.read(dir .. "/adapter_config.json")
      local r = run { "migrate", dir, "--to-peft", "0.13.2" }
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find("for PEFT 0.13.2 (dry run", 1, true))
      assert.truthy(r.out:find('\n-  "peft_version": "0.18.0",\n', 1, true))
      assert.truthy(r.out:find("dropped (PEFT 0.13.2 does not know them; they hold their defaults): peft_version, "
        .. "use_qalora", 1, true))
      assert.are.equal(before, helpers.read(dir .. "/adapter_config.json")) -- a dry run writes nothing
      r = run { "migrate", dir, "--to-peft", "0.13.2", "-o", tmp .. "/copy" }
      assert.are.equal(0, r.code, r.err)
      local copy = decode(helpers.read(tmp .. "/copy/adapter_config.json"))
      assert.is_nil(copy.peft_version)
      assert.are.equal("ok", (verdict_of(tmp .. "/copy", "0.13.2")))
      r = run { "migrate", dir, "--to-peft", "0.13.2", "--write" }
      assert.are.equal(0, r.code, r.err)
      assert.are.equal("ok", (verdict_of(dir, "0.13.2")))
      r = run { "migrate", dir, "--to-peft", "0.13.2" }
      assert.are.equal(dir .. "/adapter_config.json: PEFT 0.13.2 already loads it unchanged; nothing to migrate\n",
        r.out)
      -- MISS (0.17) to a release that has only BONE
      local m = adapter(tmp .. "/miss", { peft_type = "MISS", r = 4, target_modules = arr { "q_proj" },
        peft_version = "0.18.0" }, { tensors = { { "base_model.model.model.layers.0.self_attn.q_proj.miss_block",
          { 4, 64 } } } })
      r = run { "migrate", m, "--to-peft", "0.15.0", "-o", tmp .. "/bone", "--json" }
      assert.are.equal(0, r.code, r.err)
      local j = decode(r.out)
      assert.are.same({ from = "MISS", to = "BONE" }, j.renamed)
      assert.are.equal("base_model.model.model.layers.0.self_attn.q_proj.bone_block", j.weights.renamed[1].to)
      local h = peft.safetensors.read_header(tmp .. "/bone/adapter_model.safetensors")
      assert.are.equal("base_model.model.model.layers.0.self_attn.q_proj.bone_block", h.tensors[1].name)
      assert.are.equal("BONE", decode(helpers.read(tmp .. "/bone/adapter_config.json")).peft_type)
      assert.are.equal("ok", (verdict_of(tmp .. "/bone", "0.15.0")))
    end)
  end)

  describe("against the serving engines (one crafted adapter per rule of serving-engines.md)", function()
    local LM = "base_model.model.model.layers.0.self_attn.q_proj."
    -- { engine, what, config fields, opts (tensors, bin, added_tokens, knobs, base), verdict, rule, text }
    local CASES = {
      -- vLLM
      { "vllm", "a plain LoRA", {}, { tensors = lora_tensors(8) }, "ok" },
      { "vllm", "non-LoRA", { peft_type = "LOHA" }, {}, "refused", "peft-type", "LOHA is not LoRA" },
      { "vllm", "required fields", { lora_alpha = false }, {}, "refused", "required-fields",
        "Missing required configuration fields: lora_alpha" },
      { "vllm", "unsupported tensor", {}, { tensors = lora_tensors(8, nil, { { LM .. "hada_w1_a", { 8, 64 } } }) },
        "refused", "tensor-names", LM .. "hada_w1_a is unsupported LoRA weight" },
      { "vllm", "modules_to_save", { modules_to_save = arr { "lm_head" } }, {}, "refused", "modules_to_save",
        "vLLM only supports modules_to_save being None." },
      { "vllm", "a classifier head in modules_to_save", { modules_to_save = arr { "score" } }, {}, "ok" },
      { "vllm", "DoRA", { use_dora = true }, {}, "refused", "dora", "vLLM does not yet support DoRA." },
      { "vllm", "DoRA magnitudes in the weights", {},
        { tensors = lora_tensors(8, nil, { { LM .. "lora_magnitude_vector", { 64 } } }) }, "refused", "dora" },
      { "vllm", "rank above the default max_lora_rank", { r = 32 }, {}, "refused", "rank-limit",
        "LoRA rank 32 is greater than max_lora_rank 16.", "start vLLM with --max-lora-rank 32" },
      { "vllm", "rank within --max-lora-rank", { r = 32 }, { knobs = "max_lora_rank=64" }, "ok" },
      { "vllm", "rank above every max_lora_rank", { r = 1024 }, { knobs = "max_lora_rank=512" }, "refused",
        "rank-limit", "LoRA rank 1024 is greater than max_lora_rank 512.",
        "no --max-lora-rank value allows rank 1024: retrain at a lower rank" },
      { "vllm", "rank from the weights", { r = 8 }, { tensors = lora_tensors(64) }, "refused", "rank-limit",
        "LoRA rank 64" },
      { "vllm", "bias", { bias = "all" }, {}, "refused", "bias", "Adapter bias is not supported." },
      { "vllm", "lora_bias", { lora_bias = true }, {}, "refused", "bias", "Adapter bias is not supported." },
      { "vllm", "rsLoRA (alpha/sqrt(r))", { use_rslora = true }, {}, "ok" },
      { "vllm", "lora_dtype", {}, { knobs = "lora_dtype=bfloat16" }, "ok" },
      { "vllm", "embedding LoRA", { target_modules = arr { "embed_tokens" } },
        { tensors = { { "base_model.model.model.embed_tokens.lora_embedding_A", { 8, 100 } },
                      { "base_model.model.model.embed_tokens.lora_embedding_B", { 64, 8 } } } }, "ok" },
      { "vllm", ".bin weights", {}, { bin = true }, "ok" },
      { "vllm", "PiSSA init", { init_lora_weights = "pissa" }, {}, "refused", "init-modifies-base",
        "init_lora_weights 'pissa' trained the adapter against modified base weights" },
      { "vllm", "aLoRA", { alora_invocation_tokens = arr { 1, 2 } }, {}, "refused", "alora" },
      { "vllm", "layer_replication", { layer_replication = arr { arr { 0, 1 } } }, {}, "refused", "layer_replication" },
      { "vllm", "BD-LoRA", { use_bdlora = { nblocks = 2 } }, {}, "refused", "bdlora" },
      { "vllm", "QALoRA", { use_qalora = true }, {}, "refused", "qalora" },
      { "vllm", "trainable tokens", { trainable_token_indices = arr { 5 } }, {}, "refused", "trainable-tokens",
        "trainable_tokens_delta is unsupported LoRA weight" },
      { "vllm", "added tokens", {}, { added_tokens = { ["<x>"] = 100 } }, "refused", "added-tokens",
        "the adapter adds 1 tokens" },
      { "vllm", "rank_pattern and alpha_pattern (newer vLLM reads them)",
        { rank_pattern = { q_proj = 4 }, alpha_pattern = { q_proj = 8 } }, {}, "ok" },
      { "vllm", "regex target_modules and layers_to_transform", { target_modules = ".*q_proj" }, {}, "ok" },
      -- SGLang
      { "sglang", "a plain LoRA", {}, { tensors = lora_tensors(8) }, "ok" },
      { "sglang", "non-LoRA", { peft_type = "IA3" }, {}, "refused", "peft-type", "AssertionError" },
      { "sglang", "rsLoRA ignored", { use_rslora = true, r = 16, lora_alpha = 8 }, {}, "changed", "scale",
        "use_rslora ignored: scale lora_alpha/r = 0.5 instead of lora_alpha/sqrt(r) = 2.0",
        "set lora_alpha to 32.0 and use_rslora to false: lora_alpha/r then gives the same scale" },
      { "sglang", "added tokens", {}, { added_tokens = { ["<x>"] = 100 } }, "refused", "added-tokens" },
      { "sglang", "DoRA", { use_dora = true }, {}, "refused", "dora", "PR #22125" },
      { "sglang", "rank beyond --max-lora-rank", { r = 64 }, { knobs = "max_lora_rank=32" }, "refused", "rank-limit",
        "LoRA rank 64 exceeds --max-lora-rank 32" },
      { "sglang", "rank with no --max-lora-rank", { r = 64 }, {}, "ok" },
      { "sglang", "a regex target_modules", { target_modules = ".*q_proj" }, {}, "refused", "target-modules-string",
        "SGLang does not recognize target_modules='.*q_proj' (#25913)" },
      { "sglang", "all-linear", { target_modules = "all-linear" }, {}, "ok" },
      { "sglang", "a tensor it cannot place", {}, { tensors = lora_tensors(8, nil, { { LM .. "ia3_l", { 64 } } }) },
        "refused", "tensor-names", "Cannot find target module name for " .. LM .. "ia3_l (#16550)" },
      { "sglang", "modules_to_save not read", { modules_to_save = arr { "lm_head" } }, {}, "changed",
        "modules_to_save-ignored" },
      { "sglang", "rank_pattern not read", { rank_pattern = { q_proj = 4 } }, {}, "changed", "rank_pattern-ignored" },
      { "sglang", "alpha_pattern not read", { alpha_pattern = { q_proj = 4 } }, {}, "changed",
        "alpha_pattern-ignored" },
      { "sglang", "PiSSA init ignored", { init_lora_weights = "pissa" }, {}, "changed", "init-modifies-base" },
      { "sglang", "embed_tokens/lm_head LoRA", { target_modules = arr { "embed_tokens", "lm_head" } }, {}, "ok" },
      -- llama.cpp
      { "llama.cpp", "a plain LoRA", {}, { tensors = lora_tensors(8) }, "ok" },
      { "llama.cpp", "lora_alpha required", { lora_alpha = false }, {}, "refused", "lora_alpha-required",
        "KeyError: 'lora_alpha'" },
      { "llama.cpp", "DoRA magnitude", {}, { tensors = lora_tensors(8, nil, { { LM .. "lora_magnitude_vector",
        { 64 } } }) },
        "refused", "dora", "Unexpected name '" .. LM .. "lora_magnitude_vector': Not a lora_A or lora_B tensor" },
      { "llama.cpp", "modules_to_save lm_head", { modules_to_save = arr { "lm_head" } },
        { tensors = lora_tensors(8, nil, { { "base_model.model.lm_head.modules_to_save.default.weight",
          { 100, 64 } } }) },
        "refused", "modules_to_save", "Unexpected name 'base_model.model.lm_head.modules_to_save.default.weight'" },
      { "llama.cpp", "bias", { bias = "lora_only" }, {}, "refused", "bias", "Not a lora_A or lora_B tensor" },
      { "llama.cpp", "LoHa / IA3", { peft_type = "IA3" }, {}, "refused", "peft-type", "IA3 is not LoRA" },
      { "llama.cpp", "new tokens", {}, { added_tokens = { ["<x>"] = 100, ["<y>"] = 101 } }, "refused", "added-tokens",
        "the adapter adds 2 tokens" },
      { "llama.cpp", "rank_pattern honoured (rank from each tensor)", { rank_pattern = { q_proj = 4 } }, {}, "ok" },
      { "llama.cpp", "rsLoRA ignored", { use_rslora = true }, {}, "changed", "scale" },
      { "llama.cpp", "alpha_pattern ignored", { alpha_pattern = { q_proj = 4 } }, {}, "changed",
        "alpha_pattern-ignored", "alpha_pattern ignored: every tensor is scaled with lora_alpha = 16" },
      { "llama.cpp", "outtype", {}, { knobs = "outtype=q8_0" }, "ok" },
      { "llama.cpp", "any rank", { r = 512 }, {}, "ok" },
      { "llama.cpp", "regex targets and layers_to_transform", { target_modules = ".*q_proj" }, {}, "ok" },
      { "llama.cpp", "PiSSA init ignored", { init_lora_weights = "olora" }, {}, "changed", "init-modifies-base" },
      { "llama.cpp", "trainable tokens", { trainable_token_indices = arr { 3 } }, {}, "refused", "trainable-tokens" },
      { "llama.cpp", ".bin weights", {}, { bin = true }, "ok" },
      -- mistral.rs
      { "mistral.rs", "a plain LoRA", { use_rslora = true, rank_pattern = { q_proj = 4 }, alpha_pattern = { q = 2 },
        exclude_modules = arr { "k_proj" } }, { tensors = lora_tensors(8) }, "ok" },
      { "mistral.rs", "all-linear", { target_modules = "all-linear" }, {}, "ok" },
      { "mistral.rs", "non-LoRA", { peft_type = "VERA" }, {}, "refused", "peft-type" },
      { "mistral.rs", "DoRA", { use_dora = true }, {}, "refused", "dora", "mistral.rs does not support DoRA adapters" },
      { "mistral.rs", "bias", { bias = "all" }, {}, "refused", "bias" },
      { "mistral.rs", "lora_bias", { lora_bias = true }, {}, "refused", "bias" },
      { "mistral.rs", "modules_to_save", { modules_to_save = arr { "score" } }, {}, "refused", "modules_to_save" },
      { "mistral.rs", "aLoRA", { alora_invocation_tokens = arr { 1 } }, {}, "refused", "alora" },
      { "mistral.rs", "QALoRA", { use_qalora = true }, {}, "refused", "qalora" },
      { "mistral.rs", "layer_replication", { layer_replication = arr { arr { 0, 2 } } }, {}, "refused",
        "layer_replication" },
      { "mistral.rs", "target_parameters other than experts", { target_parameters = arr { "mlp.w1" } }, {}, "refused",
        "target_parameters" },
      { "mistral.rs", "experts' gate_up/down", { target_parameters = arr { "mlp.experts.gate_up_proj",
        "mlp.experts.down_proj" } }, {}, "ok" },
      { "mistral.rs", "BD-LoRA", { use_bdlora = { nblocks = 2 } }, {}, "refused", "bdlora" },
      { "mistral.rs", "Arrow", { arrow_config = { top_k = 2 } }, {}, "refused", "arrow" },
      { "mistral.rs", "MonteCLoRA", { monteclora_config = { num_samples = 2 } }, {}, "refused", "monteclora" },
      { "mistral.rs", "ensure_weight_tying", { ensure_weight_tying = true }, {}, "refused", "ensure_weight_tying" },
      { "mistral.rs", "trainable tokens", { trainable_token_indices = arr { 3 } }, {}, "refused", "trainable-tokens" },
      { "mistral.rs", "added tokens", {}, { added_tokens = { ["<x>"] = 100 } }, "refused", "added-tokens" },
      { "mistral.rs", "megatron_config", { megatron_config = { a = 1 } }, {}, "refused", "megatron" },
      { "mistral.rs", "PiSSA/OLoRA/CorDA/LoftQ/LoRA-GA init", { init_lora_weights = "corda" }, {}, "refused",
        "init-modifies-base" },
      { "mistral.rs", "rank above --lora-max-rank", { r = 512 }, {}, "refused", "rank-limit",
        "LoRA rank 512 is above the maximum 256" },
      { "mistral.rs", "lm_head target", { target_modules = arr { "q_proj", "lm_head" } }, {}, "refused", "lm_head" },
      { "mistral.rs", "a tensor not consumed", {}, { tensors = lora_tensors(8, nil, { { LM .. "lora_B.bias",
        { 64 } } }) },
        "refused", "bias" },
      { "mistral.rs", "unused weights", {},
        { tensors = lora_tensors(8, nil, { { "base_model.model.model.norm.weight", { 64 } } }) }, "refused",
        "unused-tensors", "mistral.rs refuses tensor 'base_model.model.model.norm.weight'" },
      { "mistral.rs", ".bin weights", {}, { bin = true }, "refused", "weights-format" },
      -- LoRAX (PEFT 0.4.0)
      { "lorax", "a plain LoRA", {}, { tensors = lora_tensors(8) }, "ok" },
      { "lorax", "rsLoRA dropped by PEFT 0.4.0", { use_rslora = true }, {}, "changed", "pinned-peft",
        "use_rslora = true dropped: LoRAX's PEFT 0.4.0 has no such setting" },
      { "lorax", "DoRA dropped by PEFT 0.4.0", { use_dora = true }, {}, "changed", "pinned-peft",
        "use_dora = true dropped: LoRAX's PEFT 0.4.0 has no such setting" },
      { "lorax", "unused adapter weights", {}, { tensors = lora_tensors(8, nil, { { LM .. "lora_magnitude_vector",
        { 64 } } }) }, "changed", "unused-weights", "unused adapter weights: " .. LM .. "lora_magnitude_vector" },
      { "lorax", "layers_to_transform", { layers_to_transform = arr { 0 } }, {}, "changed",
        "layers_to_transform-ignored" },
      { "lorax", "rank_pattern (one r for the scale)", { rank_pattern = { q_proj = 4 } }, {}, "changed",
        "rank_pattern-ignored" },
      { "lorax", "alpha_pattern", { alpha_pattern = { q_proj = 4 } }, {}, "changed", "alpha_pattern-ignored" },
      { "lorax", "modules_to_save warned", { modules_to_save = arr { "lm_head" } }, {}, "changed",
        "modules_to_save-ignored" },
      { "lorax", "bias warned", { bias = "all" }, {}, "changed", "bias-ignored" },
      { "lorax", "non-LoRA read as LoRA", { peft_type = "LOHA" }, {}, "changed", "peft-type" },
      { "lorax", "trainable tokens warned", { trainable_token_indices = arr { 2 } }, {}, "changed",
        "trainable-tokens" },
      { "lorax", "PiSSA init ignored", { init_lora_weights = "pissa" }, {}, "changed", "init-modifies-base" },
      { "lorax", ".bin weights", {}, { bin = true }, "ok" },
      -- TGI
      { "tgi", "a plain LoRA", { use_rslora = true }, { tensors = lora_tensors(8) }, "ok" },
      { "tgi", ".bin weights", {}, { bin = true }, "refused", "weights-format" },
      { "tgi", "non-LoRA", { peft_type = "LOKR" }, {}, "refused", "peft-type" },
      { "tgi", "a layer it does not adapt", { target_modules = arr { "q_proj", "dense" } }, {}, "changed",
        "unsupported-layers", "target_modules dense ignored" },
      { "tgi", "lm_head ignored", { target_modules = arr { "q_proj", "lm_head" } }, {}, "changed", "lm_head" },
      { "tgi", "DoRA ignored", { use_dora = true }, {}, "changed", "dora" },
      { "tgi", "modules_to_save warned", { modules_to_save = arr { "lm_head" } }, {}, "changed",
        "modules_to_save-ignored" },
      { "tgi", "bias warned", { lora_bias = true }, {}, "changed", "bias-ignored" },
      { "tgi", "layers_to_transform", { layers_to_transform = arr { 0 } }, {}, "changed",
        "layers_to_transform-ignored" },
      { "tgi", "rank_pattern partly", { rank_pattern = { q_proj = 4 } }, {}, "changed", "rank_pattern-ignored" },
      { "tgi", "alpha_pattern", { alpha_pattern = { q_proj = 4 } }, {}, "changed", "alpha_pattern-ignored" },
      { "tgi", "PiSSA init ignored", { init_lora_weights = "pissa_niter_4" }, {}, "changed", "init-modifies-base" },
      { "tgi", "trainable tokens warned", { trainable_token_indices = arr { 2 } }, {}, "changed", "trainable-tokens" },
      { "tgi", "a setting newer than its PEFT 0.15.2", { use_qalora = true }, {}, "changed", "pinned-peft",
        "use_qalora = true dropped: TGI's PEFT 0.15.2 has no such setting" },
      -- TensorRT-LLM
      { "tensorrt-llm", "a plain LoRA with DoRA, rsLoRA and a rank_pattern",
        { use_dora = true, use_rslora = true, rank_pattern = { q_proj = 4 } },
        { tensors = lora_tensors(8, nil, { { LM .. "lora_magnitude_vector", { 64 } } }) }, "ok" },
      { "tensorrt-llm", "an unsupported key", {}, { tensors = lora_tensors(8, nil, { { LM .. "hada_w1_a",
        { 8, 64 } } }) },
        "refused", "tensor-names", "unsupported key: " .. LM .. "hada_w1_a" },
      { "tensorrt-llm", "a module not in its list", { modules_to_save = arr { "mlp" } }, {}, "refused",
        "modules_to_save", "hf_module mlp is not in supported list" },
      { "tensorrt-llm", "lm_head / embed_tokens copies", { modules_to_save = arr { "lm_head", "embed_tokens" } }, {},
        "ok" },
      { "tensorrt-llm", "rank above max_lora_rank", { r = 128 }, {}, "refused", "rank-limit",
        "LoRA rank 128 is greater than max_lora_rank 64" },
      { "tensorrt-llm", "rank within max_lora_rank", { r = 128 }, { knobs = "max_lora_rank=128" }, "ok" },
      { "tensorrt-llm", "alpha_pattern ignored", { alpha_pattern = { q = 2 } }, {}, "changed",
        "alpha_pattern-ignored" },
      { "tensorrt-llm", "bias", { bias = "all" }, {}, "refused", "bias" },
      { "tensorrt-llm", "trainable tokens", { trainable_token_indices = arr { 1 } }, {}, "refused",
        "trainable-tokens" },
      { "tensorrt-llm", "lm_head LoRA ignored", { target_modules = arr { "q_proj", "lm_head" } }, {}, "changed",
        "embedding-lora" },
      { "tensorrt-llm", "PiSSA init ignored", { init_lora_weights = "olora" }, {}, "changed", "init-modifies-base" },
      { "tensorrt-llm", "regex targets and added tokens", { target_modules = ".*q_proj" },
        { added_tokens = { ["<x>"] = 100 } }, "ok" },
      { "tensorrt-llm", "non-LoRA", { peft_type = "BOFT" }, {}, "refused", "peft-type" },
      -- MLX-LM
      { "mlx-lm", "a PEFT adapter", {}, { tensors = lora_tensors(8) }, "refused", "format",
        "AttributeError: 'SimpleNamespace' object has no attribute 'num_layers'" },
      -- Ollama
      { "ollama", "a plain LoRA", {}, { tensors = lora_tensors(8) }, "ok" },
      { "ollama", ".bin weights", {}, { bin = true }, "refused", "weights-format" },
      { "ollama", "an architecture it does not convert", {}, { base = "mistral" }, "refused", "architecture",
        "unsupported architecture 'mistral'" },
      { "ollama", "a llama base", {}, { base = "llama" }, "ok" },
      { "ollama", "DoRA (llama.cpp's rules)", { use_dora = true }, {}, "refused", "llama.cpp:dora" },
      { "ollama", "rsLoRA ignored", { use_rslora = true }, {}, "changed", "llama.cpp:scale" },
      { "ollama", "modules_to_save", { modules_to_save = arr { "lm_head" } }, {}, "refused",
        "llama.cpp:modules_to_save" },
    }

    for n, c in ipairs(CASES) do
      local engine, what, fields, opts, want, rule, text, fix = table.unpack(c)
      it(string.format("%s: %s -> %s", engine, what, want), function()
        local tmp = helpers.tmpdir()
        local cfg = lora()
        for k, v in pairs(fields) do
          if v == false and (k == "lora_alpha") then cfg[k] = nil else cfg[k] = v end
        end
        if opts.base then
          os.execute("mkdir -p " .. helpers.q(tmp .. "/base"))
          helpers.write(tmp .. "/base/config.json", encode { model_type = opts.base })
          cfg.base_model_name_or_path = tmp .. "/base"
        end
        local dir = adapter(tmp .. "/a" .. n, cfg, opts)
        local target = engine .. (opts.knobs and (":" .. opts.knobs) or "")
        local v, rules, t = verdict_of(dir, target)
        assert.are.equal(want, v, encode(t))
        if rule then
          assert.truthy(rules[rule], "no reason " .. rule .. " in " .. encode(t))
          if text then assert.truthy(rules[rule].message:find(text, 1, true), rules[rule].message) end
          if fix then assert.are.equal(fix, rules[rule].fix) end
          assert.truthy(rules[rule].fix ~= nil, "every reason has a fix (or null)")
        end
      end)
    end

    it("accepts an MLX-LM adapter in its own format", function()
      local dir = adapter(helpers.tmpdir() .. "/mlx", { fine_tune_type = "lora", num_layers = 16,
        lora_parameters = { rank = 8, scale = 20.0, dropout = 0.0 } })
      assert.are.equal("ok", (verdict_of(dir, "mlx-lm")))
    end)

    it("lists each engine's options with their defaults", function()
      local t = {}
      for _, x in ipairs(peft.targets()) do t[x.name] = x end
      assert.are.equal(16, t.vllm.knobs.max_lora_rank.default)
      assert.are.equal("--max-lora-rank", t.vllm.knobs.max_lora_rank.flag)
      assert.are.equal(64, t["tensorrt-llm"].knobs.max_lora_rank.default)
      assert.are.equal(256, t["mistral.rs"].knobs.lora_max_rank.default)
      assert.are.equal("kwargs", t["peft 0.6.2"].loading)
      local n = 0
      for _, x in ipairs(peft.targets()) do
        if x.kind == "peft" then n = n + 1 end
      end
      assert.are.equal(35, n)
    end)
  end)

  describe("the target registry", function()
    it("refuses a bad declaration and changes nothing", function()
      local before = registry.count()
      local function err_of(spec) return tostring(helpers.error_of(peft.register_target, spec)) end
      assert.truthy(err_of { kind = "server", name = "x" }:find("kind must be 'peft' or 'engine'", 1, true))
      assert.truthy(err_of { kind = "engine", name = "VLLM2" }:find("an engine's name is lowercase", 1, true))
      assert.truthy(err_of { kind = "engine", name = "vllm" }:find("There is already a target called 'vllm'", 1, true))
      assert.truthy(err_of { kind = "engine", name = "x", rulez = {} }:find("unknown entry 'rulez' (did you mean "
        .. "'rules'?)", 1, true))
      assert.truthy(err_of { kind = "engine", name = "x", knobs = 3 }:find("knobs must be a table", 1, true))
      assert.truthy(err_of { kind = "peft", releases = { "0.6.2" }, loading = "kwargs" }
        :find("There is already a target called 'peft 0.6.2'", 1, true))
      assert.truthy(err_of { kind = "peft", releases = { "0.21.0" }, loading = "drop" }
        :find("PEFT 0.21.0 is not a release peft.history knows; give based_on", 1, true))
      assert.truthy(err_of { kind = "peft", releases = { "latest" }, loading = "drop" }
        :find("a release is written as PEFT spells it", 1, true))
      assert.truthy(err_of { kind = "peft", releases = { "0.21.0" }, loading = "lazy" }
        :find("loading must be 'none', 'setattr', 'kwargs' or 'drop'", 1, true))
      assert.are.equal(before, registry.count())
    end)

    it("takes a serving stack and a pinned PEFT from an extension, and rolls a failing script back", function()
      local tmp = helpers.tmpdir()
      helpers.write(tmp .. "/10_mystack.lua", [[
peft.register_target {
  kind = "engine", name = "mystack", title = "My stack",
  knobs = { max_rank = { default = 32, flag = "--max-rank" } },
  rules = function(check)
    return {
      check.rule.setting { id = "no-dora", when = function(f) return f.dora end,
        error = "{title} serves no DoRA", fix = "merge it" },
      check.rule.rank { knob = "max_rank", error = "rank {r} > {max}", fix = "start it with {flag} {r}" },
      check.rule.scale "alpha/r",
    }
  end,
}
peft.register_target { kind = "peft", releases = { "0.21.0" }, based_on = "0.20.0", loading = "drop" }
]])
      helpers.write(tmp .. "/20_broken.lua", [[
peft.register_target { kind = "engine", name = "halfway" }
peft.register_target { kind = "peft", releases = { "0.21.1" }, based_on = "0.20.0", loading = "drop" }
error("stop here")
]])
      local dir = adapter(tmp .. "/a", lora { use_dora = true, r = 64 })
      local r = run({ "check", dir, "--engine", "mystack", "--engine", "mystack:max_rank=64", "--peft", "0.21.0",
                      "--json" }, { env = { PEFT_PATH = tmp } })
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("20_broken.lua:3: stop here", 1, true))
      local t = decode(r.out).adapters[1].targets -- the PEFT releases first, then the engines
      assert.are.equal("peft 0.21.0", t[1].target)
      assert.are.equal("ok", t[1].verdict)
      assert.are.equal("refused", t[2].verdict)
      assert.are.equal("My stack serves no DoRA", t[2].reasons[1].message)
      assert.are.equal("rank 64 > 32", t[2].reasons[2].message)
      assert.are.equal("start it with --max-rank 64", t[2].reasons[2].fix)
      assert.are.equal(1, #t[3].reasons)
      r = run({ "targets" }, { env = { PEFT_PATH = tmp } })
      assert.truthy(r.out:find("mystack", 1, true))
      assert.is_nil(r.out:find("halfway", 1, true)) -- rolled back with its script
      assert.is_nil(r.out:find("0.21.1", 1, true))
      -- in the same process: the registry is as it was
      local before = registry.count()
      local ok, err = peft.load_extension_safe(tmp .. "/20_broken.lua")
      assert.is_nil(ok)
      assert.are.equal("ExtensionError", err.kind)
      assert.are.equal(before, registry.count())
      assert.is_nil(registry.get("halfway"))
    end)

    it("runs an engine's rules that name a fact or a guard, and tells each rule its engine in ctx", function()
      local tmp = helpers.tmpdir()
      helpers.write(tmp .. "/factstack.lua", [[
peft.register_target {
  kind = "engine", name = "factstack", title = "Fact stack",
  rules = function(check)
    local function never(why) return function() error(why .. " ran without its guard") end end
    return {
      check.rule.setting { id = "dora", fact = "dora", error = "{title}: no DoRA", fix = "merge it" },
      check.rule.setting { id = "saved-modules", guard = "modules_to_save",
        when = function(f)
          if not f.modules_to_save then error("saved-modules ran without its guard") end
          return f.modules_to_save[1]
        end,
        error = "{title} refuses modules_to_save ({what})" },
      check.rule.ignored { setting = "rank_pattern", fact = "has_rank_pattern", effect = "every module takes r = {r}" },
      { id = "added", guard = "added_tokens", check = never("added") },
      { id = "ctx", check = function(_, ctx, A)
          if ctx.target.name ~= "factstack" or ctx.title ~= "Fact stack" or ctx.adapter ~= nil or not A.dict then
            error("unexpected ctx")
          end
        end },
    }
  end,
}
]])
      local plain = adapter(tmp .. "/plain", lora())
      local rich = adapter(tmp .. "/rich", lora { use_dora = true, modules_to_save = arr { "lm_head" },
                                                  rank_pattern = { q_proj = 4 } })
      local r = run({ "check", plain, rich, "--engine", "factstack", "--json" }, { env = { PEFT_PATH = tmp } })
      assert.are.equal("", r.err)
      local out = decode(r.out).adapters
      assert.are.equal("ok", out[1].targets[1].verdict)
      local t = out[2].targets[1]
      assert.are.equal("refused", t.verdict)
      assert.are.same({ "dora", "saved-modules" }, { t.reasons[1].rule, t.reasons[2].rule })
      assert.are.equal("Fact stack: no DoRA", t.reasons[1].message)
      assert.are.equal("merge it", t.reasons[1].fix)
      assert.are.equal("Fact stack refuses modules_to_save (lm_head)", t.reasons[2].message)
      assert.are.equal(core.null, t.reasons[2].fix)
      -- the change found before the refusal is kept apart
      assert.are.equal("rank_pattern-ignored", t.also[1].rule)
      assert.are.equal("rank_pattern ignored: every module takes r = 8", t.also[1].message)
      -- a fact or a guard is the name of a field of the facts
      assert.truthy(tostring(helpers.error_of(check.rule.setting, { id = "x", fact = 3, error = "e" }))
        :find("a rule's fact is the name of a field of the facts, got number", 1, true))
      assert.truthy(tostring(helpers.error_of(check.rule.ignored, { setting = "x", guard = {}, effect = "e",
        when = function() end })):find("a rule's guard is the name of a field of the facts, got table", 1, true))
    end)

    it("shares an engine's result between adapters only while every finding's text is the same for them", function()
      local tmp = helpers.tmpdir()
      helpers.write(tmp .. "/sharestack.lua", [[
peft.register_target {
  kind = "engine", name = "sharestack", title = "Share stack",
  rules = function(check)
    return {
      check.rule.setting { id = "dora", fact = "dora", error = "no DoRA" },
      check.rule.setting { id = "rank-pattern", fact = "has_rank_pattern", error = "no rank_pattern" },
      { id = "big-rank", check = function(f)
          if f.r > 8 then return check.finding("refused", "r = " .. f.r .. " is above 8", "retrain at r = 8") end
        end },
    }
  end,
}
]])
      local dirs = {
        adapter(tmp .. "/a1", lora { use_dora = true }),
        adapter(tmp .. "/a2", lora { use_dora = true, rank_pattern = { q_proj = 4 } }),
        adapter(tmp .. "/a3", lora { use_dora = true, r = 16 }),
        adapter(tmp .. "/a4", lora { use_dora = true }),
        adapter(tmp .. "/a5", lora { use_dora = true, rank_pattern = { q_proj = 4 } }),
      }
      local function rules_of(t)
        local out = {}
        for i, x in ipairs(t.reasons) do out[i] = x.rule .. ": " .. x.message end
        return out
      end
      local want = {
        { "dora: no DoRA" },
        { "dora: no DoRA", "rank-pattern: no rank_pattern" },
        { "dora: no DoRA", "big-rank: r = 16 is above 8" },
        { "dora: no DoRA" }, -- (not what a later adapter added to the same first finding)
        { "dora: no DoRA", "rank-pattern: no rank_pattern" },
      }
      local args = { "check", "--engine", "sharestack", "--json" }
      for _, d in ipairs(dirs) do args[#args + 1] = d end
      local r = run(args, { env = { PEFT_PATH = tmp } })
      assert.are.equal("", r.err)
      local out = decode(r.out).adapters
      for i = 1, #dirs do
        assert.are.equal("refused", out[i].targets[1].verdict)
        assert.are.same(want[i], rules_of(out[i].targets[1]))
      end
      -- the text summary, in one process, line by line
      args = { "check" }
      for _, d in ipairs(dirs) do args[#args + 1] = d end
      r = run(args, { env = { PEFT_PATH = tmp } })
      local lines = {}
      for l in r.out:gmatch("  sharestack[^\n]*") do lines[#lines + 1] = l end
      assert.are.equal(5, #lines)
      assert.truthy(lines[1]:find("refused  no DoRA$"))
      assert.truthy(lines[2]:find("refused  no DoRA (+1 more)", 1, true))
      assert.truthy(lines[3]:find("refused  no DoRA (+1 more)", 1, true))
      assert.truthy(lines[4]:find("refused  no DoRA$"))
      -- Ollama's result comes from llama.cpp's: the same for the same llama.cpp result, its own otherwise
      local ollama = {}
      for l in r.out:gmatch("  ollama[^\n]*") do ollama[#ollama + 1] = l end
      assert.are.equal(5, #ollama)
      assert.are.equal(ollama[1], ollama[4])
      assert.are.equal(ollama[2], ollama[5])
    end)

    it("gives engine rules what several of them test, made once per adapter", function()
      local tmp = helpers.tmpdir()
      local f = check.adapter(adapter(tmp .. "/a", lora { bias = "all", init_lora_weights = "pissa_niter_4",
        layers_to_transform = arr { 0 }, alpha_pattern = { v_proj = 32 },
        target_modules = arr { "q_proj", "lm_head" } }, { added_tokens = { ["<x>"] = 100 } })).facts
      assert.is_false(f.not_lora)
      assert.is_false(f.not_lora_type)
      assert.is_false(f.target_string)
      assert.is_false(f.has_rank_pattern)
      assert.is_true(f.has_alpha_pattern)
      assert.is_true(f.selects_layers)
      assert.is_false(f.replicates_layers)
      assert.are.equal("pissa_niter_4", f.init_base)
      assert.is_true(f.bias_config)
      assert.is_true(f.any_bias)
      assert.is_true(f.adds_tokens)
      assert.is_false(f.saves_modules)
      assert.is_true(f.targets_heads)
      local g = check.adapter(adapter(tmp .. "/b", { peft_type = "IA3", target_modules = ".*attn" })).facts
      assert.is_true(g.not_lora)
      assert.are.equal("IA3", g.not_lora_type)
      assert.is_true(g.target_string)
      assert.is_nil(g.init_base)
      assert.is_false(g.any_bias)
      -- (the registry's generation, for caches built over it, is a field too)
      assert.are.equal(registry.generation(), registry.gen)
    end)

    it("keeps the built-in targets when the script that first used the registry fails", function()
      -- the built-in target scripts run when the registry is first used: here, inside a script that
      -- is then rolled back, which takes its own target with it and leaves theirs
      local tmp = helpers.tmpdir()
      helpers.write(tmp .. "/broken.lua", [[
peft.register_target { kind = "engine", name = "halfway" }
error("stop here")
]])
      local r = run({ "targets" }, { env = { PEFT_PATH = tmp } })
      assert.truthy(r.err:find("broken.lua:2: stop here", 1, true))
      assert.is_nil(r.out:find("halfway", 1, true))
      assert.truthy(r.out:find("vllm", 1, true))
      assert.truthy(r.out:find("0.14.0", 1, true))
    end)
  end)

  describe("the command line", function()
    it("prints one line for the releases and one per engine, and exits 0 when a release loads it", function()
      local dir = adapter(helpers.tmpdir() .. "/a", lora { use_dora = true, peft_version = "0.18.0" })
      local r = run { "check", dir }
      assert.are.equal(0, r.code, r.err)
      local lines = {}
      for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.are.equal(dir .. "/adapter_config.json  (LoraConfig)", lines[1])
      assert.truthy(lines[2]:match("^  peft +ok +from 0%.14%.0 %(the oldest release that loads it unchanged%)$"))
      assert.truthy(lines[3]:find("0.0.1-0.0.2 refused, 0.1.0-0.5.0 changed, 0.6.0-0.13.2 refused", 1, true))
      assert.truthy(lines[4]:match("^  vllm +refused +vLLM does not yet support DoRA%. %-%- fix: merge"))
      assert.are.equal(12, #lines) -- the adapter, the releases (two lines), nine engines
    end)

    it("names targets with --peft and --engine, every reason with its fix, exit 1 unless all are ok", function()
      local dir = adapter(helpers.tmpdir() .. "/a", lora { r = 64 })
      local r = run { "check", dir, "--peft", "0.14.0", "--engine", "vllm" }
      assert.are.equal(1, r.code)
      assert.truthy(r.out:find("\n  peft 0.14.0    ok\n", 1, true), r.out)
      assert.truthy(r.out:find("  vllm           refused  (lora_dtype=auto, max_lora_rank=16)\n      LoRA rank 64 is "
        .. "greater than max_lora_rank 16.\n      fix: start vLLM with --max-lora-rank 64\n", 1, true), r.out)
      r = run { "check", dir, "--peft", "0.14.0", "--engine", "vllm:max_lora_rank=64" }
      assert.are.equal(0, r.code, r.out)
      r = run { "check", dir, "--engine", "vllm:max_lora_rank=64", "--json" }
      local j = decode(r.out)
      assert.are.same({ "path", "targets", "config_class", "peft_type" }, (function()
        local ks = {}
        for k in pairs(j.adapters[1]) do ks[#ks + 1] = k end
        table.sort(ks, function(a, b)
          local order = { path = 1, targets = 2, config_class = 3, peft_type = 4 }
          return order[a] < order[b]
        end)
        return ks
      end)())
      assert.are.equal("vllm", j.adapters[1].targets[1].target)
      assert.are.equal(64, j.adapters[1].targets[1].knobs.max_lora_rank)
    end)

    it("reports usage errors with 2 and a missing path with 1", function()
      local dir = adapter(helpers.tmpdir() .. "/a", lora())
      local r = run { "check", dir, "--peft", "0.6.3" }
      assert.are.equal(2, r.code)
      assert.truthy(r.err:find("--peft 0.6.3: not a PEFT release this runtime knows (did you mean '0.6.0', '0.6.1', "
        .. "'0.6.2'?) (releases: 0.0.1 ... 0.20.0)", 1, true), r.err)
      r = run { "check", dir, "--engine", "vllmm" }
      assert.are.equal(2, r.code)
      assert.truthy(r.err:find("--engine vllmm: unknown engine (did you mean 'vllm'?); engines: vllm, sglang", 1, true))
      r = run { "check", dir, "--engine", "vllm:max_lora_rank=3" }
      assert.are.equal(2, r.code)
      assert.truthy(r.err:find("vLLM option max_lora_rank must be one of", 1, true))
      r = run { "check" }
      assert.are.equal(2, r.code)
      r = run { "check", dir .. "/nope" }
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("nope: no such file or directory", 1, true))
    end)

    it("searches a directory for adapters, and checks a file that is not JSON", function()
      local tmp = helpers.tmpdir()
      adapter(tmp .. "/x/one", lora())
      adapter(tmp .. "/x/two", "{ not json")
      local r = run { "check", tmp .. "/x", "--peft", "0.14.0", "--json" }
      assert.are.equal(1, r.code)
      local j = decode(r.out)
      assert.are.equal(2, #j.adapters)
      assert.are.equal("ok", j.adapters[1].targets[1].verdict)
      assert.are.equal("refused", j.adapters[2].targets[1].verdict)
      assert.truthy(j.adapters[2].targets[1].reasons[1].message:find("^JSONDecodeError"))
    end)

    it("peft targets lists the release ranges and the engines with their options", function()
      local r = run { "targets" }
      assert.are.equal(0, r.code)
      assert.truthy(r.out:find("  0.6.0 - 0.13.2   PEFT 0.6-0.13: an unknown key is a TypeError", 1, true))
      assert.truthy(r.out:find("max_lora_rank (--max-lora-rank, default 16)", 1, true))
      local j = decode(run({ "targets", "--json" }).out)
      assert.are.equal(35 + 9, #j.targets)
    end)
  end)

  describe("files from a newer PEFT (the loader)", function()
    it("says which PEFT saved them instead of 'did you mean'", function()
      local tmp = helpers.tmpdir()
      local dir = adapter(tmp .. "/a", { peft_type = "EWORA", peft_version = "0.21.3.dev0", r = 4 })
      local err = helpers.error_of(peft.from_pretrained, dir)
      assert.are.equal(dir .. "/adapter_config.json: unknown 'peft_type' \"EWORA\": saved by PEFT 0.21.3.dev0, newer "
        .. "than 0.20.1 which this runtime follows (a method added after it; an extension can add it with "
        .. "peft.add_peft_type and register_peft_method)", err.message)
      dir = adapter(tmp .. "/b", { peft_type = "LORA", peft_version = "0.21.3.dev0", lora_alfa = 4 })
      local warnings = peft.capture_warnings(peft.from_pretrained, dir)
      assert.are.equal(dir .. "/adapter_config.json: 1 key unknown to LoraConfig: 'lora_alfa' (saved by PEFT "
        .. "0.21.3.dev0, newer than 0.20.1 which this runtime follows); kept as they are and written back on save",
        warnings[1])
      -- the same release as the runtime's development line
      dir = adapter(tmp .. "/c", { peft_type = "LORA", peft_version = "0.20.1", new_key = 1 })
      warnings = peft.capture_warnings(peft.from_pretrained, dir)
      assert.truthy(warnings[1]:find("(saved by PEFT 0.20.1, newer than 0.20.1.dev0 which this runtime follows)", 1,
        true))
      -- an older or equal one is not newer
      dir = adapter(tmp .. "/d", { peft_type = "LORA", peft_version = "0.20.1.dev0@UNKNOWN", lora_alfa = 1 })
      warnings = peft.capture_warnings(peft.from_pretrained, dir)
      assert.truthy(warnings[1]:find("'lora_alfa' (did you mean 'lora_alpha'?)", 1, true))
    end)

    it("suggests a name only for a small slip for its length", function()
      local tmp = helpers.tmpdir()
      local err = helpers.error_of(peft.from_pretrained, adapter(tmp .. "/a", { peft_type = "EWORA" }))
      assert.is_nil(err.message:find("did you mean", 1, true))
      err = helpers.error_of(peft.from_pretrained, adapter(tmp .. "/b", { peft_type = "DELROA" }))
      assert.truthy(err.message:find("(did you mean 'DELORA'?)", 1, true))
      assert.are.equal("", peft.config.suggest("EWORA", { "DELORA" }))
      assert.are.equal(" (did you mean 'lora_alpha'?)", peft.config.suggest("lora_alfa", { "lora_alpha", "r" }))
      assert.are.equal(" (did you mean 'json'?)", peft.config.suggest("js", { "json" })) -- a prefix
      assert.are.equal(2, peft.config.distance("EWORA", "DELORA"))
      assert.are.equal(1, peft.config.distance("lora_dropuot", "lora_dropout"))
    end)
  end)
end)
