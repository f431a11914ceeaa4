-- LoRA: trainable low-rank matrices A and B added beside each targeted layer.
local peft = require "peft"

peft.declare_helper {
  name = "LoraRuntimeConfig",
  doc = "LoRA settings that only apply while running; never saved with the adapter.",
}

peft.declare_helper {
  name = "LoftQConfig",
  doc = "LoftQ: quantise the base weights and initialise LoRA to compensate the quantisation error.",
}

peft.declare_helper {
  name = "EvaConfig",
  doc = "EVA: data-driven LoRA initialisation from the SVD of layer input activations.",
}

peft.declare_helper {
  name = "CordaConfig",
  doc = "CorDA: context-oriented decomposition used to build the LoRA initialisation.",
}

peft.declare_helper {
  name = "LoraGAConfig",
  doc = "LoRA-GA: initialise A and B from the SVD of an estimated full fine-tuning gradient.",
}

peft.declare_helper {
  name = "VeloraConfig",
  doc = "VeLoRA: keep compressed activations for the backward pass of the A projection.",
}

peft.declare_helper {
  name = "MontecloraConfig",
  doc = "MonteCLoRA: Monte Carlo sampled perturbations on top of the LoRA weights.",
}

peft.declare_helper {
  name = "ArrowConfig",
  doc = "Arrow: route each token among several trained LoRA adapters (optionally after GenKnowSub).",
}

peft.declare_helper {
  name = "BdLoraConfig",
  doc = "BD-LoRA: block-diagonal A or B in chosen modules, for faster sharded multi-LoRA serving.",
}

peft.declare_helper {
  name = "KasaConfig",
  doc = "KaSA: drop the smallest singular values of the base weight, learn a diagonal between A and B.",
}

local LoraConfig = peft.declare_config {
  name = "LoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.LORA,
  doc = "LoRA: trainable low-rank matrices A and B added beside each targeted layer.",
}

local LoraModel = peft.declare_model { name = "LoraModel", prefix = "lora_", display = "LoRA" }

