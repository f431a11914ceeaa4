-- peft.shapes: the adapter parameters get_peft_model would create, per adapted module and
-- shared. Every expected shape and count below is worked out by hand in the comments from PEFT
-- 0.20's layer code (the function is named in lua/peft/shapes.lua), not by calling the code
-- under test.
local peft = require "peft"
local shapes = require "peft.shapes"

-- modules used throughout
local Q = { name = "model.layers.0.self_attn.q_proj", kind = "linear", in_features = 4096, out_features = 4096,
            has_bias = false }
local K = { name = "model.layers.0.self_attn.k_proj", kind = "linear", in_features = 4096, out_features = 1024,
            has_bias = false }
local DOWN = { name = "model.layers.0.mlp.down_proj", kind = "linear", in_features = 11008, out_features = 4096,
               has_bias = false }
local UP = { name = "model.layers.0.mlp.up_proj", kind = "linear", in_features = 4096, out_features = 11008,
             has_bias = false }
local EMB = { name = "model.embed_tokens", kind = "embedding", num_embeddings = 32000, embedding_dim = 4096 }
local CONV = { name = "unet.down.0.conv", kind = "conv2d", in_features = 64, out_features = 128,
               kernel_size = { 3, 3 }, has_bias = true }
local CONV1x1 = { name = "unet.proj", kind = "conv2d", in_features = 64, out_features = 128,
                  kernel_size = { 1, 1 }, has_bias = true }
local C_ATTN = { name = "transformer.h.0.attn.c_attn", kind = "conv1d", in_features = 768, out_features = 2304,
                 has_bias = true }
local LN = { name = "model.layers.0.input_layernorm", kind = "other",
             parameters = { { name = "weight", shape = { 4096 } } } }

local function cfg(cls, args)
  local _, ok, c = peft.capture_warnings(function() return peft[cls](args or {}) end)
  assert(ok, tostring(c))
  return c
end

-- { name = shape } of a result, and its names in order
local function by_name(list)
  local t = {}
  for _, e in ipairs(list) do t[e.name] = e.shape end
  return t
end

local function names(list)
  local t = {}
  for i, e in ipairs(list) do t[i] = e.name end
  return t
end

local function trainable_of(list)
  local t = {}
  for _, e in ipairs(list) do t[e.name] = e.trainable end
  return t
end

local function check(list, err, expected, total, trainable)
  assert(list, err)
  assert.are.same(expected, by_name(list))
  local n, tr = shapes.numel(list)
  assert.are.equal(total, n)
  assert.are.equal(trainable or total, tr)
end

local function not_computed(pattern, list, err)
  assert.is_nil(list)
  assert.is_string(err)
  assert.truthy(err:find(pattern, 1, true), err)
end

