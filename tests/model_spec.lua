-- Base models from safetensors headers, PEFT's target matching, and prefix
-- isolation of state-dict keys. Counts are worked out by hand in comments.
local peft = require "peft"
local helpers = require "helpers"

local llama_tensors, t5_tensors = helpers.llama_tensors, helpers.t5_tensors
local LLAMA_TOTAL = helpers.LLAMA_TOTAL

local function names_of(targets)
  local out = {}
  for i, t in ipairs(targets) do out[i] = t.module.name end
  return out
end

describe("peft.safetensors", function()
  after_each(helpers.cleanup)

  it("reads a header: tensors in order, dtypes, shapes, offsets, metadata", function()
    local path = helpers.write_safetensors(helpers.tmpdir() .. "/m.safetensors", {
      { "a.weight", { 4, 2 }, "BF16" }, { "a.bias", { 4 } } }, { format = "pt" })
    local h = assert(peft.safetensors.read_header(path))
    assert.are.equal(2, #h.tensors)
    -- the header lists them in its own (here sorted) order; data in write order
    assert.are.equal("a.bias", h.tensors[1].name)
    assert.are.equal("a.weight", h.tensors[2].name)
    assert.are.equal("BF16", h.tensors[2].dtype)
    assert.are.same({ 4, 2 }, h.tensors[2].shape)
    assert.are.same({ 0, 16 }, h.tensors[2].data_offsets)
    assert.are.same({ 16, 32 }, h.tensors[1].data_offsets)
    assert.are.equal(32, h.data_size)
    assert.are.equal("pt", h.metadata.format)
  end)

  it("returns nil and a message naming the file for hostile headers", function()
    local dir = helpers.tmpdir()
    local function bad(name, bytes, message)
      local path = helpers.write(dir .. "/" .. name, bytes)
      local h, err = peft.safetensors.read_header(path)
      assert.is_nil(h)
      assert.are.equal(path .. ": " .. message, err)
    end
    bad("past_end", string.pack("<I8", 9999) .. "{}", "the header length 9999 runs past the end of the file (2 bytes follow it)")
    bad("not_json", string.pack("<I8", 5) .. "hello", "the header is not a JSON object (it must start with '{')")
    local overlap = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}'
    bad("overlap", string.pack("<I8", #overlap) .. overlap .. string.rep("\0", 12),
      "tensor 'b' (bytes 4-12) overlaps tensor 'a' (ending at 8)")
    local size = '{"a":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}'
    bad("size", string.pack("<I8", #size) .. size .. string.rep("\0", 8),
      "tensor 'a': data_offsets span 8 bytes but 3 elements of F16 take 6 bytes")
    local huge = '{"a":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,0]}}'
    bad("huge", string.pack("<I8", #huge) .. huge, "tensor 'a': the shape has more elements than fit in 64 bits")
    bad("short", "abc", "the file has 3 bytes, too few for the 8-byte header length")
  end)

  it("reads the sharded layout", function()
    local dir = helpers.tmpdir()
    helpers.write_safetensors(dir .. "/model-00001-of-00002.safetensors", { { "x.weight", { 2, 2 } } })
    helpers.write_safetensors(dir .. "/model-00002-of-00002.safetensors", { { "y.weight", { 3 } } })
    helpers.write(dir .. "/model.safetensors.index.json", peft.core.json_encode {
      metadata = { total_size = 28 },
      weight_map = { ["x.weight"] = "model-00001-of-00002.safetensors", ["y.weight"] = "model-00002-of-00002.safetensors" },
    })
    local h = assert(peft.safetensors.read_index(dir .. "/model.safetensors.index.json"))
    assert.are.equal(2, #h.tensors)
    assert.are.same({ "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors" }, h.shards)
    local m = peft.describe_model(dir)
    assert.are.equal(7, m.total_params)
  end)
end)

describe("describe_model", function()
  after_each(helpers.cleanup)

  it("builds the module tree of a Llama-style model from its header", function()
    local dir = helpers.tmpdir()
    helpers.write_safetensors(dir .. "/model.safetensors", llama_tensors())
    local m = peft.describe_model(dir)
    assert.are.equal(LLAMA_TOTAL, m.total_params)
    local q = m:module("model.layers.1.self_attn.q_proj")
    assert.are.equal("linear", q.kind)
    assert.are.equal(64, q.in_features)
    assert.are.equal(64, q.out_features)
    assert.are.equal(1, q.layer_index)
    local k = m:module("model.layers.0.self_attn.k_proj")
    assert.are.equal(32, k.out_features)
    assert.are.equal("embedding", m:module("model.embed_tokens").kind)
    assert.are.equal("norm", m:module("model.norm").kind)
    assert.are.equal(2, m.num_layers)
    assert.are.equal(64, m.hidden_size)
    assert.are.equal(100, m.vocab_size)
  end)

  it("takes a plain list, and knows GPT-2's Conv1D layout", function()
    local m = peft.describe_model { { "transformer.h.0.attn.c_attn.weight", { 16, 48 } } }
    local c = m:module("transformer.h.0.attn.c_attn")
    assert.are.equal("conv1d", c.kind)
    assert.are.equal(16, c.in_features)
    assert.are.equal(48, c.out_features)
    assert.are.equal(0, c.layer_index)
  end)

  it("says what is missing in a directory", function()
    local dir = helpers.tmpdir()
    local err = helpers.error_of(peft.describe_model, dir)
    assert.are.equal("FileNotFoundError", err.kind)
    assert.are.equal(dir .. ": no model.safetensors or model.safetensors.index.json in the directory", err.message)
  end)
end)

describe("target matching", function()
  local llama = peft.describe_model(llama_tensors())
  local t5 = peft.describe_model(t5_tensors())
  local function targets(cfg, m) return names_of(peft.model.targets(cfg, m or llama)) end

  it("matches a list by exact name or as a suffix after '.'", function()
    assert.are.same({ "model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj" },
      targets(peft.LoraConfig { target_modules = { "q_proj" } }))
    -- "proj" is not a suffix after a '.', so nothing ends with ".proj"
    assert.are.same({ "model.layers.1.mlp.up_proj" },
      targets(peft.LoraConfig { target_modules = { "model.layers.1.mlp.up_proj" } }))
  end)

  it("matches a string as a regular expression over the whole name, Python-style", function()
    assert.are.same({ "model.layers.1.self_attn.k_proj", "model.layers.1.self_attn.v_proj" },
      targets(peft.LoraConfig { target_modules = [[.*\.1\.self_attn\.(?:k|v)_proj]] }))
    -- a partial match is not enough
    local err = helpers.error_of(peft.model.targets, peft.LoraConfig { target_modules = "q_proj" }, llama)
    assert.are.equal("ValueError", err.kind)
  end)

  it("expands all-linear to every linear layer but the output layer", function()
    local got = targets(peft.LoraConfig { target_modules = "all-linear" })
    assert.are.equal(14, #got) -- 7 per layer, lm_head left out
    for _, n in ipairs(got) do assert.is_nil(n:find("lm_head", 1, true)) end
  end)

  it("removes exclude_modules (list or regex)", function()
    assert.are.same({ "model.layers.1.self_attn.q_proj" },
      targets(peft.LoraConfig { target_modules = { "q_proj" }, exclude_modules = { "layers.0.self_attn.q_proj" } }))
    assert.are.equal(12, #targets(peft.LoraConfig { target_modules = "all-linear", exclude_modules = [[.*\.mlp\.down_proj]] }))
  end)

  it("restricts by layers_to_transform, with or without layers_pattern", function()
    assert.are.same({ "model.layers.1.self_attn.q_proj" },
      targets(peft.LoraConfig { target_modules = { "q_proj" }, layers_to_transform = { 1 } }))
    assert.are.same({ "model.layers.0.self_attn.q_proj" },
      targets(peft.LoraConfig { target_modules = { "q_proj" }, layers_to_transform = 0, layers_pattern = "layers" }))
    -- T5: the block index, in both stacks
    assert.are.same({ "encoder.block.0.layer.0.SelfAttention.q", "decoder.block.0.layer.0.SelfAttention.q",
                      "decoder.block.0.layer.1.EncDecAttention.q" },
      targets(peft.LoraConfig { target_modules = { "q" }, layers_to_transform = { 0 }, layers_pattern = "block" }, t5))
    -- an exact name skips the layer filter, as in PEFT
    assert.are.same({ "model.layers.0.mlp.up_proj" },
      targets(peft.LoraConfig { target_modules = { "model.layers.0.mlp.up_proj" }, layers_to_transform = { 1 } }))
  end)

  it("never targets a module inside modules_to_save", function()
    assert.are.same({ "model.layers.0.self_attn.q_proj" },
      targets(peft.LoraConfig { target_modules = { "q_proj" }, modules_to_save = { "layers.1.self_attn" } }))
  end)

  it("resolves rank_pattern and alpha_pattern as PEFT does", function()
    local t = peft.model.targets(peft.LoraConfig { target_modules = { "q_proj", "v_proj" }, r = 8, lora_alpha = 16,
      rank_pattern = { ["layers.1.self_attn.q_proj"] = 4, v_proj = 2 }, alpha_pattern = { [".*\\.0\\..*q_proj"] = 3 } },
      llama)
    local got = {}
    for _, e in ipairs(t) do got[e.module.name] = { e.r, e.alpha } end
    assert.are.same({ 8, 3 }, got["model.layers.0.self_attn.q_proj"])
    assert.are.same({ 4, 16 }, got["model.layers.1.self_attn.q_proj"])
    assert.are.same({ 2, 16 }, got["model.layers.0.self_attn.v_proj"])
  end)

  it("fails when nothing matches, naming the closest modules", function()
    local err = helpers.error_of(peft.model.targets, peft.LoraConfig { target_modules = { "q_prj", "vproj" } }, llama)
    assert.are.equal('Target modules ["q_prj", "vproj"] not found in the base model; closest module names:'
      .. " 'q_proj', 'k_proj', 'v_proj'", err.message)
  end)
end)

describe("prefix isolation", function()
  local keys = {
    "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
    "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
    "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector",
    "base_model.model.lora_head.weight",           -- a head called lora_head, saved by modules_to_save
    "base_model.model.model.layers.0.mlp.down_proj.hada_w1_a",
    "base_model.model.model.layers.0.mlp.down_proj.ia3_l",
  }

  it("attributes keys to methods by whole segments", function()
    local r = peft.isolation.isolate(keys)
    assert.are.same({ "lora", "loha", "ia3" }, r.order)
    assert.are.equal(3, #r.methods.lora.keys)
    assert.are.same({ "model.layers.0.self_attn.q_proj" }, r.methods.lora.modules)
    assert.are.same({ "base_model.model.lora_head.weight" }, r.other)
    assert.are.same({ "model.layers.0.mlp.down_proj" }, r.methods.loha.modules)
  end)

  it("finds adapter names in memory keys and separates adapters", function()
    local r = peft.isolation.isolate {
      "base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight",
      "base_model.model.model.layers.0.self_attn.q_proj.lora_A.other.weight",
      "base_model.model.model.layers.0.self_attn.q_proj.lora_E.other",
    }
    assert.are.same({ "default", "other" }, r.methods.lora.adapters)
    assert.are.same({ "other" }, r.methods.adalora.adapters)
    -- shared layer names go to the method asked for
    r = peft.isolation.isolate({ "base_model.model.x.lora_A.weight" }, { prefer = "adalora" })
    assert.are.same({ "adalora" }, r.order)
  end)

  it("names keys as PEFT saves them and back", function()
    local iso = peft.isolation
    assert.are.equal("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
      iso.to_saved("base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight", "default"))
    assert.are.equal("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector",
      iso.to_saved("model.layers.0.self_attn.q_proj.lora_magnitude_vector.default.weight", "default"))
    assert.are.equal("base_model.model.score.weight", iso.to_saved("score.modules_to_save.default.weight", "default"))
    assert.are.equal("base_model.model.x.ia3_l", iso.to_saved("x.ia3_l.default", "default"))
    assert.are.equal("base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight",
      iso.to_memory("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "default"))
    assert.are.equal("base_model.model.x.lora_magnitude_vector.a2.weight",
      iso.to_memory("base_model.model.x.lora_magnitude_vector", "a2"))
    assert.are.equal("base_model.model.x.ia3_l.a2", iso.to_memory("x.ia3_l", "a2"))
  end)
end)

describe("get_peft_model", function()
  local llama = peft.describe_model(llama_tensors())
  local t5 = peft.describe_model(t5_tensors())

  local function line(m, cfg, ...)
    return peft.get_peft_model(m, cfg, ...):trainable_parameters_line()
  end

  it("picks the PeftModel class from the task type", function()
    local cases = { CAUSAL_LM = "PeftModelForCausalLM", SEQ_2_SEQ_LM = "PeftModelForSeq2SeqLM",
                    FEATURE_EXTRACTION = "PeftModelForFeatureExtraction", QUESTION_ANS = "PeftModelForQuestionAnswering" }
    for task, cls in pairs(cases) do
      assert.are.equal(cls, peft.get_peft_model(llama, peft.LoraConfig { target_modules = { "q_proj" },
        task_type = task }).class_name)
    end
    assert.are.equal("PeftModel", peft.get_peft_model(llama, peft.LoraConfig { target_modules = { "q_proj" } }).class_name)
  end)

  it("counts LoRA as PEFT does", function()
    -- r=8 on q (64->64) and v (64->32): q A 8*64 + B 64*8 = 1024, v A 8*64 + B
    -- 32*8 = 768; two layers: 3584. all = 86848 + 3584 = 90432;
    -- 100 * 3584 / 90432 = 3.96320...
    assert.are.equal("trainable params: 3,584 || all params: 90,432 || trainable%: 3.9632",
      line(llama, peft.LoraConfig { r = 8, target_modules = { "q_proj", "v_proj" }, task_type = "CAUSAL_LM" }))
    -- DoRA adds a magnitude per output feature: (64 + 32) * 2 = 192 more
    assert.are.equal("trainable params: 3,776 || all params: 90,624 || trainable%: 4.1667",
      line(llama, peft.LoraConfig { r = 8, target_modules = { "q_proj", "v_proj" }, use_dora = true }))
    -- rank_pattern: layer 1's q at r=2: 1024 + 768 + (2*64 + 64*2) + 768 = 2816
    assert.are.equal("trainable params: 2,816 || all params: 89,664 || trainable%: 3.1406",
      line(llama, peft.LoraConfig { r = 8, target_modules = { "q_proj", "v_proj" },
                                    rank_pattern = { ["layers.1.self_attn.q_proj"] = 2 } }))
  end)

  it("adds modules_to_save copies and the task's heads", function()
    -- r=4 on q: (4*64 + 64*4) * 2 = 1024; lm_head copy 100*64 = 6400
    assert.are.equal("trainable params: 7,424 || all params: 94,272 || trainable%: 7.8751",
      line(llama, peft.LoraConfig { r = 4, target_modules = { "q_proj" }, modules_to_save = { "lm_head" } }))
    local pm = peft.get_peft_model(llama, peft.LoraConfig { r = 4, target_modules = { "q_proj" },
                                                            modules_to_save = { "lm_head" } })
    local names = {}
    for _, p in ipairs(pm:adapter_parameters()) do names[#names + 1] = p.name end
    assert.are.same({ "model.layers.0.self_attn.q_proj.lora_A.default.weight",
                      "model.layers.0.self_attn.q_proj.lora_B.default.weight",
                      "model.layers.1.self_attn.q_proj.lora_A.default.weight",
                      "model.layers.1.self_attn.q_proj.lora_B.default.weight",
                      "lm_head.modules_to_save.default.weight" }, names)
  end)

  it("counts AdaLoRA, LoHa, IA3, VeRA and OFT", function()
    -- AdaLoRA init_r 12 on q: A 12*64 + B 64*12 + E 12 (ranknum frozen: 1) = 1548
    -- per layer -> 3096 trainable, 2 ranknums frozen: all 86848 + 3096 + 2
    -- 100 * 3096 / 89946 = 3.44207...
    assert.are.equal("trainable params: 3,096 || all params: 89,946 || trainable%: 3.4421",
      line(llama, peft.AdaLoraConfig { target_modules = { "q_proj" }, total_step = 100 }))
    -- LoHa r=8 on v (64->32): w1_a 32*8 + w1_b 8*64 + w2_a 32*8 + w2_b 8*64 = 1536 x2
    assert.are.equal("trainable params: 3,072 || all params: 89,920 || trainable%: 3.4164",
      line(llama, peft.LoHaConfig { target_modules = { "v_proj" } }))
    -- IA3: k (32,1), v (32,1), feed-forward down (1,128): 192 per layer
    assert.are.equal("trainable params: 384 || all params: 87,232 || trainable%: 0.4402",
      line(llama, peft.IA3Config { target_modules = { "k_proj", "v_proj", "down_proj" },
                                   feedforward_modules = { "down_proj" } }))
    -- VeRA r=16 on q, v: lambda_b (out) + lambda_d (r): 80 + 48 per layer;
    -- the shared vera_A / vera_B are buffers, not parameters
    assert.are.equal("trainable params: 256 || all params: 87,104 || trainable%: 0.2939",
      line(llama, peft.VeraConfig { r = 16, target_modules = { "q_proj", "v_proj" } }))
    -- OFT block size 32 on q (in 64): r = 64/32 = 2 blocks of 32*31/2 = 496 -> 992 per layer
    -- 100 * 1984 / 88832 = 2.23343...
    assert.are.equal("trainable params: 1,984 || all params: 88,832 || trainable%: 2.2334",
      line(llama, peft.OFTConfig { target_modules = { "q_proj" }, oft_block_size = 32 }))
  end)

  it("counts prompt learning: virtual tokens x token dimension x submodules", function()
    -- 20 tokens x 64 = 1280 (one stack)
    assert.are.equal("trainable params: 1,280 || all params: 88,128 || trainable%: 1.4524",
      line(llama, peft.PromptTuningConfig { num_virtual_tokens = 20, task_type = "CAUSAL_LM" }))
    -- T5 (d_model 32), two stacks: 10 x 2 x 32 = 640; T5 total: shared 3200 + lm_head 3200
    -- + encoder (4*1024 + 2048 + 2048 + 3*32 = 8288) + decoder (8*1024 + 2048 + 2048 + 4*32
    -- = 12416) = 27104; all 27744; 100 * 640 / 27744 = 2.30680...
    assert.are.equal("trainable params: 640 || all params: 27,744 || trainable%: 2.3068",
      line(t5, peft.PromptTuningConfig { num_virtual_tokens = 10, task_type = "SEQ_2_SEQ_LM" }))
    -- prefix tuning without projection: 10 x (num_layers 2 * 2 * 64) = 2560
    assert.are.equal("trainable params: 2,560 || all params: 89,408 || trainable%: 2.8633",
      line(llama, peft.PrefixTuningConfig { num_virtual_tokens = 10, task_type = "CAUSAL_LM" }))
  end)

  it("says clearly when what PEFT builds is not known here", function()
    -- Arrow's router layers are built by PEFT's create_arrow_model, not by get_peft_model's tuner
    local err = helpers.error_of(peft.get_peft_model, llama, peft.LoraConfig { target_modules = { "q_proj" },
      arrow_config = { top_k = 2 } })
    assert.are.equal("NotImplementedError", err.kind)
    assert.truthy(err.message:find("arrow_config", 1, true), err.message)
  end)

  it("refuses a method that is not mixed-compatible in a mixed model", function()
    local mixed = peft.get_peft_model(llama, peft.LoraConfig { target_modules = { "q_proj" } }, "a", { mixed = true })
    mixed:add_adapter("b", peft.LoHaConfig { target_modules = { "v_proj" } })
    -- LoRA r=8 on q: 1024 x 2 trainable; LoHa r=8 on v: 1536 x 2, frozen (an added adapter is not
    -- the active one, as in PEFT)
    assert.are.equal("trainable params: 2,048 || all params: 91,968 || trainable%: 2.2269",
      mixed:trainable_parameters_line())
    local err = helpers.error_of(mixed.add_adapter, mixed, "c", peft.VeraConfig { target_modules = { "v_proj" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("The provided peft_type 'VERA' is not compatible with the PeftMixedModel; compatible methods:"
      .. " ADALORA, BEFT, HIRA, IA3, LOHA, LOKR, LORA, ROAD, SHIRA", err.message)
    -- a PeftModel keeps to one method
    local single = peft.get_peft_model(llama, peft.LoraConfig { target_modules = { "q_proj" } })
    err = helpers.error_of(single.add_adapter, single, "x", peft.IA3Config { target_modules = { "v_proj" } })
    assert.are.equal("Cannot combine adapters with different peft types. Found LORA and IA3.", err.message)
  end)

  it("names the saved keys as PEFT does", function()
    local pm = peft.get_peft_model(llama, peft.LoraConfig { r = 8, target_modules = { "q_proj" }, use_dora = true,
      layers_to_transform = { 0 } })
    assert.are.same({ "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                      "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
                      "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector" }, pm:saved_keys())
  end)
end)
