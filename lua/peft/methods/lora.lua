-- LoRA: trainable low-rank matrices A and B added beside each targeted layer.
local peft = require "peft"
local rules = require "peft.rules"
local types = peft.types

local function repr(v) return types.repr(v) end

-- helper dataclasses -------------------------------------------------------

peft.declare_helper {
  name = "LoraRuntimeConfig",
  doc = "LoRA settings that only apply while running; never saved with the adapter.",
  fields = function() return {
    { "ephemeral_gpu_offload", "bool", false,
      "Copy CPU-held data to the GPU for heavy operations (currently DoRA initialisation), then back." },
  } end,
}

peft.declare_helper {
  name = "LoftQConfig",
  doc = "LoftQ: quantise the base weights and initialise LoRA to compensate the quantisation error.",
  fields = function() return {
    { "loftq_bits", "int", 4, "Bits used to quantise the base weights." },
    { "loftq_iter", "int", 1, "Number of alternating quantise / low-rank approximation steps." },
  } end,
}

peft.declare_helper {
  name = "EvaConfig",
  doc = "EVA: data-driven LoRA initialisation from the SVD of layer input activations.",
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
}

peft.declare_helper {
  name = "CordaConfig",
  doc = "CorDA: context-oriented decomposition used to build the LoRA initialisation.",
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
}

peft.declare_helper {
  name = "LoraGAConfig",
  doc = "LoRA-GA: initialise A and B from the SVD of an estimated full fine-tuning gradient.",
  fields = function() return {
    { "direction", "Literal['ArBr', 'A2rBr', 'ArB2r', 'random']", "ArB2r",
      "How the gradient's singular directions are shared out between A and B." },
    { "scale", "Literal['stable', 'weight_svd', 'gd_scale', 'unit']", "stable",
      "How the initial A and B are scaled." },
    { "stable_gamma", "int", 16, "Gamma of the 'stable' scaling." },
  } end,
}

peft.declare_helper {
  name = "VeloraConfig",
  doc = "VeLoRA: keep compressed activations for the backward pass of the A projection.",
  fields = function() return {
    { "num_groups", "int", 64,
      "Groups the input features are split into before compression (more: less error, more memory).", gt = 0 },
    { "scale", "float", 1.0, "Factor applied to the reconstructed activations in the backward pass.", gt = 0 },
    { "init_type", "Literal['batch_average', 'batch_average_once', 'random']", "batch_average",
      "How the projection is set: from every batch, from the first batch only, or at random." },
  } end,
}

peft.declare_helper {
  name = "MontecloraConfig",
  doc = "MonteCLoRA: Monte Carlo sampled perturbations on top of the LoRA weights.",
  fields = function() return {
    { "num_samples", "int", 8, "Monte Carlo samples drawn per forward pass.", gt = 0 },
    { "use_entropy", "bool", false, "Add an entropy term that keeps the sample weights from collapsing." },
    { "dirichlet_prior", "float", 0.1, "Concentration of the Dirichlet prior on the sample weights.", gt = 0 },
    { "sample_scaler", "float", 0.0001, "Size of the sampled perturbations." },
    { "kl_loss_weight", "float", 1e-05, "Weight of the KL term of the variational objective." },
    { "buffer_size", "int", 150, "Size of the sampler's buffer.", gt = 0 },
  } end,
}

peft.declare_helper {
  name = "ArrowConfig",
  doc = "Arrow: route each token among several trained LoRA adapters (optionally after GenKnowSub).",
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
}

peft.declare_helper {
  name = "BdLoraConfig",
  doc = "BD-LoRA: block-diagonal A or B in chosen modules, for faster sharded multi-LoRA serving.",
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
}

peft.declare_helper {
  name = "KasaConfig",
  doc = "KaSA: drop the smallest singular values of the base weight, learn a diagonal between A and B.",
  fields = function() return {
    { "beta", "float", 0.0001, "Weight of the L2 penalty on the learned singular values.", min = 0 },
    { "gamma", "float", 0.001, "Weight of the orthogonality penalty on A and B.", min = 0 },
  } end,
}