describe("peft.shapes", function()
  describe("adapter_layer_names", function()
    it("has an entry for every registered method", function()
      local registered = require "peft.methods"
      assert.are.equal(45, #registered)
      for _, m in ipairs(registered) do
        assert.is_table(shapes.adapter_layer_names[m], m)
      end
      local n = 0
      for _ in pairs(shapes.adapter_layer_names) do n = n + 1 end
      assert.are.equal(45, n)
    end)

    it("lists PEFT's layer-class tuples", function()
      assert.are.same({ "lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B", "lora_magnitude_vector" },
        shapes.adapter_layer_names.lora)
      assert.are.same({ "lora_A", "lora_B", "lora_E", "lora_embedding_A", "lora_embedding_B" },
        shapes.adapter_layer_names.adalora)
      assert.are.same({ "hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2" },
        shapes.adapter_layer_names.loha)
      assert.are.same({ "lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b", "lokr_t2" },
        shapes.adapter_layer_names.lokr)
      assert.are.same({ "ia3_l" }, shapes.adapter_layer_names.ia3)
      assert.are.same({ "vera_lambda_b", "vera_lambda_d" }, shapes.adapter_layer_names.vera)
      assert.are.same({ "oft_R", "oft_embedding_R" }, shapes.adapter_layer_names.oft)
      assert.are.same({ "boft_R", "boft_s" }, shapes.adapter_layer_names.boft)
      assert.are.same({ "vblora_logits_A", "vblora_logits_B", "vblora_vector_bank" },
        shapes.adapter_layer_names.vblora)
      assert.are.same({ "bone_block" }, shapes.adapter_layer_names.bone)
      -- no tuner layer class: prompt learning, adaption prompt, X-LoRA, UniLoRA
      for _, m in ipairs { "prompt_tuning", "prefix_tuning", "p_tuning", "multitask_prompt_tuning", "cpt",
                           "cartridge", "adaption_prompt", "xlora", "unilora" } do
        assert.are.same({}, shapes.adapter_layer_names[m], m)
      end
    end)
  end)

  describe("supported", function()
    it("includes every method that must be computed", function()
      for _, m in ipairs { "lora", "adalora", "loha", "lokr", "ia3", "vera", "oft", "boft", "prompt_tuning",
                           "prefix_tuning", "p_tuning", "multitask_prompt_tuning" } do
        assert.is_true(shapes.supported[m], m)
      end
    end)

    it("says clearly which methods are not computed", function()
      not_computed("X-LoRA shapes are not computed", shapes.for_module("xlora", {}, Q))
      not_computed("GLoRA shapes are not computed", shapes.for_module("glora", {}, Q))
      not_computed("Poly shapes are not computed", shapes.shared("poly", {}, {}))
      not_computed("Bone was removed from PEFT", shapes.for_module("bone", {}, Q))
      not_computed("unknown PEFT method", shapes.for_module("lorax", {}, Q))
      assert.is_nil(shapes.supported.xlora)
    end)

    it("accepts the PeftType spelling of a method", function()
      local list = shapes.for_module("LORA", cfg("LoraConfig", { r = 8 }), Q)
      -- lora_A (8, 4096) + lora_B (4096, 8) = 32768 + 32768
      check(list, nil, { ["lora_A.default.weight"] = { 8, 4096 }, ["lora_B.default.weight"] = { 4096, 8 } },
        65536)
    end)

    it("takes a plain table of config fields as well as a config object", function()
      -- r = 4: (4, 4096) + (4096, 4) = 16384 + 16384
      check(shapes.for_module("lora", { r = 4 }, Q), nil,
        { ["lora_A.default.weight"] = { 4, 4096 }, ["lora_B.default.weight"] = { 4096, 4 } }, 32768)
    end)

    it("reads kind 'conv1d' as transformers' Conv1D, not torch.nn.Conv1d", function()
      not_computed("torch.nn.Conv1d modules are not computed", shapes.for_module("lora", cfg("LoraConfig"),
        { kind = "conv1d", in_features = 16, out_features = 32, kernel_size = { 3 } }))
    end)

    it("rejects unknown module kinds and per-module calls of prompt-learning methods", function()
      not_computed("unknown module kind", shapes.for_module("lora", cfg("LoraConfig"), { kind = "lstm" }))
      not_computed("no per-module parameters",
        shapes.for_module("prompt_tuning", cfg("PromptTuningConfig", { num_virtual_tokens = 8 }), Q))
    end)
  end)

  describe("LoRA", function()
    it("q_proj Linear 4096 -> 4096, r = 16", function()
      -- lora_A: Linear(4096, 16) weight (16, 4096) = 65536; lora_B: Linear(16, 4096) weight (4096, 16) = 65536
      local list, err = shapes.for_module("lora", cfg("LoraConfig", { r = 16 }), Q, { r = 16 })
      check(list, err, { ["lora_A.default.weight"] = { 16, 4096 }, ["lora_B.default.weight"] = { 4096, 16 } },
        131072)
      assert.are.same({ "lora_A.default.weight", "lora_B.default.weight" }, names(list))
    end)

    it("takes the rank from ctx (rank_pattern resolved by the caller) and names the adapter", function()
      -- r = 32: (32, 4096) + (4096, 32) = 131072 + 131072 = 262144
      local list, err = shapes.for_module("lora", cfg("LoraConfig", { r = 16 }), Q, { r = 32, adapter = "fr" })
      check(list, err, { ["lora_A.fr.weight"] = { 32, 4096 }, ["lora_B.fr.weight"] = { 4096, 32 } }, 262144)
    end)

    it("uses cfg.r when ctx has no r", function()
      -- default r = 8: 2 * 8 * 4096 = 65536
      local list, err = shapes.for_module("lora", cfg("LoraConfig"), Q)
      check(list, err, { ["lora_A.default.weight"] = { 8, 4096 }, ["lora_B.default.weight"] = { 4096, 8 } }, 65536)
    end)

    it("k_proj Linear 4096 -> 1024 (rectangular)", function()
      -- A (8, 4096) = 32768; B (1024, 8) = 8192; total 40960
      local list, err = shapes.for_module("lora", cfg("LoraConfig"), K, { r = 8 })
      check(list, err, { ["lora_A.default.weight"] = { 8, 4096 }, ["lora_B.default.weight"] = { 1024, 8 } }, 40960)
    end)

    it("DoRA adds a magnitude vector of out_features", function()
      -- 131072 + lora_magnitude_vector (4096,) = 135168
      local list, err = shapes.for_module("lora", cfg("LoraConfig", { r = 16, use_dora = true }), Q, { r = 16 })
      check(list, err, {
        ["lora_A.default.weight"] = { 16, 4096 },
        ["lora_B.default.weight"] = { 4096, 16 },
        ["lora_magnitude_vector.default.weight"] = { 4096 },
      }, 135168)
      assert.are.same({ "lora_A.default.weight", "lora_B.default.weight", "lora_magnitude_vector.default.weight" },
        names(list))
    end)

    it("lora_bias gives lora_B a bias", function()
      -- 131072 + bias (4096,) = 135168
      local list, err = shapes.for_module("lora", cfg("LoraConfig", { r = 16, lora_bias = true }), Q, { r = 16 })
      check(list, err, {
        ["lora_A.default.weight"] = { 16, 4096 },
        ["lora_B.default.weight"] = { 4096, 16 },
        ["lora_B.default.bias"] = { 4096 },
      }, 135168)
    end)

    it("embed_tokens 32000 x 4096: lora_embedding_A/B are plain parameters", function()
      -- lora_embedding_A (8, 32000) = 256000; lora_embedding_B (4096, 8) = 32768; total 288768
      local list, err = shapes.for_module("lora", cfg("LoraConfig"), EMB, { r = 8 })
      check(list, err, {
        ["lora_embedding_A.default"] = { 8, 32000 },
        ["lora_embedding_B.default"] = { 4096, 8 },
      }, 288768)
    end)

    it("DoRA on an embedding: magnitude of embedding_dim", function()
      -- 288768 + (4096,) = 292864
      local list, err = shapes.for_module("lora", cfg("LoraConfig", { use_dora = true }), EMB, { r = 8 })
      check(list, err, {
        ["lora_embedding_A.default"] = { 8, 32000 },
        ["lora_embedding_B.default"] = { 4096, 8 },
        ["lora_magnitude_vector.default.weight"] = { 4096 },
      }, 292864)
    end)

    it("lora_bias on an embedding is not computed (PEFT raises)", function()
      not_computed("LoRA shapes for embedding modules are not computed",
        shapes.for_module("lora", cfg("LoraConfig", { lora_bias = true }), EMB, { r = 8 }))
    end)

    it("Conv2d 64 -> 128, kernel 3x3, r = 4", function()
      -- lora_A Conv2d(64, 4, 3x3) weight (4, 64, 3, 3) = 2304; lora_B Conv2d(4, 128, 1x1) (128, 4, 1, 1) = 512
      local list, err = shapes.for_module("lora", cfg("LoraConfig", { r = 4 }), CONV, { r = 4 })
      check(list, err, {
        ["lora_A.default.weight"] = { 4, 64, 3, 3 },
        ["lora_B.default.weight"] = { 128, 4, 1, 1 },
      }, 2816)
    end)

    it("Conv2d with DoRA and lora_bias variants", function()
      -- DoRA magnitude: norm over dims 1.. keepdim, transposed: (1, 128, 1, 1) = 128; 2816 + 128 = 2944
      local list, err = shapes.for_module("lora", cfg("LoraConfig", { r = 4, use_dora = true }), CONV, { r = 4 })
      check(list, err, {
        ["lora_A.default.weight"] = { 4, 64, 3, 3 },
        ["lora_B.default.weight"] = { 128, 4, 1, 1 },
        ["lora_magnitude_vector.default.weight"] = { 1, 128, 1, 1 },
      }, 2944)
      -- lora_bias: lora_B bias (128,): 2816 + 128 = 2944
      list, err = shapes.for_module("lora", cfg("LoraConfig", { r = 4, lora_bias = true }), CONV, { r = 4 })
      check(list, err, {
        ["lora_A.default.weight"] = { 4, 64, 3, 3 },
        ["lora_B.default.weight"] = { 128, 4, 1, 1 },
        ["lora_B.default.bias"] = { 128 },
      }, 2944)
    end)

    it("grouped Conv2d: lora_B is grouped, the rank must divide", function()
      -- groups = 2: lora_B Conv2d(4, 128, groups=2) weight (128, 2, 1, 1) = 256; 2304 + 256 = 2560
      local grouped = { kind = "conv2d", in_features = 64, out_features = 128, kernel_size = { 3, 3 }, groups = 2 }
      local list, err = shapes.for_module("lora", cfg("LoraConfig", { r = 4 }), grouped, { r = 4 })
      check(list, err, {
        ["lora_A.default.weight"] = { 4, 64, 3, 3 },
        ["lora_B.default.weight"] = { 128, 2, 1, 1 },
      }, 2560)
      not_computed("divisible by groups", shapes.for_module("lora", cfg("LoraConfig", { r = 3 }), grouped, { r = 3 }))
    end)

    it("GPT-2 Conv1D c_attn 768 -> 2304 is a lora.Linear", function()
      -- A (8, 768) = 6144; B (2304, 8) = 18432; DoRA magnitude (2304,); total 6144 + 18432 + 2304 = 26880
      local list, err = shapes.for_module("lora", cfg("LoraConfig", { use_dora = true }), C_ATTN, { r = 8 })
      check(list, err, {
        ["lora_A.default.weight"] = { 8, 768 },
        ["lora_B.default.weight"] = { 2304, 8 },
        ["lora_magnitude_vector.default.weight"] = { 2304 },
      }, 26880)
    end)

    it("KaSA adds lora_diag of r; MiCA freezes lora_B", function()
      -- KaSA: 65536 (r = 8) + lora_diag (8,) = 65544
      local list, err = shapes.for_module("lora", cfg("LoraConfig", { kasa_config = {} }), Q, { r = 8 })
      check(list, err, {
        ["lora_A.default.weight"] = { 8, 4096 },
        ["lora_B.default.weight"] = { 4096, 8 },
        ["lora_diag.default"] = { 8 },
      }, 65544)
      -- MiCA: lora_B (4096, 8) = 32768 frozen: 65536 total, 32768 trainable
      list, err = shapes.for_module("lora", cfg("LoraConfig", { init_lora_weights = "mica" }), Q, { r = 8 })
      check(list, err, {
        ["lora_A.default.weight"] = { 8, 4096 },
        ["lora_B.default.weight"] = { 4096, 8 },
      }, 65536, 32768)
      assert.is_false(trainable_of(list)["lora_B.default.weight"])
    end)

    it("inference_mode and an inactive adapter freeze everything", function()
      local list = shapes.for_module("lora", cfg("LoraConfig", { inference_mode = true }), Q, { r = 8 })
      check(list, nil, { ["lora_A.default.weight"] = { 8, 4096 }, ["lora_B.default.weight"] = { 4096, 8 } },
        65536, 0)
      list = shapes.for_module("lora", cfg("LoraConfig"), Q, { r = 8, adapter = "second", active = false })
      check(list, nil, { ["lora_A.second.weight"] = { 8, 4096 }, ["lora_B.second.weight"] = { 4096, 8 } },
        65536, 0)
    end)

    it("says what it does not compute", function()
      not_computed("LoRA shapes for other modules are not computed", shapes.for_module("lora", cfg("LoraConfig"),
        { kind = "other" }))
      not_computed("KaSA does not support fan_in_fan_out", shapes.for_module("lora", cfg("LoraConfig",
        { kasa_config = {} }), C_ATTN))
      not_computed("monteclora_config are not computed", shapes.for_module("lora", cfg("LoraConfig",
        { monteclora_config = {} }), Q))
      not_computed("variant combination", shapes.for_module("lora", cfg("LoraConfig",
        { use_dora = true, kasa_config = {} }), Q))
      not_computed("not available for this layer type", shapes.for_module("lora", cfg("LoraConfig",
        { kasa_config = {} }), EMB))
      -- PiSSA with r above min(in, out) truncates the factors: not computed
      not_computed("data-driven initialisation", shapes.for_module("lora", cfg("LoraConfig",
        { init_lora_weights = "pissa" }), { kind = "linear", in_features = 4, out_features = 4 }, { r = 8 }))
      not_computed("in_features", shapes.for_module("lora", cfg("LoraConfig"), { kind = "linear" }))
    end)

    it("has no shared parameters", function()
      assert.are.same({}, shapes.shared("lora", cfg("LoraConfig"), { modules = { Q } }))
    end)
  end)

  describe("AdaLoRA", function()
    it("starts from init_r, with ranknum frozen", function()
      -- init_r = 12: lora_A (12, 4096) = 49152; lora_B (4096, 12) = 49152; lora_E (12, 1) = 12;
      -- ranknum (1,) requires_grad=False. Total 98317, trainable 98316.
      local list, err = shapes.for_module("adalora", cfg("AdaLoraConfig", { total_step = 1000 }), Q, { r = 8 })
      check(list, err, {
        ["lora_A.default"] = { 12, 4096 },
        ["lora_B.default"] = { 4096, 12 },
        ["lora_E.default"] = { 12, 1 },
        ["ranknum.default"] = { 1 },
      }, 98317, 98316)
      assert.are.same({ "lora_A.default", "lora_B.default", "lora_E.default", "ranknum.default" }, names(list))
      assert.is_false(trainable_of(list)["ranknum.default"])
    end)

    it("Conv2d flattens the kernel into lora_A", function()
      -- init_r = 4: lora_A (4, 64*3*3 = 576) = 2304; lora_B (128, 4) = 512; lora_E 4; ranknum 1 -> 2821
      local list, err = shapes.for_module("adalora", cfg("AdaLoraConfig", { total_step = 10, init_r = 4 }), CONV)
      check(list, err, {
        ["lora_A.default"] = { 4, 576 },
        ["lora_B.default"] = { 128, 4 },
        ["lora_E.default"] = { 4, 1 },
        ["ranknum.default"] = { 1 },
      }, 2821, 2820)
    end)

    it("does not adapt embeddings", function()
      not_computed("AdaLoRA shapes for embedding modules are not computed",
        shapes.for_module("adalora", cfg("AdaLoraConfig", { total_step = 10 }), EMB))
    end)
  end)

  describe("LoHa", function()
    it("Linear 4096 -> 4096, r = 8", function()
      -- shape (4096, 4096): w1_a (4096, 8), w1_b (8, 4096), w2_a (4096, 8), w2_b (8, 4096): 4 * 32768 = 131072
      local list, err = shapes.for_module("loha", cfg("LoHaConfig", { r = 8 }), Q, { r = 8 })
      check(list, err, {
        ["hada_w1_a.default"] = { 4096, 8 },
        ["hada_w1_b.default"] = { 8, 4096 },
        ["hada_w2_a.default"] = { 4096, 8 },
        ["hada_w2_b.default"] = { 8, 4096 },
      }, 131072)
    end)

    it("Conv2d 3x3: flattened, or CP-decomposed with use_effective_conv2d", function()
      -- flattened shape (128, 64*9 = 576), r = 4: w1_a (128, 4) = 512, w1_b (4, 576) = 2304; twice: 5632
      local list, err = shapes.for_module("loha", cfg("LoHaConfig", { r = 4 }), CONV, { r = 4 })
      check(list, err, {
        ["hada_w1_a.default"] = { 128, 4 },
        ["hada_w1_b.default"] = { 4, 576 },
        ["hada_w2_a.default"] = { 128, 4 },
        ["hada_w2_b.default"] = { 4, 576 },
      }, 5632)
      -- effective: t1, t2 (4, 4, 3, 3) = 144 each; w*_a (4, 128) = 512; w*_b (4, 64) = 256:
      -- 2 * (144 + 512 + 256) = 1824
      list, err = shapes.for_module("loha", cfg("LoHaConfig", { r = 4, use_effective_conv2d = true }), CONV, { r = 4 })
      check(list, err, {
        ["hada_w1_a.default"] = { 4, 128 },
        ["hada_w1_b.default"] = { 4, 64 },
        ["hada_w2_a.default"] = { 4, 128 },
        ["hada_w2_b.default"] = { 4, 64 },
        ["hada_t1.default"] = { 4, 4, 3, 3 },
        ["hada_t2.default"] = { 4, 4, 3, 3 },
      }, 1824)
    end)

    it("a 1x1 Conv2d ignores use_effective_conv2d", function()
      -- shape (128, 64): w1_a (128, 4) = 512, w1_b (4, 64) = 256; twice: 1536
      local list, err = shapes.for_module("loha", cfg("LoHaConfig", { r = 4, use_effective_conv2d = true }), CONV1x1,
        { r = 4 })
      check(list, err, {
        ["hada_w1_a.default"] = { 128, 4 },
        ["hada_w1_b.default"] = { 4, 64 },
        ["hada_w2_a.default"] = { 128, 4 },
        ["hada_w2_b.default"] = { 4, 64 },
      }, 1536)
    end)

    it("does not compute Conv1D or embeddings", function()
      not_computed("LoHa shapes for conv1d modules are not computed",
        shapes.for_module("loha", cfg("LoHaConfig"), C_ATTN))
      not_computed("LoHa shapes for embedding modules are not computed",
        shapes.for_module("loha", cfg("LoHaConfig"), EMB))
    end)
  end)

  describe("LoKr", function()
    it("factorizes like PEFT", function()
      -- docstring examples of lokr.layer.factorization
      assert.are.same({ 16, 16 }, { shapes.lokr_factorization(256, -1) })
      assert.are.same({ 8, 16 }, { shapes.lokr_factorization(128, -1) })
      assert.are.same({ 1, 127 }, { shapes.lokr_factorization(127, -1) })
      assert.are.same({ 4, 32 }, { shapes.lokr_factorization(128, 4) })
      -- 4096 = 64 * 64; 11008 = 2^8 * 43: divisors below sqrt end at 86 (86 * 128)
      assert.are.same({ 64, 64 }, { shapes.lokr_factorization(4096, -1) })
      assert.are.same({ 86, 128 }, { shapes.lokr_factorization(11008, -1) })
      -- a divisor factor is returned as is, unsorted: (64, 2)
      assert.are.same({ 64, 2 }, { shapes.lokr_factorization(128, 64) })
    end)

    it("Linear 4096 -> 4096, r = 8: full w1, low-rank w2", function()
      -- in (64, 64), out (64, 64). use_w1: decompose_both false -> w1 (64, 64) = 4096.
      -- use_w2: not (8 < 64/2) = false -> w2_a (64, 8) = 512, w2_b (8, 64) = 512. Total 5120.
      local list, err = shapes.for_module("lokr", cfg("LoKrConfig", { r = 8 }), Q, { r = 8 })
      check(list, err, {
        ["lokr_w1.default"] = { 64, 64 },
        ["lokr_w2_a.default"] = { 64, 8 },
        ["lokr_w2_b.default"] = { 8, 64 },
      }, 5120)
    end)

    it("a large rank uses a full w2", function()
      -- r = 32: 32 < 64/2 is false -> use_w2: w2 (64, 64). Total 4096 + 4096 = 8192
      local list, err = shapes.for_module("lokr", cfg("LoKrConfig", { r = 32 }), Q, { r = 32 })
      check(list, err, { ["lokr_w1.default"] = { 64, 64 }, ["lokr_w2.default"] = { 64, 64 } }, 8192)
    end)

    it("decompose_both on up_proj 4096 -> 11008", function()
      -- in (64, 64), out (86, 128). use_w1: 8 < max(86, 64)/2 = 43 -> w1_a (86, 8) = 688, w1_b (8, 64) = 512.
      -- use_w2: 8 < max(128, 64)/2 = 64 -> w2_a (128, 8) = 1024, w2_b (8, 64) = 512. Total 2736.
      local list, err = shapes.for_module("lokr", cfg("LoKrConfig", { r = 8, decompose_both = true }), UP, { r = 8 })
      check(list, err, {
        ["lokr_w1_a.default"] = { 86, 8 },
        ["lokr_w1_b.default"] = { 8, 64 },
        ["lokr_w2_a.default"] = { 128, 8 },
        ["lokr_w2_b.default"] = { 8, 64 },
      }, 2736)
      assert.are.same({ "lokr_w1_a.default", "lokr_w1_b.default", "lokr_w2_a.default", "lokr_w2_b.default" },
        names(list))
    end)

    it("decompose_factor = 8", function()
      -- factorization(4096, 8) = (8, 512) for in and out. w1 (8, 8) = 64;
      -- 8 < 512/2 -> w2_a (512, 8) = 4096, w2_b (8, 512) = 4096. Total 8256
      local list, err = shapes.for_module("lokr", cfg("LoKrConfig", { r = 8, decompose_factor = 8 }), Q, { r = 8 })
      check(list, err, {
        ["lokr_w1.default"] = { 8, 8 },
        ["lokr_w2_a.default"] = { 512, 8 },
        ["lokr_w2_b.default"] = { 8, 512 },
      }, 8256)
    end)

    it("Conv2d 64 -> 128, 3x3, r = 4", function()
      -- in 64 -> (8, 8); out 128 -> (8, 16). w1 (8, 8) = 64. use_w2: 4 >= max(16, 8)/2 = 8 false.
      -- flattened: w2_a (16, 4) = 64, w2_b (4, 8*3*3 = 72) = 288. Total 416
      local list, err = shapes.for_module("lokr", cfg("LoKrConfig", { r = 4 }), CONV, { r = 4 })
      check(list, err, {
        ["lokr_w1.default"] = { 8, 8 },
        ["lokr_w2_a.default"] = { 16, 4 },
        ["lokr_w2_b.default"] = { 4, 72 },
      }, 416)
      -- effective: w2_a (4, 16) = 64, w2_b (4, 8) = 32, t2 (4, 4, 3, 3) = 144. Total 64 + 64 + 32 + 144 = 304
      list, err = shapes.for_module("lokr", cfg("LoKrConfig", { r = 4, use_effective_conv2d = true }), CONV, { r = 4 })
      check(list, err, {
        ["lokr_w1.default"] = { 8, 8 },
        ["lokr_w2_a.default"] = { 4, 16 },
        ["lokr_w2_b.default"] = { 4, 8 },
        ["lokr_t2.default"] = { 4, 4, 3, 3 },
      }, 304)
      -- r = 8 >= 16/2: full w2 (16, 8, 3, 3) = 1152; total 64 + 1152 = 1216
      list, err = shapes.for_module("lokr", cfg("LoKrConfig", { r = 8 }), CONV, { r = 8 })
      check(list, err, { ["lokr_w1.default"] = { 8, 8 }, ["lokr_w2.default"] = { 16, 8, 3, 3 } }, 1216)
    end)

    it("does not compute Conv1D", function()
      not_computed("LoKr shapes for conv1d modules are not computed",
        shapes.for_module("lokr", cfg("LoKrConfig"), C_ATTN))
    end)
  end)

  describe("IA3", function()
    local ia3 = cfg("IA3Config", { target_modules = { "q_proj", "down_proj" }, feedforward_modules = { "down_proj" } })

    it("scales the output of attention layers", function()
      -- not feedforward: (out_features, 1) = (4096, 1)
      local list, err = shapes.for_module("ia3", ia3, Q, { is_feedforward = false })
      check(list, err, { ["ia3_l.default"] = { 4096, 1 } }, 4096)
    end)

    it("scales the input of feedforward layers", function()
      -- feedforward: (1, in_features) = (1, 11008)
      local list, err = shapes.for_module("ia3", ia3, DOWN, { is_feedforward = true })
      check(list, err, { ["ia3_l.default"] = { 1, 11008 } }, 11008)
    end)

    it("finds is_feedforward from feedforward_modules by name suffix", function()
      check(shapes.for_module("ia3", ia3, DOWN), nil, { ["ia3_l.default"] = { 1, 11008 } }, 11008)
      check(shapes.for_module("ia3", ia3, Q), nil, { ["ia3_l.default"] = { 4096, 1 } }, 4096)
    end)

    it("Conv2d and Conv1D", function()
      -- Conv2d not feedforward: (1, 128, 1, 1) = 128; feedforward: (1, 64, 1, 1) = 64
      check(shapes.for_module("ia3", ia3, CONV, { is_feedforward = false }), nil,
        { ["ia3_l.default"] = { 1, 128, 1, 1 } }, 128)
      check(shapes.for_module("ia3", ia3, CONV, { is_feedforward = true }), nil,
        { ["ia3_l.default"] = { 1, 64, 1, 1 } }, 64)
      -- Conv1D 768 -> 2304 is an ia3.Linear: (2304, 1)
      check(shapes.for_module("ia3", ia3, C_ATTN, { is_feedforward = false }), nil,
        { ["ia3_l.default"] = { 2304, 1 } }, 2304)
    end)

    it("does not adapt embeddings", function()
      not_computed("IA3 shapes for embedding modules are not computed",
        shapes.for_module("ia3", ia3, EMB, { is_feedforward = false }))
    end)
  end)

  describe("VeRA", function()
    local vera = cfg("VeraConfig", { r = 256 })

    it("per module: lambda_b of out_features, lambda_d of r", function()
      -- vera_lambda_b (4096,) + vera_lambda_d (256,) = 4352
      local list, err = shapes.for_module("vera", vera, Q)
      check(list, err, { ["vera_lambda_b.default"] = { 4096 }, ["vera_lambda_d.default"] = { 256 } }, 4352)
      -- k_proj: (1024,) + (256,) = 1280
      check(shapes.for_module("vera", vera, K), nil,
        { ["vera_lambda_b.default"] = { 1024 }, ["vera_lambda_d.default"] = { 256 } }, 1280)
    end)

    it("shared vera_A / vera_B sized from the largest targeted in and out features", function()
      -- targeted: q (4096 -> 4096), k (4096 -> 1024), down (11008 -> 4096): max in 11008, max out 4096.
      -- vera_A (r, max_in) = (256, 11008) = 2818048; vera_B (max_out, r) = (4096, 256) = 1048576.
      -- Both are buffers (not parameters, never trainable), saved with save_projection (default true).
      local list, err = shapes.shared("vera", vera, { modules = { Q, K, DOWN } }, "default")
      assert(list, err)
      assert.are.same({
        ["base_model.vera_A.default"] = { 256, 11008 },
        ["base_model.vera_B.default"] = { 4096, 256 },
      }, by_name(list))
      for _, e in ipairs(list) do
        assert.is_true(e.buffer)
        assert.is_false(e.trainable)
        assert.is_true(e.saved)
      end
      assert.are.equal(2818048, list[1].numel)
      assert.are.equal(1048576, list[2].numel)
      assert.are.same({ 0, 0 }, { shapes.numel(list) })
    end)

    it("save_projection = false: buffers not saved; non-linear modules are ignored for the size", function()
      local list = shapes.shared("vera", cfg("VeraConfig", { r = 8, save_projection = false }),
        { modules = { K, EMB } }, "a")
      -- only k_proj counts: vera_A (8, 4096), vera_B (1024, 8)
      assert.are.same({ ["base_model.vera_A.a"] = { 8, 4096 }, ["base_model.vera_B.a"] = { 1024, 8 } },
        by_name(list))
      assert.is_false(list[1].saved)
      not_computed("no layer types compatible", shapes.shared("vera", vera, { modules = { EMB } }))
    end)

    it("does not adapt embeddings or convolutions", function()
      not_computed("VeRA shapes for embedding modules are not computed", shapes.for_module("vera", vera, EMB))
      not_computed("VeRA shapes for conv2d modules are not computed", shapes.for_module("vera", vera, CONV))
    end)
  end)

  describe("OFT", function()
    it("default oft_block_size = 32 on 4096 input features", function()
      -- r = 4096 / 32 = 128 blocks; skew-symmetric params per block 32*31/2 = 496: (128, 496) = 63488
      local list, err = shapes.for_module("oft", cfg("OFTConfig"), Q)
      check(list, err, { ["oft_R.default.weight"] = { 128, 496 } }, 63488)
    end)

    it("block_share keeps one block", function()
      -- (1, 496) = 496
      check(shapes.for_module("oft", cfg("OFTConfig", { block_share = true }), Q), nil,
        { ["oft_R.default.weight"] = { 1, 496 } }, 496)
    end)

    it("r given instead of the block size", function()
      -- r = 8: block size 4096 / 8 = 512; 512*511/2 = 130816: (8, 130816) = 1046528
      check(shapes.for_module("oft", cfg("OFTConfig", { r = 8, oft_block_size = 0 }), Q), nil,
        { ["oft_R.default.weight"] = { 8, 130816 } }, 1046528)
    end)

    it("adjusts a block size that does not divide in_features, as PEFT does", function()
      -- in 1000, block 32: divisors around 32 are 25 and 40; 32 - 25 = 7 <= 40 - 32 = 8 -> 25.
      -- r = 1000 / 25 = 40; 25*24/2 = 300: (40, 300) = 12000
      local m = { kind = "linear", in_features = 1000, out_features = 1000 }
      local list, err = shapes.for_module("oft", cfg("OFTConfig"), m)
      check(list, err, { ["oft_R.default.weight"] = { 40, 300 } }, 12000)
      assert.are.equal(25, shapes.oft_adjust_parameters(1000, 32))
    end)

    it("coft adds no parameters", function()
      check(shapes.for_module("oft", cfg("OFTConfig", { coft = true }), Q), nil,
        { ["oft_R.default.weight"] = { 128, 496 } }, 63488)
    end)

    it("Conv2d uses in_channels * k * k", function()
      -- 64 * 3 * 3 = 576 = 18 * 32: (18, 496) = 8928
      check(shapes.for_module("oft", cfg("OFTConfig"), CONV), nil, { ["oft_R.default.weight"] = { 18, 496 } }, 8928)
    end)

    it("embeddings rotate embedding_dim in oft_embedding_R", function()
      -- embedding_dim 4096: (128, 496) = 63488
      check(shapes.for_module("oft", cfg("OFTConfig"), EMB), nil,
        { ["oft_embedding_R.default.weight"] = { 128, 496 } }, 63488)
    end)

    it("does not compute Conv1D", function()
      not_computed("OFT shapes for conv1d modules are not computed", shapes.for_module("oft", cfg("OFTConfig"), C_ATTN))
    end)
  end)

  describe("BOFT", function()
    it("boft_block_size = 4, one butterfly factor", function()
      -- block_num = 4096 / 4 = 1024; boft_R (1, 1024, 4, 4) = 16384; boft_s (4096, 1) = 4096; total 20480
      local list, err = shapes.for_module("boft", cfg("BOFTConfig", { boft_block_size = 4 }), Q)
      check(list, err, { ["boft_R.default"] = { 1, 1024, 4, 4 }, ["boft_s.default"] = { 4096, 1 } }, 20480)
    end)

    it("boft_block_num = 8 with two butterfly factors", function()
      -- block_size = 4096 / 8 = 512; factor 2 -> 2 stacked: (2, 8, 512, 512) = 4194304; + 4096 = 4198400
      local c = cfg("BOFTConfig", { boft_block_size = 0, boft_block_num = 8, boft_n_butterfly_factor = 2 })
      check(shapes.for_module("boft", c, Q), nil,
        { ["boft_R.default"] = { 2, 8, 512, 512 }, ["boft_s.default"] = { 4096, 1 } }, 4198400)
      -- without the fbd_cuda extension PEFT forces one factor: (1, 8, 512, 512) = 2097152; + 4096 = 2101248
      check(shapes.for_module("boft", c, Q, { boft_fbd_cuda = false }), nil,
        { ["boft_R.default"] = { 1, 8, 512, 512 }, ["boft_s.default"] = { 4096, 1 } }, 2101248)
    end)

    it("Conv2d: in_channels * k * k, boft_s (1, out)", function()
      -- 64 * 3 * 3 = 576; block_size 8 -> 72 blocks: (1, 72, 8, 8) = 4608; boft_s (1, 128) = 128; total 4736
      check(shapes.for_module("boft", cfg("BOFTConfig", { boft_block_size = 8 }), CONV), nil,
        { ["boft_R.default"] = { 1, 72, 8, 8 }, ["boft_s.default"] = { 1, 128 } }, 4736)
    end)

    it("reports PEFT's errors and unsupported layers", function()
      not_computed("must be divisible by boft_block_size",
        shapes.for_module("boft", cfg("BOFTConfig", { boft_block_size = 5 }), Q))
      not_computed("BOFT shapes for embedding modules are not computed",
        shapes.for_module("boft", cfg("BOFTConfig"), EMB))
      not_computed("BOFT shapes for conv1d modules are not computed",
        shapes.for_module("boft", cfg("BOFTConfig"), C_ATTN))
    end)
  end)

  describe("prompt tuning", function()
    it("num_virtual_tokens x token_dim", function()
      -- (20 * 1, 4096) = 81920
      local list, err = shapes.shared("prompt_tuning", cfg("PromptTuningConfig",
        { num_virtual_tokens = 20, token_dim = 4096 }), {}, "default")
      check(list, err, { ["prompt_encoder.default.embedding.weight"] = { 20, 4096 } }, 81920)
    end)

    it("token_dim from the model, two submodules for seq2seq", function()
      -- T5: hidden_size 768, SEQ_2_SEQ_LM -> num_transformer_submodules 2: (40, 768) = 30720
      local list, err = shapes.shared("prompt_tuning", cfg("PromptTuningConfig",
        { num_virtual_tokens = 20, task_type = "SEQ_2_SEQ_LM" }), { hidden_size = 768 })
      check(list, err, { ["prompt_encoder.default.embedding.weight"] = { 40, 768 } }, 30720)
    end)

    it("names the missing field", function()
      not_computed("token_dim is null", shapes.shared("prompt_tuning", cfg("PromptTuningConfig",
        { num_virtual_tokens = 20 }), {}))
    end)
  end)

  describe("prefix tuning", function()
    it("without projection: one embedding of num_layers * 2 * token_dim", function()
      -- (20, 32 * 2 * 4096 = 262144) = 5242880
      local list, err = shapes.shared("prefix_tuning", cfg("PrefixTuningConfig", { num_virtual_tokens = 20 }),
        { hidden_size = 4096, num_layers = 32, num_attention_heads = 32 })
      check(list, err, { ["prompt_encoder.default.embedding.weight"] = { 20, 262144 } }, 5242880)
    end)

    it("with prefix_projection: embedding + two-layer MLP", function()
      -- GPT-2: D = 768, L = 12, encoder_hidden_size 512, 10 tokens.
      -- embedding (10, 768) = 7680; transform.0 (512, 768) = 393216 + bias 512;
      -- transform.2 (12*2*768 = 18432, 512) = 9437184 + bias 18432. Total 9857024
      local c = cfg("PrefixTuningConfig", { num_virtual_tokens = 10, prefix_projection = true,
                                            encoder_hidden_size = 512 })
      local list, err = shapes.shared("prefix_tuning", c, { hidden_size = 768, num_layers = 12 })
      check(list, err, {
        ["prompt_encoder.default.embedding.weight"] = { 10, 768 },
        ["prompt_encoder.default.transform.0.weight"] = { 512, 768 },
        ["prompt_encoder.default.transform.0.bias"] = { 512 },
        ["prompt_encoder.default.transform.2.weight"] = { 18432, 512 },
        ["prompt_encoder.default.transform.2.bias"] = { 18432 },
      }, 9857024)
    end)

    it("encoder_hidden_size defaults to token_dim; inference_mode drops the MLP", function()
      -- encoder_hidden_size = D = 768: transform.0 (768, 768), transform.2 (18432, 768)
      local list = shapes.shared("prefix_tuning", cfg("PrefixTuningConfig",
        { num_virtual_tokens = 10, prefix_projection = true }), { hidden_size = 768, num_layers = 12 })
      assert.are.same({ 768, 768 }, by_name(list)["prompt_encoder.default.transform.0.weight"])
      assert.are.same({ 18432, 768 }, by_name(list)["prompt_encoder.default.transform.2.weight"])
      -- inference_mode: (10, 18432) = 184320
      list = shapes.shared("prefix_tuning", cfg("PrefixTuningConfig",
        { num_virtual_tokens = 10, prefix_projection = true, inference_mode = true }),
        { hidden_size = 768, num_layers = 12 })
      check(list, nil, { ["prompt_encoder.default.embedding.weight"] = { 10, 18432 } }, 184320)
    end)

    it("grouped-query attention shrinks token_dim to head_dim * num_key_value_heads", function()
      -- Llama 3 8B: hidden 4096, 32 heads, 8 KV heads: head_dim 128, token_dim 1024.
      -- (20, 32 * 2 * 1024 = 65536) = 1310720
      local list, err = shapes.shared("prefix_tuning", cfg("PrefixTuningConfig", { num_virtual_tokens = 20 }),
        { hidden_size = 4096, num_layers = 32, num_attention_heads = 32, num_key_value_heads = 8 })
      check(list, err, { ["prompt_encoder.default.embedding.weight"] = { 20, 65536 } }, 1310720)
    end)

    it("names the missing field", function()
      not_computed("num_layers is null", shapes.shared("prefix_tuning", cfg("PrefixTuningConfig",
        { num_virtual_tokens = 20 }), { hidden_size = 768 }))
    end)
  end)

  describe("P-tuning", function()
    it("MLP encoder", function()
      -- D = 768, h = 128, 20 tokens: embedding (20, 768) = 15360; mlp_head.0 (128, 768) = 98304 + 128;
      -- mlp_head.2 (128, 128) = 16384 + 128; mlp_head.4 (768, 128) = 98304 + 768. Total 229376
      local list, err = shapes.shared("p_tuning", cfg("PromptEncoderConfig",
        { num_virtual_tokens = 20, encoder_hidden_size = 128 }), { hidden_size = 768 })
      check(list, err, {
        ["prompt_encoder.default.embedding.weight"] = { 20, 768 },
        ["prompt_encoder.default.mlp_head.0.weight"] = { 128, 768 },
        ["prompt_encoder.default.mlp_head.0.bias"] = { 128 },
        ["prompt_encoder.default.mlp_head.2.weight"] = { 128, 128 },
        ["prompt_encoder.default.mlp_head.2.bias"] = { 128 },
        ["prompt_encoder.default.mlp_head.4.weight"] = { 768, 128 },
        ["prompt_encoder.default.mlp_head.4.bias"] = { 768 },
      }, 229376)
    end)

    it("LSTM encoder: two bidirectional layers and a two-layer head", function()
      -- h = 128, D = 768. Layer 0, per direction: weight_ih (512, 768) = 393216, weight_hh (512, 128) = 65536,
      -- two biases 512 each: 459776; both directions 919552. Layer 1 input 2h = 256: weight_ih (512, 256) =
      -- 131072 + 65536 + 1024 = 197632; both 395264. mlp_head.0 (256, 256) + 256 = 65792;
      -- mlp_head.2 (768, 256) + 768 = 197376. Embedding 15360.
      -- Total 15360 + 919552 + 395264 + 65792 + 197376 = 1593344
      local list, err = shapes.shared("p_tuning", cfg("PromptEncoderConfig", { num_virtual_tokens = 20,
        encoder_hidden_size = 128, encoder_reparameterization_type = "LSTM" }), { hidden_size = 768 })
      assert(list, err)
      local s = by_name(list)
      assert.are.same({ 512, 768 }, s["prompt_encoder.default.lstm_head.weight_ih_l0"])
      assert.are.same({ 512, 768 }, s["prompt_encoder.default.lstm_head.weight_ih_l0_reverse"])
      assert.are.same({ 512, 256 }, s["prompt_encoder.default.lstm_head.weight_ih_l1"])
      assert.are.same({ 512, 128 }, s["prompt_encoder.default.lstm_head.weight_hh_l1_reverse"])
      assert.are.same({ 512 }, s["prompt_encoder.default.lstm_head.bias_hh_l1"])
      assert.are.same({ 256, 256 }, s["prompt_encoder.default.mlp_head.0.weight"])
      assert.are.same({ 768, 256 }, s["prompt_encoder.default.mlp_head.2.weight"])
      assert.are.equal(1 + 16 + 4, #list)
      assert.are.same({ 1593344, 1593344 }, { shapes.numel(list) })
    end)

    it("encoder_hidden_size defaults to token_dim; inference mode keeps only the embedding", function()
      -- h = D = 768: mlp_head.0 (768, 768)
      local list = shapes.shared("p_tuning", cfg("PromptEncoderConfig", { num_virtual_tokens = 20 }),
        { hidden_size = 768 })
      assert.are.same({ 768, 768 }, by_name(list)["prompt_encoder.default.mlp_head.0.weight"])
      list = shapes.shared("p_tuning", cfg("PromptEncoderConfig", { num_virtual_tokens = 20,
        inference_mode = true }), { hidden_size = 768 })
      check(list, nil, { ["prompt_encoder.default.embedding.weight"] = { 20, 768 } }, 15360)
    end)
  end)

  describe("multitask prompt tuning", function()
    it("embedding plus per-task low-rank factors", function()
      -- T = 20, D = 768, 3 tasks, 1 rank: embedding (20, 768) = 15360; prefix_task_cols (3, 20, 1) = 60;
      -- prefix_task_rows (3, 1, 768) = 2304. Total 17724
      local list, err = shapes.shared("multitask_prompt_tuning", cfg("MultitaskPromptTuningConfig",
        { num_virtual_tokens = 20, num_tasks = 3 }), { hidden_size = 768 })
      check(list, err, {
        ["prompt_encoder.default.embedding.weight"] = { 20, 768 },
        ["prompt_encoder.default.prefix_task_cols"] = { 3, 20, 1 },
        ["prompt_encoder.default.prefix_task_rows"] = { 3, 1, 768 },
      }, 17724)
    end)
  end)

  describe("CPT and Cartridge", function()
    it("CPT: a frozen embedding and a trained delta", function()
      -- 5 context tokens, D = 768: embedding (5, 768) = 3840 frozen, delta_embedding (5, 768) = 3840
      local c = cfg("CPTConfig", { cpt_token_ids = { 1, 2, 3, 4, 5 }, cpt_mask = { 1, 1, 1, 1, 1 },
                                   cpt_tokens_type_mask = { 1, 2, 2, 3, 3 }, task_type = "CAUSAL_LM" })
      check(shapes.shared("cpt", c, { hidden_size = 768 }), nil, {
        ["prompt_encoder.default.embedding.weight"] = { 5, 768 },
        ["prompt_encoder.default.delta_embedding.weight"] = { 5, 768 },
      }, 7680, 3840)
    end)

    it("Cartridge: frozen and trainable KV prefix rows", function()
      -- 16 tokens, 2 frozen, L = 12, D = 768: width 12*2*768 = 18432.
      -- frozen (2, 18432) = 36864; trainable (14, 18432) = 258048. Total 294912
      local c = cfg("CartridgeConfig", { num_virtual_tokens = 16, num_frozen_tokens = 2 })
      check(shapes.shared("cartridge", c, { hidden_size = 768, num_layers = 12 }), nil, {
        ["prompt_encoder.default.frozen_embedding"] = { 2, 18432 },
        ["prompt_encoder.default.trainable_embedding"] = { 14, 18432 },
      }, 294912, 258048)
    end)
  end)

  describe("other methods", function()
    it("HRA", function()
      -- Linear: hra_u (in, r) = (4096, 8) = 32768; Conv2d: (64*3*3 = 576, 8) = 4608
      check(shapes.for_module("hra", cfg("HRAConfig"), Q), nil, { ["hra_u.default"] = { 4096, 8 } }, 32768)
      check(shapes.for_module("hra", cfg("HRAConfig"), CONV), nil, { ["hra_u.default"] = { 576, 8 } }, 4608)
    end)

    it("MiSS", function()
      -- default r = 64: miss_block (64, 4096) = 262144
      check(shapes.for_module("miss", cfg("MissConfig"), Q), nil, { ["miss_block.default"] = { 64, 4096 } }, 262144)
      -- bat: (4096 / 64, 64, 64) = (64, 64, 64) = 262144; k_proj bat: (1024/64 = 16, 64, 64) = 65536
      check(shapes.for_module("miss", cfg("MissConfig", { init_weights = "bat" }), K), nil,
        { ["miss_block.default"] = { 16, 64, 64 } }, 65536)
      -- mini, mini_r = 16: (64, 16) = 1024
      check(shapes.for_module("miss", cfg("MissConfig", { init_weights = "mini", mini_r = 16 }), Q), nil,
        { ["miss_block.default"] = { 64, 16 } }, 1024)
      not_computed("MiSS shapes for conv1d modules are not computed",
        shapes.for_module("miss", cfg("MissConfig"), C_ATTN))
    end)

    it("FourierFT, with n_frequency_pattern", function()
      -- default n_frequency 1000: spectrum (1000,)
      check(shapes.for_module("fourierft", cfg("FourierFTConfig"), Q), nil,
        { ["fourierft_spectrum.default"] = { 1000 } }, 1000)
      -- pattern {q_proj = 3000} matches ".*\.q_proj$": (3000,); k_proj keeps 1000
      local c = cfg("FourierFTConfig", { n_frequency_pattern = { q_proj = 3000 } })
      check(shapes.for_module("fourierft", c, Q), nil, { ["fourierft_spectrum.default"] = { 3000 } }, 3000)
      check(shapes.for_module("fourierft", c, K), nil, { ["fourierft_spectrum.default"] = { 1000 } }, 1000)
      -- Conv1D is supported
      check(shapes.for_module("fourierft", cfg("FourierFTConfig"), C_ATTN), nil,
        { ["fourierft_spectrum.default"] = { 1000 } }, 1000)
    end)

    it("RandLoRA, per module and shared bases", function()
      -- r = 32 on q_proj: num_bases = ceil(4096 / 32) = 128. lambda (32, 128) = 4096;
      -- gamma (128, min(4096, 4096)) = 524288. Total 528384
      check(shapes.for_module("randlora", cfg("RandLoraConfig"), Q), nil, {
        ["randlora_lambda.default"] = { 32, 128 },
        ["randlora_gamma.default"] = { 128, 4096 },
      }, 528384)
      -- k_proj 4096 -> 1024, r = 30: num_bases = ceil(1024 / 30) = 35 (34.13 rounded up).
      -- lambda (30, 35) = 1050; gamma (35, 1024) = 35840
      check(shapes.for_module("randlora", cfg("RandLoraConfig", { r = 30 }), K), nil, {
        ["randlora_lambda.default"] = { 30, 35 },
        ["randlora_gamma.default"] = { 35, 1024 },
      }, 36890)
      -- shared over q and k: largest (out, in) = (4096, 4096): A (32, 1, 4096), B (4096, 128, 32), buffers
      local list = shapes.shared("randlora", cfg("RandLoraConfig"), { modules = { Q, K } })
      assert.are.same({
        ["base_model.randlora_A.default"] = { 32, 1, 4096 },
        ["base_model.randlora_B.default"] = { 4096, 128, 32 },
      }, by_name(list))
      assert.is_true(list[1].buffer)
    end)

    it("PVeRA", function()
      -- r = 16: lambda_b (4096,), lambda_d (2r = 32,): 4128
      check(shapes.for_module("pvera", cfg("PveraConfig", { r = 16 }), Q), nil, {
        ["pvera_lambda_b.default"] = { 4096 },
        ["pvera_lambda_d.default"] = { 32 },
      }, 4128)
      -- shared over q and down: max in 11008, max out 4096: A (32, 11008), B (4096, 16)
      assert.are.same({
        ["base_model.pvera_A.default"] = { 32, 11008 },
        ["base_model.pvera_B.default"] = { 4096, 16 },
      }, by_name(shapes.shared("pvera", cfg("PveraConfig", { r = 16 }), { modules = { Q, DOWN } })))
    end)

    it("VBLoRA: logits per module, one vector bank", function()
      -- r = 4, 256 vectors of length 256: logits_A (4, 4096/256 = 16, 256) = 16384;
      -- logits_B (16, 4, 256) = 16384. Total 32768
      check(shapes.for_module("vblora", cfg("VBLoRAConfig"), Q), nil, {
        ["vblora_logits_A.default"] = { 4, 16, 256 },
        ["vblora_logits_B.default"] = { 16, 4, 256 },
      }, 32768)
      -- vector bank (256, 256) = 65536, trainable
      check(shapes.shared("vblora", cfg("VBLoRAConfig"), { modules = { Q } }), nil,
        { ["base_model.vblora_vector_bank.default"] = { 256, 256 } }, 65536)
    end)

    it("C3A, BEFT, DeLoRA, RoAd, SHiRA", function()
      -- C3A block 256: c3a_kernel (4096/256, 4096/256, 256) = (16, 16, 256) = 65536
      check(shapes.for_module("c3a", cfg("C3AConfig"), Q), nil, { ["c3a_kernel.default"] = { 16, 16, 256 } }, 65536)
      -- BEFT: beft_bias (1, out) = 4096
      check(shapes.for_module("beft", cfg("BeftConfig"), Q), nil, { ["beft_bias.default"] = { 1, 4096 } }, 4096)
      -- DeLoRA r = 8: A (8, 4096) = 32768, B (4096, 8) = 32768, lambda (1,): 65537
      check(shapes.for_module("delora", cfg("DeloraConfig"), Q), nil, {
        ["delora_A.default"] = { 8, 4096 },
        ["delora_B.default"] = { 4096, 8 },
        ["delora_lambda.default"] = { 1 },
      }, 65537)
      -- RoAd road_1: theta and alpha of out/2 = 2048 each: 4096
      check(shapes.for_module("road", cfg("RoadConfig"), Q), nil,
        { ["road_theta.default"] = { 2048 }, ["road_alpha.default"] = { 2048 } }, 4096)
      -- SHiRA r = 32: 32 * (4096 + 4096) = 262144
      check(shapes.for_module("shira", cfg("ShiraConfig"), Q), nil, { ["shira_weight.default"] = { 262144 } }, 262144)
    end)

    it("LN tuning copies the module's parameters", function()
      -- RMSNorm weight (4096,)
      check(shapes.for_module("ln_tuning", cfg("LNTuningConfig"), LN), nil,
        { ["ln_tuning_layers.default.weight"] = { 4096 } }, 4096)
      -- a Linear with bias: weight (1024, 4096) = 4194304 + bias 1024
      local lin = { kind = "linear", in_features = 4096, out_features = 1024, has_bias = true }
      check(shapes.for_module("ln_tuning", cfg("LNTuningConfig"), lin), nil, {
        ["ln_tuning_layers.default.weight"] = { 1024, 4096 },
        ["ln_tuning_layers.default.bias"] = { 1024 },
      }, 4195328)
      not_computed("LN tuning shapes for other modules are not computed",
        shapes.for_module("ln_tuning", cfg("LNTuningConfig"), { kind = "other" }))
    end)

    it("trainable tokens: one row per token index", function()
      -- 3 indices on embed_tokens (32000 x 4096): (3, 4096) = 12288
      check(shapes.for_module("trainable_tokens", cfg("TrainableTokensConfig", { token_indices = { 0, 1, 2 } }),
        EMB), nil, { ["trainable_tokens_delta.default"] = { 3, 4096 } }, 12288)
    end)

    it("adaption prompt: prompt and gate per adapted attention module", function()
      -- adapter_len 10, hidden 4096: adaption_prompt (1, 10, 4096) = 40960, adaption_gate (1,): 40961
      local attn = { name = "model.layers.31.self_attn", kind = "other", hidden_size = 4096 }
      check(shapes.for_module("adaption_prompt", cfg("AdaptionPromptConfig",
        { adapter_len = 10, adapter_layers = 30 }), attn), nil,
        { adaption_prompt = { 1, 10, 4096 }, adaption_gate = { 1 } }, 40961)
    end)

    it("tuner methods without shared tensors return an empty list", function()
      for _, m in ipairs { "loha", "lokr", "ia3", "oft", "boft", "adalora", "hra" } do
        local list, err = shapes.shared(m, {}, { modules = { Q } })
        assert.are.same({}, list, err)
      end
    end)
  end)
end)