peft.register_peft_method {
  name = "lora",
  config_cls = LoraConfig,
  model_cls = LoraModel,
  prefix = "lora_",
  is_mixed_compatible = true,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

local function repr(v) return require("peft.types").repr(v) end

-- helper dataclasses -------------------------------------------------------

peft.define("LoraRuntimeConfig", {
  fields = function() return {
    { "ephemeral_gpu_offload", "bool", false,
      "Copy CPU-held data to the GPU for heavy operations (currently DoRA initialisation), then back." },
  } end,
})

peft.define("LoftQConfig", {
  fields = function() return {
    { "loftq_bits", "int", 4, "Bits used to quantise the base weights." },
    { "loftq_iter", "int", 1, "Number of alternating quantise / low-rank approximation steps." },
  } end,
})

peft.define("EvaConfig", {
  fields = function() return {
    { "rho", "float", 2.0,
      "Largest rank a layer may receive, as a multiple of r (1 turns rank redistribution off).", min = 1.0 },
    { "tau", "float", 0.99,
      "Cosine similarity of successive singular vectors at which the incremental SVD stops.",
      min = 0.0, max = 1.0 },
    { "use_label_mask", "bool", true,
      "Leave out positions whose label equals label_mask_value when collecting activations." },
    { "label_mask_value", "int", -100, "Label value that marks positions to leave out." },
    { "whiten", "bool", false, "Whiten the singular vectors." },
    { "adjust_scaling_factors", "bool", true,
      "Rescale alpha after redistributing ranks so every layer's update keeps the same scale." },
  } end,
})

peft.define("CordaConfig", {
  fields = function() return {
    { "cache_file", "Optional[str]", nil,
      "File for the SVD cache, from which the residual model can be rebuilt quickly." },
    { "covariance_file", "Optional[str]", nil,
      "File for the covariance matrices, reusable across ranks (large, about the model's size)." },
    { "corda_method", "Literal['ipm', 'kpm']", "ipm",
      "'ipm' favours fine-tuning quality, 'kpm' preserves more pre-trained knowledge." },
    { "verbose", "bool", false, "Print CorDA's progress." },
    { "use_float16_for_covariance", "bool", false,
      "Keep the covariance matrices in float16 (half the memory, less numerically stable)." },
    { "prune_temporary_fields", "bool", true,
      "Remove the temporary attributes CorDA adds to the model while preprocessing." },
  } end,
})

peft.define("LoraGAConfig", {
  fields = function() return {
    { "direction", "Literal['ArBr', 'A2rBr', 'ArB2r', 'random']", "ArB2r",
      "How the gradient's singular directions are shared out between A and B." },
    { "scale", "Literal['stable', 'weight_svd', 'gd_scale', 'unit']", "stable",
      "How the initial A and B are scaled." },
    { "stable_gamma", "int", 16, "Gamma of the 'stable' scaling." },
  } end,
})

peft.define("VeloraConfig", {
  fields = function() return {
    { "num_groups", "int", 64,
      "Groups the input features are split into before compression (more: less error, more memory).", gt = 0 },
    { "scale", "float", 1.0, "Factor applied to the reconstructed activations in the backward pass.", gt = 0 },
    { "init_type", "Literal['batch_average', 'batch_average_once', 'random']", "batch_average",
      "How the projection is set: from every batch, from the first batch only, or at random." },
  } end,
})

peft.define("MontecloraConfig", {
  fields = function() return {
    { "num_samples", "int", 8, "Monte Carlo samples drawn per forward pass.", gt = 0 },
    { "use_entropy", "bool", false, "Add an entropy term that keeps the sample weights from collapsing." },
    { "dirichlet_prior", "float", 0.1, "Concentration of the Dirichlet prior on the sample weights.", gt = 0 },
    { "sample_scaler", "float", 0.0001, "Size of the sampled perturbations." },
    { "kl_loss_weight", "float", 1e-05, "Weight of the KL term of the variational objective." },
    { "buffer_size", "int", 150, "Size of the sampler's buffer.", gt = 0 },
  } end,
})

peft.define("ArrowConfig", {
  fields = function() return {
    { "top_k", "int", 3, "How many adapters each token is routed to.", gt = 0 },
    { "router_temperature", "float", 1.0, "Softmax temperature of the router.", gt = 0 },
    { "use_gks", "bool", false, "Apply GenKnowSub: subtract the general adapters before routing." },
    -- PEFT leaves these two out of __init__ (init=False) but writes them, so
    -- a saved arrow_config holds them: they are accepted here.
    { "task_adapter_names", "Optional[list[str]]", nil,
      "Task adapters to route between; filled in by create_arrow_model." },
    { "gks_adapter_names", "Optional[list[str]]", nil,
      "General adapters used by GenKnowSub; filled in by create_arrow_model." },
    { "rng_seed", "Optional[int]", nil, "Seed for reproducible sampling, or null for none." },
  } end,
})

peft.define("BdLoraConfig", {
  fields = function() return {
    { "target_modules_bd_a", "Optional[list[str]]", nil,
      "Modules (matched as substrings) whose A matrix is block-diagonal." },
    { "target_modules_bd_b", "Optional[list[str]]", nil,
      "Modules (matched as substrings) whose B matrix is block-diagonal." },
    { "nblocks", "int", 1, "Number of diagonal blocks (the sharding degree when serving)." },
    { "match_strict", "bool", true,
      "Require every targeted module to be block-diagonal in A or in B." },
  } end,
  post_init = function(self, chk)
    local in_a, overlap = {}, {}
    for _, m in ipairs(self.target_modules_bd_a or {}) do in_a[m] = true end
    local seen = {}
    for _, m in ipairs(self.target_modules_bd_b or {}) do
      if in_a[m] and not seen[m] then
        seen[m] = true
        overlap[#overlap + 1] = m
      end
    end
    if #overlap > 0 then
      table.sort(overlap)
      for i, m in ipairs(overlap) do overlap[i] = "'" .. m .. "'" end
      chk.fail("target_modules_bd_b",
        "a module is block-diagonal in A or in B, not both; also in target_modules_bd_a: %s",
        table.concat(overlap, ", "))
    end
  end,
})

peft.define("KasaConfig", {
  fields = function() return {
    { "beta", "float", 0.0001, "Weight of the L2 penalty on the learned singular values.", min = 0 },
    { "gamma", "float", 0.001, "Weight of the orthogonality penalty on A and B.", min = 0 },
  } end,
})

-- LoraConfig -----------------------------------------------------------------

peft.define("LoraConfig", {
  fields = function() return {
    { "r", "int", 8, "Rank of the update: the inner dimension of A and B." },
    F.target_modules,
    F.exclude_modules,
    { "lora_alpha", "int", 8, "Scaling numerator: the update is multiplied by lora_alpha / r.",
      number = true },
    -- (a value that is no number: PEFT fails comparing it with 0.0 when it builds the layer, a TypeError)
    { "lora_dropout", "float", 0.0, "Dropout probability on the input of the LoRA branch.", type_error = true },
    F.fan_in_fan_out,
    { "bias", "Literal['none', 'all', 'lora_only']", "none",
      "Which biases to train: none, all, or only those of the adapted layers." },
    { "use_rslora", "bool", false, "Rank-stabilised LoRA: scale by lora_alpha / sqrt(r) instead of lora_alpha / r." },
    F.modules_to_save,
    -- PEFT uses 'lora_ga' (with lora_ga_config) although its Literal leaves it
    -- out (Python never checks the Literal): the annotation shown lists it, so that
    -- it agrees with the values accepted
    { "init_lora_weights",
      "bool | Literal['gaussian', 'eva', 'olora', 'pissa', 'pissa_niter_[number of iters]', 'corda', 'loftq', "
        .. "'orthogonal', 'mica', 'lora_ga']",
      true,
      "Initialisation: true (B zeroed: a no-op), false (random, for debugging) or a scheme such as 'pissa_niter_16'." },
    F.layers_to_transform,
    F.layers_pattern,
    { "rank_pattern", "Optional[dict]", {}, "Per-module rank overrides: module name or regex -> rank." },
    { "alpha_pattern", "Optional[dict]", {}, "Per-module alpha overrides: module name or regex -> alpha." },
    { "megatron_config", "Optional[dict]", nil,
      "Megatron TransformerConfig arguments, needed to adapt Megatron's parallel linear layers." },
    { "megatron_core", "Optional[str]", "megatron.core", "Python module that provides Megatron's core." },
    { "trainable_token_indices", "Optional[Union[list[int], dict[str, list[int]]]]", nil,
      "Token ids whose embeddings to train: a list (input embedding) or embedding module -> ids." },
    { "loftq_config", "Union[LoftQConfig, dict]", {},
      "LoftQ settings; used only with init_lora_weights 'loftq' (cleared otherwise)." },
    { "eva_config", "Optional[EvaConfig]", nil, "EVA settings for init_lora_weights 'eva'." },
    { "corda_config", "Optional[CordaConfig]", nil, "CorDA settings for init_lora_weights 'corda'." },
    { "lora_ga_config", "Optional[LoraGAConfig]", nil, "LoRA-GA settings for init_lora_weights 'lora_ga'." },
    { "use_dora", "bool", false,
      "DoRA: learn the weight's magnitude separately and adapt only its direction with LoRA." },
    { "velora_config", "Optional[Union[VeloraConfig, dict]]", nil,
      "VeLoRA settings (compressed activations for the backward pass); null for off.", convert = true,
      type_error = true },
    { "alora_invocation_tokens", "Optional[list[int]]", nil,
      "Activated LoRA: token ids after which the adapter switches on; null for plain LoRA." },
    { "use_qalora", "bool", false, "QA-LoRA: quantisation-aware LoRA (GPTQ layers only)." },
    { "qalora_group_size", "int", 16, "QA-LoRA: number of input features pooled into one." },
    { "monteclora_config", "Optional[MontecloraConfig]", nil,
      "MonteCLoRA settings (Monte Carlo sampling on the LoRA weights); null for off.", convert = true },
    { "layer_replication", "Optional[list[tuple[int, int]]]", nil,
      "Rebuild the layer stack from these [start, end) ranges of original layers, each copy adapted apart." },
    { "runtime_config", "LoraRuntimeConfig", peft.LoraRuntimeConfig.new {},
      "Settings that only apply while running; never saved.", to_dict = false, convert = true },
    { "lora_bias", "bool", false,
      "Give LoRA's B matrix a bias (for adapters extracted from fully fine-tuned weights)." },
    { "target_parameters", "Optional[list[str]]", nil,
      "Parameters (not modules) to adapt, by name, e.g. the experts of a mixture-of-experts layer.",
      type_error = true },
    { "use_bdlora", "Optional[BdLoraConfig]", nil, "BD-LoRA settings (block-diagonal A or B); null for off." },
    { "arrow_config", "Optional[ArrowConfig]", nil, "Arrow routing settings; null for off." },
    { "kasa_config", "Optional[KasaConfig]", nil, "KaSA settings; null for off.", convert = true, type_error = true },
    { "ensure_weight_tying", "bool", false,
      "Keep the adapters of tied layers (e.g. embedding and output head) tied as well." },
  } end,
  post_init = function(self, chk)
    -- Done by the field declarations: lists of target_modules/exclude_modules
    -- become sets; velora/kasa/monteclora dicts become their config classes;
    -- a value of another type for those (or a string for target_parameters)
    -- is refused by the type check. ensure_weight_tying only resets two
    -- attributes of PEFT's object that are not fields (nothing to do here).
    local init = self.init_lora_weights
    local values = chk.values -- (None fields read raw: see peft.rules)
    rules.layer_selection(self, chk)
    if self.use_dora and rules.truthy(rawget(values, "megatron_config")) then
      chk.fail_value("use_dora", "must be false when megatron_config is set (DoRA does not support Megatron layers)")
    end

    -- init_lora_weights and the configs of the data-driven initialisations
    -- (one chain, as in PEFT: only the first matching case applies).
    -- PEFT also requires scipy for 'loftq': a Python package check, skipped.
    if init == "loftq" then
      if not rules.truthy(rawget(values, "loftq_config")) then
        chk.fail_value("loftq_config", "must be given (non-empty) when init_lora_weights is 'loftq'")
      end
      -- a LoftQConfig object was already turned into a plain dict
    elseif rules.truthy(rawget(values, "loftq_config")) then
      chk.set("loftq_config", {})
      chk.warn("loftq_config is ignored and cleared: init_lora_weights is %s, not 'loftq'", repr(init))
    elseif init == "eva" and rawget(values, "eva_config") == nil then
      chk.warn("init_lora_weights is 'eva' but eva_config is not given; using the default EvaConfig")
      chk.set("eva_config", peft.EvaConfig.new({}):to_dict())
    elseif init ~= "eva" and rawget(values, "eva_config") ~= nil then
      chk.warn("eva_config is ignored: init_lora_weights is %s, not 'eva'", repr(init))
    elseif init == "corda" and rawget(values, "corda_config") == nil then
      chk.warn("init_lora_weights is 'corda' but corda_config is not given; using the default CordaConfig")
      chk.set("corda_config", peft.CordaConfig.new({}):to_dict())
    elseif init ~= "corda" and rawget(values, "corda_config") ~= nil then
      chk.warn("corda_config is ignored: init_lora_weights is %s, not 'corda'", repr(init))
    end

    if self.lora_bias then
      if init ~= true and init ~= false then
        chk.fail_value("init_lora_weights", "must be true or false when lora_bias is true")
      end
      if self.use_dora then
        chk.fail_value("use_dora", "must be false when lora_bias is true (DoRA has no LoRA bias)")
      end
    end

    if rawget(values, "alora_invocation_tokens") ~= nil and self.task_type ~= "CAUSAL_LM" then
      chk.warn("alora_invocation_tokens (aLoRA) is only supported with task_type 'CAUSAL_LM', got %s",
        repr(self.task_type))
    end

    -- rsLoRA with rank/alpha patterns breaks the post-training conversion of
    -- base weights that these initialisations modify: PEFT only warns.
    if self.use_rslora and (rules.truthy(self.rank_pattern) or rules.truthy(self.alpha_pattern))
      and type(init) == "string"
      and (init:sub(1, 5) == "pissa" or init == "olora" or init == "corda" or init == "lora_ga") then
      chk.warn("use_rslora with rank_pattern/alpha_pattern and init_lora_weights=%s: save_pretrained will not be "
        .. "able to restore the modified base weights (path_initial_model_for_weight_conversion); drop rslora "
        .. "or the patterns if you need that", repr(init))
    end
  end,
})

-- LoraModel -------------------------------------------------------------------
-- What get_peft_model builds (PEFT's lora/model.py and lora/layer.py: update_layer of
-- Linear, Embedding and _ConvNd, dispatch_default, the variants of variants.py).

local t = peft.tuner

-- the variant keys LoraLayer.resolve_lora_variant would request, sorted
local function lora_variants(cfg)
  local req = {}
  if cfg.init_lora_weights == "mica" then req[#req + 1] = "mica" end
  for _, f in ipairs { "use_dora", "arrow_config", "use_bdlora", "alora_invocation_tokens",
                       "velora_config", "monteclora_config", "kasa_config" } do
    if t.truthy(t.get(cfg, f)) then req[#req + 1] = f end
  end
  table.sort(req)
  return req
end

-- the variants each layer type accepts
local LORA_VARIANTS = {
  linear = { use_dora = true, arrow_config = true, use_bdlora = true, alora_invocation_tokens = true,
             velora_config = true, monteclora_config = true, mica = true, kasa_config = true },
  embedding = { use_dora = true, mica = true },
  conv2d = { use_dora = true },
}

-- the shapes of A and B after the initialisation: the data-driven ones slice an
-- SVD or QR of the base weight, which has min(in, out) components
local function init_shapes(cfg, m, r, fin, fout)
  local init = cfg.init_lora_weights
  local k = math.min(fin, fout)
  if type(init) ~= "string" then return { r, fin }, { fout, r } end
  if init == "mica" and r > k then
    t.refuse("ValueError", "MiCA requires `r` <= min(in_features, out_features) but got r=%d for %s (max usable r "
      .. "is %d)", r, m.name, k)
  elseif init == "orthogonal" and r % 2 ~= 0 then
    t.refuse("ValueError", "Orthogonal initialization requires the LoRA rank to be even, got %d instead.", r)
  elseif init == "corda" then
    t.refuse("ValueError", "init_lora_weights 'corda' needs the eigens preprocess_corda computes on data (`eigens` "
      .. "attribute not found for layer %s); get_peft_model alone cannot build it", m.name)
  elseif init == "pissa" then
    local n = math.min(r, k)
    return { n, fin }, { fout, n }
  elseif init:match("^pissa_niter_") then
    if r > k then
      t.not_computed("LoRA with init_lora_weights=%q and r (%d) > min(in_features, out_features) (%d)", init, r, k)
    end
  elseif init == "olora" then
    -- a QR of the weight as stored: Conv1D keeps (in, out)
    local n = math.min(r, k)
    if m.kind == "conv1d" then return { n, fout }, { fin, n } end
    return { n, fin }, { fout, n }
  end
  return { r, fin }, { fout, r }
end

local function lora_layer(cfg, m, ctx)
  local a = ctx.adapter
  local r = t.pattern_value(t.get(cfg, "rank_pattern"), ctx.key, t.int_field(cfg, "r", "LoRA"))
  local alpha = t.pattern_value(t.get(cfg, "alpha_pattern"), ctx.key, cfg.lora_alpha)
  ctx.r, ctx.alpha = r, alpha
  if math.type(r) ~= "integer" then
    t.refuse("TypeError", "LoRA: the rank of %s must be an integer, got %s", m.name, tostring(r))
  end
  if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
  t.dropout(cfg, "lora_dropout")
  local kind = m.kind == "conv1d" and "linear" or m.kind
  local req = lora_variants(cfg)
  local variant = req[1]
  if #req > 1 or (variant and not LORA_VARIANTS[kind][variant]) then
    t.refuse("ValueError", "Invalid or unsupported variant combination: (%s) for %s", table.concat(req, ", "),
      t.describe(m))
  end
  if variant == "kasa_config" and m.kind == "conv1d" then
    t.refuse("ValueError", "KaSA does not support `fan_in_fan_out=True` layers (e.g. Conv1D). Please target "
      .. "nn.Linear layers.")
  end
  if variant == "arrow_config" then
    t.not_computed("LoRA with arrow_config: Arrow's router layers are built by create_arrow_model, not computed here")
  end
  local lora_bias = cfg.lora_bias == true
  local out = {}
  local b_frozen = variant == "mica"
  if m.kind == "embedding" then
    if lora_bias then
      t.refuse("ValueError", "lora_bias=True is not supported for %s", t.describe(m))
    end
    if cfg.init_lora_weights == "mica" and r > math.min(m.num_embeddings, m.embedding_dim) then
      t.refuse("ValueError", "MiCA requires `r` <= min(num_embeddings, embedding_dim) but got r=%d for %s", r, m.name)
    end
    out[#out + 1] = t.param("lora_embedding_A", a, { r, m.num_embeddings })
    out[#out + 1] = t.param("lora_embedding_B", a, { m.embedding_dim, r }, { frozen = b_frozen })
    if variant == "use_dora" then out[#out + 1] = t.module("lora_magnitude_vector", a, "weight", { m.embedding_dim }) end
    return out
  end
  local fin, fout = m.in_features, m.out_features
  if m.kind == "conv2d" then
    local kh, kw = t.kernel(m)
    out[#out + 1] = t.module("lora_A", a, "weight", { r, fin, kh, kw })
    out[#out + 1] = t.module("lora_B", a, "weight", { fout, r, 1, 1 }, { frozen = b_frozen })
    if lora_bias then out[#out + 1] = t.module("lora_B", a, "bias", { fout }, { frozen = b_frozen }) end
    if variant == "use_dora" then out[#out + 1] = t.module("lora_magnitude_vector", a, "weight", { 1, fout, 1, 1 }) end
    return out
  end
  local ashape, bshape = init_shapes(cfg, m, r, fin, fout)
  if variant == "use_bdlora" then
    -- BD-LoRA: the A or B of the modules its patterns name (as substrings) is block-diagonal
    local bd = cfg.use_bdlora
    local function hit(list)
      for _, p in ipairs(list or {}) do
        if ctx.key:find(p, 1, true) then return true end
      end
      return false
    end
    local in_a, in_b = hit(t.get(bd, "target_modules_bd_a")), hit(t.get(bd, "target_modules_bd_b"))
    local nb = bd.nblocks
    if in_a and in_b then t.refuse("ValueError", "Target %s matches both A and B block-diagonal patterns", ctx.key) end
    if bd.match_strict ~= false and not (in_a or in_b) then
      t.refuse("ValueError", "Target %s matches neither A nor B block-diagonal patterns (BD-LoRA's match_strict)",
        ctx.key)
    end
    if in_a then ashape = { r, fin // nb } elseif in_b then bshape = { fout, r // nb } end
  end
  out[#out + 1] = t.module("lora_A", a, "weight", ashape)
  out[#out + 1] = t.module("lora_B", a, "weight", bshape, { frozen = b_frozen })
  if lora_bias then out[#out + 1] = t.module("lora_B", a, "bias", { fout }, { frozen = b_frozen }) end
  if variant == "use_dora" then
    out[#out + 1] = t.module("lora_magnitude_vector", a, "weight", { fout })
  elseif variant == "kasa_config" then
    out[#out + 1] = t.param("lora_diag", a, { r })
  elseif variant == "velora_config" then
    local groups = cfg.velora_config.num_groups
    out[#out + 1] = t.buffer("lora_velora_embed", a, { (fin + groups - 1) // groups }, true)
  elseif variant == "monteclora_config" then
    local mc = cfg.monteclora_config
    out[#out + 1] = t.module("lora_monteclora_sampler", a, "std_prior", { ashape[1] })
    out[#out + 1] = t.module("lora_monteclora_sampler", a, "expert_weights_prior", { mc.num_samples })
    out[#out + 1] = t.buffer("lora_monteclora_sampler." .. a .. ".gaussian_var_prior", nil, { ashape[1], ashape[1] }, true)
    out[#out + 1] = t.buffer("lora_monteclora_sampler." .. a .. ".expert_weights", nil, { mc.num_samples }, true)
  end
  return out
end

peft.define("LoraModel", {
  layer_names = { "lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B", "lora_magnitude_vector",
                  "lora_diag", "lora_monteclora_sampler" },
  targets = "lora",
  kinds = { linear = true, conv1d = true, embedding = true, conv2d = true },
  kind_error = "ValueError",
  supported = "torch.nn.Linear, torch.nn.Embedding, torch.nn.Conv1d/2d/3d, transformers' Conv1D and "
    .. "torch.nn.MultiheadAttention",
  prepare = function(plan, cfg, ctx)
    local rep = t.get(cfg, "layer_replication")
    if rep ~= nil and #rep > 0 then plan:replicate_layers(rep) end
  end,
  layer = lora_layer,
  -- target_parameters: a ParamWrapper around the module holding each named parameter
  parameter = function(plan, cfg, ctx, names, method, mcls)
    local wanted = {}
    for _, n in ipairs(names) do wanted[#wanted + 1] = n end
    table.sort(wanted)
    local function hit(key)
      for _, w in ipairs(wanted) do
        if key == w or key:sub(-#w - 1) == "." .. w then return true end
      end
      return false
    end
    local n = 0
    for _, m in ipairs(plan.modules) do
      for _, pn in ipairs(m.param_order) do
        local key = m.name .. "." .. pn
        if hit(key) then
          if m.name == "" then
            t.refuse("ValueError", "Targeting an nn.Parameter on the top-level module is not supported (parameter "
              .. "'%s').", pn)
          end
          if plan.layers[m.name] then
            t.refuse("ValueError", "Trying to wrap an `nn.Parameter` of layer '%s', which is not a valid target. Make "
              .. "sure that this layer is not also targeted with `target_modules`.", m.name)
          end
          for _, bad in ipairs { "lora_dropout", "fan_in_fan_out", "lora_bias", "use_dora", "velora_config",
                                 "kasa_config" } do
            local v = t.get(cfg, bad)
            if v ~= nil and v ~= false and v ~= 0 and v ~= 0.0 then
              t.refuse("ValueError", "lora.ParamWrapper does not work with %s set", bad)
            end
          end
          if m.kind == "conv1d" then t.refuse("ValueError", "lora.ParamWrapper does not work with Conv1D layers") end
          if #lora_variants(cfg) > 0 then
            t.refuse("ValueError", "lora.ParamWrapper does not work with LoRA variants like DoRA.")
          end
          local shape = m.params[pn].shape
          local experts, fin, fout
          if #shape == 3 then experts, fin, fout = shape[1], shape[3], shape[2]
          elseif #shape == 2 then experts, fin, fout = 1, shape[2], shape[1]
          else t.refuse("ValueError", "lora.ParamWrapper supports 2-d and 3-d parameters, %s has %d dimensions", key, #shape) end
          local r = t.pattern_value(t.get(cfg, "rank_pattern"), key, cfg.r)
          if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
          plan:add_layer(m, { t.module("lora_A", ctx.adapter, "weight", { r * experts, fin }),
                              t.module("lora_B", ctx.adapter, "weight", { fout, r * experts }) }, ctx.adapter, method, mcls)
          n = n + 1
        end
      end
    end
    return n
  end,
  -- reading saved weights: the rank is lora_A's first dimension
  rank_of = function(layer, shape)
    if layer == "lora_A" or layer == "lora_embedding_A" then return shape[1] end
  end,
  expected_rank = function(cfg, module) return t.pattern_value(t.get(cfg, "rank_pattern"), module, cfg.r) end,
  -- every adapted module has a DoRA magnitude exactly when use_dora is set
  check_weights = function(cfg, w, problem)
    local with = {}
    for _, k in ipairs(w.group.keys) do
      local e = w.iso.entries[k]
      if e.layer == "lora_magnitude_vector" then with[e.module] = true end
    end
    for _, mod in ipairs(w.group.modules) do
      if cfg.use_dora and not with[mod] then
        problem("%s has no DoRA magnitude vector (use_dora is true)", w.module_of(mod))
      elseif not cfg.use_dora and with[mod] then
        problem("%s has a DoRA magnitude vector but use_dora is false", w.module_of(mod))
      end
    end
  end,
  -- DoRA's magnitude is saved without its ".weight" (the format from before DoRA became a module)
  saved = function(key, adapter, cfg)
    key = peft.peft_model.remove_adapter_name(key, adapter)
    if cfg.use_dora then key = key:gsub("%.lora_magnitude_vector%.weight$", ".lora_magnitude_vector") end
    return key
  end,
})