-- LoraConfig -----------------------------------------------------------------

local LoraConfig = peft.declare_config {
  name = "LoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.LORA,
  doc = "LoRA: trainable low-rank matrices A and B added beside each targeted layer.",
  fields = function() return {
    { "r", "int", 8, "Rank of the update: the inner dimension of A and B." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names (exact or suffix), a regex matched in full, 'all-linear', or [] for none.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "lora_alpha", "int", 8, "Scaling numerator: the update is multiplied by lora_alpha / r." },
    { "lora_dropout", "float", 0.0, "Dropout probability on the input of the LoRA branch." },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "bias", "Literal['none', 'all', 'lora_only']", "none",
      "Which biases to train: none, all, or only those of the adapted layers." },
    { "use_rslora", "bool", false, "Rank-stabilised LoRA: scale by lora_alpha / sqrt(r) instead of lora_alpha / r." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "init_lora_weights",
      "bool | Literal['gaussian', 'eva', 'olora', 'pissa', 'pissa_niter_[number of iters]', 'corda', 'loftq', 'orthogonal', 'mica']",
      true,
      "Initialisation: true (B zeroed: a no-op), false (random, for debugging) or a scheme such as 'pissa_niter_16'.",
      -- PEFT uses 'lora_ga' (with lora_ga_config) although its Literal leaves
      -- it out; Python never checks the Literal, so PEFT accepts it
      check_type = "bool | Literal['gaussian', 'eva', 'olora', 'pissa', 'pissa_niter_[number of iters]', 'corda', "
        .. "'loftq', 'orthogonal', 'mica', 'lora_ga']" },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Adapt only the layers with these indices (one index or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') that layers_to_transform indexes." },
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
    rules.layer_selection(self, chk)
    if self.use_dora and rules.truthy(self.megatron_config) then
      chk.fail_value("use_dora", "must be false when megatron_config is set (DoRA does not support Megatron layers)")
    end

    -- init_lora_weights and the configs of the data-driven initialisations
    -- (one chain, as in PEFT: only the first matching case applies).
    -- PEFT also requires scipy for 'loftq': a Python package check, skipped.
    if init == "loftq" then
      if not rules.truthy(self.loftq_config) then
        chk.fail_value("loftq_config", "must be given (non-empty) when init_lora_weights is 'loftq'")
      end
      -- a LoftQConfig object was already turned into a plain dict
    elseif rules.truthy(self.loftq_config) then
      chk.set("loftq_config", {})
      chk.warn("loftq_config is ignored and cleared: init_lora_weights is %s, not 'loftq'", repr(init))
    elseif init == "eva" and self.eva_config == nil then
      chk.warn("init_lora_weights is 'eva' but eva_config is not given; using the default EvaConfig")
      chk.set("eva_config", peft.EvaConfig.new({}):to_dict())
    elseif init ~= "eva" and self.eva_config ~= nil then
      chk.warn("eva_config is ignored: init_lora_weights is %s, not 'eva'", repr(init))
    elseif init == "corda" and self.corda_config == nil then
      chk.warn("init_lora_weights is 'corda' but corda_config is not given; using the default CordaConfig")
      chk.set("corda_config", peft.CordaConfig.new({}):to_dict())
    elseif init ~= "corda" and self.corda_config ~= nil then
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

    if self.alora_invocation_tokens ~= nil and self.task_type ~= "CAUSAL_LM" then
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
}

local LoraModel = peft.declare_model { name = "LoraModel", prefix = "lora_" }

peft.register_peft_method {
  name = "lora",
  config_cls = LoraConfig,
  model_cls = LoraModel,
  prefix = "lora_",
  is_mixed_compatible = true,
}

return LoraConfig
