-- LoraConfig and its helper configs: fields, conversions, and every rule of
-- PEFT's __post_init__ (errors, warnings, derived values).
local peft = require "peft"
local helpers = require "helpers"

local function build(args)
  local warnings, ok, cfg = peft.capture_warnings(function() return peft.LoraConfig(args) end)
  if not ok then error(cfg, 0) end
  return cfg, warnings
end

local function fails(cls, args)
  return helpers.error_of(peft[cls], args)
end

describe("LoraConfig", function()
  describe("fields", function()
    it("declares its own fields in PEFT's order, after PeftConfig's", function()
      local names = {}
      for i, f in ipairs(peft.LoraConfig.fields) do names[i] = f.name end
      assert.are.same({
        "task_type", "peft_type", "auto_mapping", "peft_version", "base_model_name_or_path", "revision",
        "inference_mode", "r", "target_modules", "exclude_modules", "lora_alpha", "lora_dropout",
        "fan_in_fan_out", "bias", "use_rslora", "modules_to_save", "init_lora_weights",
        "layers_to_transform", "layers_pattern", "rank_pattern", "alpha_pattern", "megatron_config",
        "megatron_core", "trainable_token_indices", "loftq_config", "eva_config", "corda_config",
        "lora_ga_config", "use_dora", "velora_config", "alora_invocation_tokens", "use_qalora",
        "qalora_group_size", "monteclora_config", "layer_replication", "runtime_config", "lora_bias",
        "target_parameters", "use_bdlora", "arrow_config", "kasa_config", "ensure_weight_tying",
      }, names)
    end)

    it("keeps the annotation of init_lora_weights, with the 'lora_ga' PEFT accepts though its Literal leaves it out",
      function()
      assert.are.equal("bool | Literal['gaussian', 'eva', 'olora', 'pissa', 'pissa_niter_[number of iters]', "
        .. "'corda', 'loftq', 'orthogonal', 'mica', 'lora_ga']", peft.LoraConfig:field("init_lora_weights").type)
    end)

    it("keeps list-valued target_modules and exclude_modules as sorted sets", function()
      local cfg = build { target_modules = { "v_proj", "q_proj", "v_proj" }, exclude_modules = { "b", "a", "b" } }
      assert.are.same({ "q_proj", "v_proj" }, cfg.target_modules)
      assert.are.same({ "a", "b" }, cfg.exclude_modules)
    end)

    it("keeps a regex string for target_modules and exclude_modules", function()
      local cfg = build { target_modules = ".*proj", exclude_modules = "lm_head" }
      assert.are.equal(".*proj", cfg.target_modules)
      assert.are.equal("lm_head", cfg.exclude_modules)
    end)

    it("rejects a wrongly typed field, naming field, value and type", function()
      local err = fails("LoraConfig", { r = 1.5 })
      assert.are.equal("TypeError", err.kind)
      assert.are.equal("LoraConfig.r: expected an integer, got 1.5 (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)", err.message)
    end)

    it("rejects a bias outside its literal", function()
      local err = fails("LoraConfig", { bias = "some" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal([[LoraConfig.bias: expected one of 'none', 'all', 'lora_only', got "some"]], err.message)
    end)

    it("checks layer_replication as a list of [start, end] pairs", function()
      local cfg = build { layer_replication = { { 0, 4 }, { 2, 6 } } }
      assert.are.same({ { 0, 4 }, { 2, 6 } }, cfg.layer_replication)
      local err = fails("LoraConfig", { layer_replication = { { 0, 4, 8 } } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("LoraConfig.layer_replication: expected a list of lists of 2 (an integer, an integer) "
        .. "or null (item 1 is a list, expected a list of 2 (an integer, an integer)), got [[0, 4, 8]]", err.message)
    end)

    it("accepts trainable_token_indices as a list or a map of lists", function()
      assert.are.same({ 1, 2 }, build({ trainable_token_indices = { 1, 2 } }).trainable_token_indices)
      assert.are.same({ embed_tokens = { 3 } },
        build({ trainable_token_indices = { embed_tokens = { 3 } } }).trainable_token_indices)
    end)

    it("round-trips through to_dict", function()
      local cfg = build { r = 16, target_modules = { "q", "v" }, init_lora_weights = "pissa_niter_4",
                          velora_config = { num_groups = 8 }, task_type = "CAUSAL_LM" }
      local again = build(cfg:to_dict())
      assert.are.equal(cfg:to_json(), again:to_json())
    end)
  end)

  describe("init_lora_weights", function()
    it("accepts booleans and the named schemes", function()
      for _, v in ipairs { true, false, "gaussian", "eva", "olora", "pissa", "corda", "orthogonal", "mica" } do
        assert.are.equal(v, build({ init_lora_weights = v }).init_lora_weights)
      end
    end)

    it("accepts 'pissa_niter_<N>' for a non-negative integer N", function()
      assert.are.equal("pissa_niter_16", build({ init_lora_weights = "pissa_niter_16" }).init_lora_weights)
      assert.are.equal("pissa_niter_0", build({ init_lora_weights = "pissa_niter_0" }).init_lora_weights)
    end)

    it("accepts 'lora_ga', which PEFT uses although its Literal leaves it out", function()
      local cfg = build { init_lora_weights = "lora_ga", lora_ga_config = { direction = "random" } }
      assert.are.equal("lora_ga", cfg.init_lora_weights)
      assert.are.same({ direction = "random" }, cfg.lora_ga_config)
      cfg.init_lora_weights = "lora_ga"
      assert.are.equal("lora_ga", cfg.init_lora_weights)
    end)

    local expected = "expected a boolean or one of 'gaussian', 'eva', 'olora', 'pissa', "
      .. "'pissa_niter_[number of iters]', 'corda', 'loftq', 'orthogonal', 'mica', 'lora_ga'"

    it("rejects 'pissa_niter_' without a number", function()
      local err = fails("LoraConfig", { init_lora_weights = "pissa_niter_x" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('LoraConfig.init_lora_weights: ' .. expected .. ', got "pissa_niter_x"', err.message)
      err = fails("LoraConfig", { init_lora_weights = "pissa_niter_" })
      assert.are.equal('LoraConfig.init_lora_weights: ' .. expected .. ', got "pissa_niter_"', err.message)
    end)

    it("rejects an unknown scheme", function()
      local err = fails("LoraConfig", { init_lora_weights = "kaiming" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('LoraConfig.init_lora_weights: ' .. expected .. ', got "kaiming"', err.message)
    end)
  end)

  describe("layers_to_transform and layers_pattern", function()
    it("refuses layers_to_transform with a regex target_modules", function()
      local err = fails("LoraConfig", { target_modules = ".*proj", layers_to_transform = 0 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('LoraConfig.layers_to_transform: must be null when target_modules is a regular expression '
        .. '(".*proj"), got 0', err.message)
    end)

    it("accepts layers_to_transform with a list of target_modules", function()
      local cfg = build { target_modules = { "q" }, layers_to_transform = { 0, 1 } }
      assert.are.same({ 0, 1 }, cfg.layers_to_transform)
    end)

    it("refuses layers_pattern with a regex target_modules", function()
      local err = fails("LoraConfig", { target_modules = ".*proj", layers_pattern = "h" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('LoraConfig.layers_pattern: must be null when target_modules is a regular expression '
        .. '(".*proj"), got "h"', err.message)
    end)

    it("refuses layers_pattern without layers_to_transform", function()
      local err = fails("LoraConfig", { target_modules = { "q" }, layers_pattern = { "layers", "h" } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('LoraConfig.layers_pattern: needs layers_to_transform to be set as well, got ["layers", "h"]',
        err.message)
    end)

    it("accepts layers_pattern with layers_to_transform, and an empty layers_pattern alone", function()
      local cfg = build { target_modules = { "q" }, layers_pattern = "h", layers_to_transform = 3 }
      assert.are.equal("h", cfg.layers_pattern)
      assert.are.equal(3, cfg.layers_to_transform)
      assert.are.equal("", build({ layers_pattern = "" }).layers_pattern)
    end)
  end)

  describe("use_dora", function()
    it("refuses DoRA with a Megatron config", function()
      local err = fails("LoraConfig", { use_dora = true, megatron_config = { tensor_model_parallel_size = 2 } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("LoraConfig.use_dora: must be false when megatron_config is set "
        .. "(DoRA does not support Megatron layers), got true", err.message)
    end)

    it("accepts DoRA with no (or an empty) Megatron config, and Megatron without DoRA", function()
      assert.is_true(build({ use_dora = true }).use_dora)
      assert.is_true(build({ use_dora = true, megatron_config = {} }).use_dora)
      assert.are.same({ a = 1 }, build({ megatron_config = { a = 1 } }).megatron_config)
    end)
  end)

  describe("loftq_config", function()
    it("is required when init_lora_weights is 'loftq'", function()
      local err = fails("LoraConfig", { init_lora_weights = "loftq" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("LoraConfig.loftq_config: must be given (non-empty) when init_lora_weights is 'loftq', "
        .. "got {}", err.message)
    end)

    it("is kept as given (a dict) with init_lora_weights 'loftq'", function()
      local cfg, warnings = build { init_lora_weights = "loftq", loftq_config = { loftq_bits = 8 } }
      assert.are.same({}, warnings)
      assert.are.same({ loftq_bits = 8 }, cfg.loftq_config)
      assert.truthy(cfg:to_json():find('"loftq_config": {\n    "loftq_bits": 8\n  }', 1, true))
    end)

    it("turns a LoftQConfig object into a dict of all its fields", function()
      local cfg = build { init_lora_weights = "loftq", loftq_config = peft.LoftQConfig { loftq_iter = 5 } }
      assert.are.same({ loftq_bits = 4, loftq_iter = 5 }, cfg.loftq_config)
      assert.is_false(peft.is_config(cfg.loftq_config))
    end)

    it("is cleared, with a warning, when init_lora_weights is not 'loftq'", function()
      local cfg, warnings = build { loftq_config = { loftq_bits = 2 } }
      assert.are.same({ "LoraConfig: loftq_config is ignored and cleared: init_lora_weights is true, not 'loftq'" },
        warnings)
      assert.are.same({}, cfg.loftq_config)
      assert.truthy(cfg:to_json():find('"loftq_config": {}', 1, true))
    end)

    it("is validated against LoftQConfig; unknown keys are kept with a warning, as PEFT keeps the dict", function()
      local warnings, ok, cfg = peft.capture_warnings(peft.LoraConfig,
        { init_lora_weights = "loftq", loftq_config = { loftq_bits = 4, loftq_newer = 1 } })
      assert.is_true(ok, tostring(cfg))
      assert.are.same({ "LoraConfig: loftq_config: keys unknown to LoftQConfig kept as they are: loftq_newer" }, warnings)
      assert.are.same(warnings, cfg:warnings())
      assert.are.same({ loftq_bits = 4, loftq_newer = 1 }, cfg.loftq_config)
      local err = fails("LoraConfig", { init_lora_weights = "loftq", loftq_config = { loftq_bits = "4" } })
      assert.are.equal("TypeError", err.kind)
      assert.are.equal('LoraConfig.loftq_config: LoftQConfig.loftq_bits: expected an integer, got "4" (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)', err.message)
    end)
  end)

  describe("eva_config and corda_config", function()
    it("fills in the default EvaConfig, with a warning, for init_lora_weights 'eva'", function()
      local cfg, warnings = build { init_lora_weights = "eva" }
      assert.are.same({ "LoraConfig: init_lora_weights is 'eva' but eva_config is not given; "
        .. "using the default EvaConfig" }, warnings)
      assert.are.same({ rho = 2.0, tau = 0.99, use_label_mask = true, label_mask_value = -100, whiten = false,
                        adjust_scaling_factors = true }, cfg.eva_config)
      assert.truthy(cfg:to_json():find('"rho": 2.0', 1, true))
    end)

    it("keeps a given eva_config as given, without a warning", function()
      local cfg, warnings = build { init_lora_weights = "eva", eva_config = { rho = 1.0 } }
      assert.are.same({}, warnings)
      assert.are.same({ rho = 1.0 }, cfg.eva_config)
    end)

    it("warns that eva_config is ignored when init_lora_weights is not 'eva'", function()
      local cfg, warnings = build { eva_config = { whiten = true } }
      assert.are.same({ "LoraConfig: eva_config is ignored: init_lora_weights is true, not 'eva'" }, warnings)
      assert.are.same({ whiten = true }, cfg.eva_config)
    end)

    it("fills in the default CordaConfig, with a warning, for init_lora_weights 'corda'", function()
      local cfg, warnings = build { init_lora_weights = "corda" }
      assert.are.same({ "LoraConfig: init_lora_weights is 'corda' but corda_config is not given; "
        .. "using the default CordaConfig" }, warnings)
      assert.are.same({ cache_file = peft.null, covariance_file = peft.null, corda_method = "ipm",
                        verbose = false, use_float16_for_covariance = false,
                        prune_temporary_fields = true }, cfg.corda_config)
      assert.truthy(cfg:to_json():find('"cache_file": null', 1, true))
    end)

    it("keeps a given corda_config as given, without a warning", function()
      local cfg, warnings = build { init_lora_weights = "corda", corda_config = { corda_method = "kpm" } }
      assert.are.same({}, warnings)
      assert.are.same({ corda_method = "kpm" }, cfg.corda_config)
    end)

    it("warns that corda_config is ignored when init_lora_weights is not 'corda'", function()
      local _, warnings = build { init_lora_weights = "pissa", corda_config = {} }
      assert.are.same({ 'LoraConfig: corda_config is ignored: init_lora_weights is "pissa", not \'corda\'' },
        warnings)
    end)

    it("applies only the first matching case, as PEFT does", function()
      -- 'corda' with an eva_config: only the eva warning, corda_config stays null
      local cfg, warnings = build { init_lora_weights = "corda", eva_config = {} }
      assert.are.same({ 'LoraConfig: eva_config is ignored: init_lora_weights is "corda", not \'eva\'' }, warnings)
      assert.is_nil(cfg.corda_config)
      -- a cleared loftq_config hides the eva default
      cfg, warnings = build { init_lora_weights = "eva", loftq_config = { loftq_bits = 4 } }
      assert.are.same({ 'LoraConfig: loftq_config is ignored and cleared: init_lora_weights is "eva", '
        .. "not 'loftq'" }, warnings)
      assert.is_nil(cfg.eva_config)
    end)

    it("validates the given dicts against their classes", function()
      local err = fails("LoraConfig", { init_lora_weights = "eva", eva_config = { rho = 0.5 } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("LoraConfig.eva_config: EvaConfig.rho: must be >= 1.0, got 0.5", err.message)
      err = fails("LoraConfig", { init_lora_weights = "corda", corda_config = { corda_method = "xpm" } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal([[LoraConfig.corda_config: CordaConfig.corda_method: expected one of 'ipm', 'kpm', ]]
        .. [[got "xpm"]], err.message)
    end)
  end)

  describe("lora_bias", function()
    it("needs init_lora_weights true or false", function()
      local err = fails("LoraConfig", { lora_bias = true, init_lora_weights = "gaussian" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('LoraConfig.init_lora_weights: must be true or false when lora_bias is true, got "gaussian"',
        err.message)
    end)

    it("is refused with DoRA", function()
      local err = fails("LoraConfig", { lora_bias = true, use_dora = true })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("LoraConfig.use_dora: must be false when lora_bias is true (DoRA has no LoRA bias), got true",
        err.message)
    end)

    it("is accepted with init_lora_weights true or false", function()
      assert.is_true(build({ lora_bias = true }).lora_bias)
      assert.is_true(build({ lora_bias = true, init_lora_weights = false }).lora_bias)
    end)
  end)

  describe("alora_invocation_tokens", function()
    it("warns unless task_type is CAUSAL_LM", function()
      local _, warnings = build { alora_invocation_tokens = { 10, 11 }, task_type = "SEQ_CLS" }
      assert.are.same({ 'LoraConfig: alora_invocation_tokens (aLoRA) is only supported with task_type '
        .. "'CAUSAL_LM', got \"SEQ_CLS\"" }, warnings)
      _, warnings = build { alora_invocation_tokens = { 10 } }
      assert.are.same({ "LoraConfig: alora_invocation_tokens (aLoRA) is only supported with task_type "
        .. "'CAUSAL_LM', got null" }, warnings)
    end)

    it("does not warn for CAUSAL_LM", function()
      local cfg, warnings = build { alora_invocation_tokens = { 10, 11 }, task_type = "CAUSAL_LM" }
      assert.are.same({}, warnings)
      assert.are.same({ 10, 11 }, cfg.alora_invocation_tokens)
    end)
  end)

  describe("use_rslora with rank/alpha patterns", function()
    local function msg(init)
      return "LoraConfig: use_rslora with rank_pattern/alpha_pattern and init_lora_weights=" .. init
        .. ": save_pretrained will not be able to restore the modified base weights "
        .. "(path_initial_model_for_weight_conversion); drop rslora or the patterns if you need that"
    end

    it("warns for the initialisations that modify base weights", function()
      local _, warnings = build { use_rslora = true, rank_pattern = { q = 4 }, init_lora_weights = "pissa_niter_4" }
      assert.are.same({ msg('"pissa_niter_4"') }, warnings)
      _, warnings = build { use_rslora = true, alpha_pattern = { q = 4 }, init_lora_weights = "olora" }
      assert.are.same({ msg('"olora"') }, warnings)
      _, warnings = build { use_rslora = true, alpha_pattern = { q = 4 }, init_lora_weights = "lora_ga" }
      assert.are.same({ msg('"lora_ga"') }, warnings)
      _, warnings = build { use_rslora = true, rank_pattern = { q = 4 }, init_lora_weights = "corda",
                            corda_config = {} }
      assert.are.same({ msg('"corda"') }, warnings)
    end)

    it("does not warn without patterns, without rslora, or for other initialisations", function()
      local _, warnings = build { use_rslora = true, init_lora_weights = "pissa" }
      assert.are.same({}, warnings)
      _, warnings = build { rank_pattern = { q = 4 }, init_lora_weights = "pissa" }
      assert.are.same({}, warnings)
      _, warnings = build { use_rslora = true, rank_pattern = { q = 4 }, init_lora_weights = "gaussian" }
      assert.are.same({}, warnings)
    end)
  end)

  describe("velora_config, kasa_config and monteclora_config", function()
    it("turn a dict into their config class, with defaults filled in", function()
      local cfg = build { velora_config = { num_groups = 8 }, kasa_config = { beta = 0.5 },
                          monteclora_config = { use_entropy = true } }
      assert.are.equal(peft.VeloraConfig, cfg.velora_config:get_class())
      assert.are.equal(1.0, cfg.velora_config.scale)
      assert.are.equal(peft.KasaConfig, cfg.kasa_config:get_class())
      assert.are.equal(0.001, cfg.kasa_config.gamma)
      assert.are.equal(peft.MontecloraConfig, cfg.monteclora_config:get_class())
      assert.are.equal(150, cfg.monteclora_config.buffer_size)
      local d = cfg:to_dict()
      assert.are.same({ num_groups = 8, scale = 1.0, init_type = "batch_average" }, d.velora_config)
      assert.are.same({ beta = 0.5, gamma = 0.001 }, d.kasa_config)
      assert.are.same({ num_samples = 8, use_entropy = true, dirichlet_prior = 0.1, sample_scaler = 0.0001,
                        kl_loss_weight = 1e-05, buffer_size = 150 }, d.monteclora_config)
    end)

    it("accept their config objects", function()
      local v = peft.VeloraConfig { init_type = "random" }
      assert.are.equal(v, build({ velora_config = v }).velora_config)
    end)

    it("check the nested values", function()
      local err = fails("LoraConfig", { velora_config = { num_groups = 0 } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("LoraConfig.velora_config: VeloraConfig.num_groups: must be > 0, got 0", err.message)
      err = fails("LoraConfig", { kasa_config = { gamma = -1.0 } })
      assert.are.equal("LoraConfig.kasa_config: KasaConfig.gamma: must be >= 0, got -1.0", err.message)
      err = fails("LoraConfig", { monteclora_config = { num_samples = 0 } })
      assert.are.equal("LoraConfig.monteclora_config: MontecloraConfig.num_samples: must be > 0, got 0", err.message)
    end)

    it("refuse a value of another type with a TypeError, as PEFT does", function()
      local err = fails("LoraConfig", { velora_config = 5 })
      assert.are.equal("TypeError", err.kind)
      assert.are.equal("LoraConfig.velora_config: expected a VeloraConfig, an object or null, got 5", err.message)
      err = fails("LoraConfig", { kasa_config = "on" })
      assert.are.equal('LoraConfig.kasa_config: expected a KasaConfig or null, got "on"', err.message)
    end)
  end)

  describe("target_parameters", function()
    it("refuses a string with a TypeError, as PEFT does", function()
      local err = fails("LoraConfig", { target_parameters = "experts.down_proj" })
      assert.are.equal("TypeError", err.kind)
      assert.are.equal('LoraConfig.target_parameters: expected a list of strings or null, got "experts.down_proj"',
        err.message)
    end)

    it("accepts a list of strings", function()
      local cfg = build { target_modules = {}, target_parameters = { "experts.gate_up_proj" } }
      assert.are.same({ "experts.gate_up_proj" }, cfg.target_parameters)
      assert.are.same({}, cfg.target_modules)
    end)
  end)

  describe("runtime_config", function()
    it("defaults to a LoraRuntimeConfig and is never written", function()
      local cfg = build {}
      assert.are.equal(peft.LoraRuntimeConfig, cfg.runtime_config:get_class())
      assert.is_false(cfg.runtime_config.ephemeral_gpu_offload)
      assert.is_nil(cfg:to_dict().runtime_config)
      assert.is_nil(cfg:to_json():find("runtime_config", 1, true))
    end)

    it("is not shared between configs", function()
      local a, b = build {}, build {}
      a.runtime_config.ephemeral_gpu_offload = true
      assert.is_false(b.runtime_config.ephemeral_gpu_offload)
    end)

    it("takes a dict, and survives replace()", function()
      local cfg = build { runtime_config = { ephemeral_gpu_offload = true } }
      assert.is_true(cfg.runtime_config.ephemeral_gpu_offload)
      assert.is_true(cfg:replace({ r = 4 }).runtime_config.ephemeral_gpu_offload)
      local err = fails("LoraConfig", { runtime_config = { ephemeral_gpu_offload = 1 } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("LoraConfig.runtime_config: LoraRuntimeConfig.ephemeral_gpu_offload: expected a boolean, "
        .. "got 1", err.message)
    end)
  end)

  describe("use_bdlora and arrow_config", function()
    it("keep the dict as given after checking it", function()
      local cfg = build { use_bdlora = { target_modules_bd_a = { "q" }, nblocks = 2 }, arrow_config = { top_k = 2 } }
      assert.are.same({ target_modules_bd_a = { "q" }, nblocks = 2 }, cfg.use_bdlora)
      assert.are.same({ top_k = 2 }, cfg.arrow_config)
    end)

    it("check the nested values", function()
      local err = fails("LoraConfig", { use_bdlora = { target_modules_bd_a = { "q", "o" },
                                                        target_modules_bd_b = { "o", "v" } } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("LoraConfig.use_bdlora: BdLoraConfig.target_modules_bd_b: a module is block-diagonal "
        .. "in A or in B, not both; also in target_modules_bd_a: 'o'", err.message)
      err = fails("LoraConfig", { arrow_config = { top_k = 0 } })
      assert.are.equal("LoraConfig.arrow_config: ArrowConfig.top_k: must be > 0, got 0", err.message)
    end)
  end)
end)

describe("LoRA helper configs", function()
  it("LoraRuntimeConfig has ephemeral_gpu_offload", function()
    assert.are.same({ ephemeral_gpu_offload = false }, peft.LoraRuntimeConfig():to_dict())
  end)

  it("LoftQConfig has bits and iterations", function()
    assert.are.same({ loftq_bits = 4, loftq_iter = 1 }, peft.LoftQConfig():to_dict())
  end)

  it("LoraGAConfig has its literals", function()
    assert.are.same({ direction = "ArB2r", scale = "stable", stable_gamma = 16 }, peft.LoraGAConfig():to_dict())
    local err = fails("LoraGAConfig", { scale = "big" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal([[LoraGAConfig.scale: expected one of 'stable', 'weight_svd', 'gd_scale', 'unit', ]]
      .. [[got "big"]], err.message)
  end)

  describe("EvaConfig", function()
    it("needs rho >= 1", function()
      local err = fails("EvaConfig", { rho = 0.99 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("EvaConfig.rho: must be >= 1.0, got 0.99", err.message)
      assert.are.equal(1.0, peft.EvaConfig({ rho = 1.0 }).rho)
    end)

    it("needs tau between 0 and 1", function()
      local err = fails("EvaConfig", { tau = -0.1 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("EvaConfig.tau: must be >= 0.0, got -0.1", err.message)
      err = fails("EvaConfig", { tau = 1.5 })
      assert.are.equal("EvaConfig.tau: must be <= 1.0, got 1.5", err.message)
      assert.are.equal(0, peft.EvaConfig({ tau = 0 }).tau)
      assert.are.equal(1, peft.EvaConfig({ tau = 1 }).tau)
    end)
  end)

  describe("CordaConfig", function()
    it("has PEFT's defaults and a corda_method literal", function()
      assert.are.equal("ipm", peft.CordaConfig().corda_method)
      assert.are.equal("kpm", peft.CordaConfig({ corda_method = "kpm" }).corda_method)
    end)
  end)

  describe("VeloraConfig", function()
    it("needs num_groups > 0", function()
      local err = fails("VeloraConfig", { num_groups = -1 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("VeloraConfig.num_groups: must be > 0, got -1", err.message)
      assert.are.equal(1, peft.VeloraConfig({ num_groups = 1 }).num_groups)
    end)

    it("needs scale > 0", function()
      local err = fails("VeloraConfig", { scale = 0.0 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("VeloraConfig.scale: must be > 0, got 0.0", err.message)
      assert.are.equal(0.5, peft.VeloraConfig({ scale = 0.5 }).scale)
    end)

    it("needs a known init_type", function()
      local err = fails("VeloraConfig", { init_type = "zeros" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal([[VeloraConfig.init_type: expected one of 'batch_average', 'batch_average_once', ]]
        .. [['random', got "zeros"]], err.message)
      assert.are.equal("batch_average_once", peft.VeloraConfig({ init_type = "batch_average_once" }).init_type)
    end)
  end)

  describe("MontecloraConfig", function()
    it("needs num_samples, dirichlet_prior and buffer_size > 0", function()
      local err = fails("MontecloraConfig", { num_samples = 0 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("MontecloraConfig.num_samples: must be > 0, got 0", err.message)
      err = fails("MontecloraConfig", { dirichlet_prior = 0 })
      assert.are.equal("MontecloraConfig.dirichlet_prior: must be > 0, got 0", err.message)
      err = fails("MontecloraConfig", { buffer_size = -5 })
      assert.are.equal("MontecloraConfig.buffer_size: must be > 0, got -5", err.message)
      local ok = peft.MontecloraConfig { num_samples = 1, dirichlet_prior = 0.01, buffer_size = 1 }
      assert.are.equal(1, ok.buffer_size)
    end)
  end)

  describe("ArrowConfig", function()
    it("needs top_k > 0 and router_temperature > 0", function()
      local err = fails("ArrowConfig", { top_k = 0 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("ArrowConfig.top_k: must be > 0, got 0", err.message)
      err = fails("ArrowConfig", { router_temperature = -1.0 })
      assert.are.equal("ArrowConfig.router_temperature: must be > 0, got -1.0", err.message)
      assert.are.equal(1, peft.ArrowConfig({ top_k = 1, router_temperature = 0.1 }).top_k)
    end)

    it("accepts the adapter names PEFT writes into a saved arrow_config", function()
      local a = peft.ArrowConfig { task_adapter_names = { "t1", "t2" }, gks_adapter_names = { "g" }, rng_seed = 3 }
      assert.are.same({ "t1", "t2" }, a.task_adapter_names)
      assert.are.same({ top_k = 3, router_temperature = 1.0, use_gks = false, task_adapter_names = { "t1", "t2" },
                        gks_adapter_names = { "g" }, rng_seed = 3 }, a:to_dict())
    end)
  end)

  describe("BdLoraConfig", function()
    it("refuses a module in both target lists", function()
      local err = fails("BdLoraConfig", { target_modules_bd_a = { "q", "k", "v" }, target_modules_bd_b = { "v", "q" } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("BdLoraConfig.target_modules_bd_b: a module is block-diagonal in A or in B, not both; "
        .. "also in target_modules_bd_a: 'q', 'v'", err.message)
    end)

    it("accepts disjoint lists, or only one of them", function()
      local b = peft.BdLoraConfig { target_modules_bd_a = { "q" }, target_modules_bd_b = { "o" } }
      assert.are.same({ "o" }, b.target_modules_bd_b)
      assert.are.same({ "q" }, peft.BdLoraConfig({ target_modules_bd_a = { "q" } }).target_modules_bd_a)
    end)
  end)

  describe("KasaConfig", function()
    it("needs beta and gamma >= 0", function()
      local err = fails("KasaConfig", { beta = -0.1 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("KasaConfig.beta: must be >= 0, got -0.1", err.message)
      err = fails("KasaConfig", { gamma = -1 })
      assert.are.equal("KasaConfig.gamma: must be >= 0, got -1", err.message)
      local k = peft.KasaConfig { beta = 0, gamma = 0.0 }
      assert.are.same({ beta = 0, gamma = 0.0 }, k:to_dict())
    end)
  end)
end)

describe("LoraConfig value types (decided per field from what PEFT's code does with the value)", function()
  it("takes a float lora_alpha, as training tools write it (PEFT only divides it by r), and writes it back", function()
    local cfg = peft.from_json('{"peft_type": "LORA", "r": 8, "lora_alpha": 16.0}', { quiet = true })
    assert.are.equal(16.0, cfg.lora_alpha)
    assert.are.equal("float", math.type(cfg.lora_alpha))
    assert.truthy(cfg:to_json():find('"lora_alpha": 16.0', 1, true))
    assert.are.equal("int", peft.LoraConfig:field("lora_alpha").type) -- PEFT's annotation is still shown
  end)

  it("refuses r written as a float or a string, saying PEFT would fail when it builds the model", function()
    for _, text in ipairs { '{"peft_type": "LORA", "r": 8.0}', '{"peft_type": "LORA", "r": "8"}' } do
      local ok, err = pcall(peft.from_json, text, { path = "a/adapter_config.json" })
      assert.is_false(ok)
      assert.are.equal("TypeError", err.kind)
      assert.truthy(err.message:find("^a/adapter_config.json: LoraConfig.r: expected an integer, got "), err.message)
      assert.truthy(err.message:find("PEFT reads the file, but its model code needs an integer here", 1, true))
    end
  end)

  it("refuses a non-number lora_alpha", function()
    local err = helpers.error_of(peft.LoraConfig, { lora_alpha = "16" })
    assert.are.equal('LoraConfig.lora_alpha: expected a number, got "16"', err.message)
  end)

  it("refuses a lora_dropout that is no number with PEFT's TypeError (LoRA and AdaLoRA)", function()
    for cls, args in pairs { LoraConfig = {}, AdaLoraConfig = { total_step = 10 } } do
      for _, v in ipairs { peft.null, "0.1" } do
        args.lora_dropout = v
        local err = helpers.error_of(peft[cls], args)
        assert.are.equal("TypeError", err.kind)
        assert.truthy(err.message:find(cls .. ".lora_dropout: expected a number", 1, true), err.message)
      end
    end
  end)
end)
