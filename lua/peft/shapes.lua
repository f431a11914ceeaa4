-- peft.shapes: the adapter parameters get_peft_model would create, without tensors.
--
--   local shapes = require "peft.shapes"
--   shapes.for_module("lora", cfg, { name = "model.layers.0.self_attn.q_proj", kind = "linear",
--                                    in_features = 4096, out_features = 4096 }, { r = 16 })
--   --> { { name = "lora_A.default.weight", shape = { 16, 4096 }, trainable = true, numel = 65536 }, ... }
--   shapes.shared("prompt_tuning", cfg, { token_dim = 4096 })
--   shapes.adapter_layer_names.lora, shapes.supported.lora
--
-- Every shape follows the layer code of PEFT 0.20 (src/peft/tuners/<method>/layer.py, the
-- update_layer / __init__ methods, and model.py for what each method accepts and the shared
-- tensors); the comment above each method's code names the function it follows.
--
-- Module descriptions: kind "linear" (torch.nn.Linear), "conv1d" (transformers' Conv1D, the
-- GPT-2 layer whose weight is stored (in, out); not torch.nn.Conv1d), "conv2d" (torch.nn.Conv2d;
-- optional groups = n and dilation = n, default 1), "embedding" (torch.nn.Embedding) or
-- "other" (LN tuning reads its parameters from module.parameters = { { name =, shape = }, ... };
-- adaption prompt reads module.hidden_size).
--
-- Entries: { name =, shape = { ... }, trainable = bool, numel = n }; shared() entries that are
-- buffers also carry buffer = true and saved = bool. A result list may carry notes = { "..." }:
-- facts about what get_peft_model does next that the shapes alone do not show.
--
-- trainable is requires_grad right after get_peft_model for the adapter being created, when it
-- is the active one (ctx.active ~= false) and cfg.inference_mode is false; with inference_mode
-- (or an inactive adapter) the per-module parameters of tuner methods are frozen.
local M = {}

-- adapter_layer_names: each layer class's tuple in PEFT 0.20 (git grep -n adapter_layer_names
-- src/peft/tuners). Methods without a tuner layer class (the prompt-learning methods, adaption
-- prompt, X-LoRA, UniLoRA whose layer inherits BaseTunerLayer's empty tuple) get an empty list.
-- LoRA's variants append to the instance's tuple at run time: lora_diag (KaSA) and
-- lora_monteclora_sampler (MonteCLoRA) are not in the class tuple and are not listed here.
M.adapter_layer_names = {
  lora = { "lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B", "lora_magnitude_vector" },
  adalora = { "lora_A", "lora_B", "lora_E", "lora_embedding_A", "lora_embedding_B" },
  adamss = { "adamss_A", "adamss_B" },
  adaption_prompt = {},
  beft = { "beft_bias" },
  boft = { "boft_R", "boft_s" },
  c3a = { "c3a_kernel" },
  cartridge = {},
  cpt = {},
  deft = { "deft_P", "deft_R" },
  delora = { "delora_A", "delora_B", "delora_lambda" },
  fourierft = { "fourierft_spectrum" },
  frod = { "frod_lambda_l", "frod_lambda_s_values" },
  glora = { "glora_A", "glora_B", "glora_C", "glora_D", "glora_E" },
  gralora = { "gralora_A", "gralora_B", "gralora_A_general", "gralora_B_general" },
  hira = { "hira_A", "hira_B", "hira_embedding_A", "hira_embedding_B" },
  hra = { "hra_u" },
  ia3 = { "ia3_l" },
  lily = { "lily_A", "lily_B", "lily_router" },
  ln_tuning = { "ln_tuning_layers" },
  loha = { "hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2" },
  lokr = { "lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b", "lokr_t2" },
  miss = { "miss_block" },
  oft = { "oft_R", "oft_embedding_R" },
  shira = { "shira_weight" },
  prompt_tuning = {},
  multitask_prompt_tuning = {},
  osf = { "osf_svd_params" },
  p_tuning = {},
  peanut = { "peanut_A", "peanut_B", "peanut_encoders", "peanut_decoders" },
  poly = { "poly_lora_A", "poly_lora_B", "poly_router" },
  prefix_tuning = {},
  psoft = { "psoft_R" },
  pvera = { "pvera_lambda_b", "pvera_lambda_d" },
  randlora = { "randlora_lambda", "randlora_gamma" },
  road = { "road_theta", "road_alpha" },
  supertuning = { "supertuning_values", "supertuning_lora_A", "supertuning_lora_B" },
  tinylora = { "tinylora_v" },
  trainable_tokens = { "trainable_tokens_delta" },
  unilora = {},
  vblora = { "vblora_logits_A", "vblora_logits_B", "vblora_vector_bank" },
  vera = { "vera_lambda_b", "vera_lambda_d" },
  waveft = { "waveft_spectrum" },
  xlora = {},
  -- BoneLayer as PEFT last had it (src/peft/tuners/bone/layer.py, removed in 2e49b6f68)
  bone = { "bone_block" },
}

local DISPLAY = {
  lora = "LoRA", adalora = "AdaLoRA", adamss = "AdaMSS", adaption_prompt = "Adaption prompt",
  beft = "BEFT", boft = "BOFT", c3a = "C3A", cartridge = "Cartridge", cpt = "CPT", deft = "DeFT",
  delora = "DeLoRA", fourierft = "FourierFT", frod = "FRoD", glora = "GLoRA", gralora = "GraLoRA",
  hira = "HiRA", hra = "HRA", ia3 = "IA3", lily = "Lily", ln_tuning = "LN tuning", loha = "LoHa",
  lokr = "LoKr", miss = "MiSS", oft = "OFT", shira = "SHiRA", prompt_tuning = "Prompt tuning",
  multitask_prompt_tuning = "Multitask prompt tuning", osf = "OSF", p_tuning = "P-tuning",
  peanut = "PEANuT", poly = "Poly", prefix_tuning = "Prefix tuning", psoft = "PSOFT", pvera = "PVeRA",
  randlora = "RandLoRA", road = "RoAd", supertuning = "SuperTuning", tinylora = "TinyLoRA",
  trainable_tokens = "Trainable tokens", unilora = "UniLoRA", vblora = "VBLoRA", vera = "VeRA",
  waveft = "WaveFT", xlora = "X-LoRA", bone = "Bone",
}

-- helpers ------------------------------------------------------------------

local FAIL = {} -- marker of the errors a handler raises to say "not computed"

local function fail(fmt, ...)
  error({ [FAIL] = true, message = string.format(fmt, ...) }, 0)
end

local null
do
  local ok, core = pcall(require, "peft.core")
  if ok and type(core) == "table" then null = core.null end
end

-- cfg.key that works for config objects (which raise on unknown fields) and plain tables;
-- PEFT's None (nil or peft.null) reads as nil.
local function get(cfg, key)
  local ok, v = pcall(function() return cfg[key] end)
  if not ok or v == null then return nil end
  return v
end


local truthy = require("peft.rules").truthy

local function int(v)
  return math.type(v) == "integer" and v or (math.type(v) == "float" and math.tointeger(v)) or nil
end

local function shape_numel(shape)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  return n
end

local function entry(name, shape, trainable)
  return { name = name, shape = shape, trainable = trainable, numel = shape_numel(shape) }
end

-- an integer config value (or nil, message naming the field when it is null)
local function cfg_int(cfg, key, who)
  local v = get(cfg, key)
  if v == nil then fail("%s: %s is null in the config, and the shapes depend on it", who, key) end
  local i = int(v)
  if not i then fail("%s: %s must be an integer, got %s", who, key, tostring(v)) end
  return i
end

local function mod_int(module, key, who)
  local i = int(module[key])
  if not i or i <= 0 then
    fail("%s: the module description needs %s (a positive integer), got %s", who, key, tostring(module[key]))
  end
  return i
end

local function linear_dims(module, who)
  return mod_int(module, "in_features", who), mod_int(module, "out_features", who)
end

local function kernel(module, who)
  local k = module.kernel_size
  if type(k) == "number" then k = { k, k } end
  if type(k) ~= "table" or not int(k[1]) or not int(k[2]) or k[1] <= 0 or k[2] <= 0 then
    fail("%s: a conv2d module description needs kernel_size = { kh, kw }", who)
  end
  return int(k[1]), int(k[2])
end

local function groups(module)
  local g = module.groups == nil and 1 or int(module.groups)
  if not g or g <= 0 then fail("module groups must be a positive integer, got %s", tostring(module.groups)) end
  return g
end

local KINDS = { linear = true, embedding = true, conv1d = true, conv2d = true, other = true }

local function not_for_kind(method, kind, why)
  fail("%s shapes for %s modules are not computed: %s", DISPLAY[method] or method, kind, why)
end

-- ctx.r when the caller resolved rank_pattern, else cfg.r
local function rank(cfg, ctx, who, key)
  key = key or "r"
  local r = ctx[key] ~= nil and int(ctx[key]) or nil
  if ctx[key] ~= nil and not r then fail("%s: ctx.%s must be an integer, got %s", who, key, tostring(ctx[key])) end
  return r or cfg_int(cfg, key, who)
end

-- value of a FourierFT/C3A-style pattern dict: PEFT takes the first key k (in dict order,
-- which is sorted order in a file PEFT wrote) with re.match(rf".*\.{k}$", module_name),
-- else the exact module name, else the default.
local function pattern_value(pattern, name, default, who, field, ctx_key)
  if type(pattern) ~= "table" or next(pattern) == nil then return default end
  if type(name) ~= "string" then
    fail("%s: %s is set; give module.name or ctx.%s", who, field, ctx_key)
  end
  local core = require "peft.core"
  local keys = {}
  for k in pairs(pattern) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local ok, err = core.re_match(".*\\." .. k .. "$", name, "start")
    if ok == nil then fail("%s: %s key %s: %s", who, field, k, err) end
    if ok then return pattern[k] end
  end
  if pattern[name] ~= nil then return pattern[name] end
  return default
end

-- LoRA ---------------------------------------------------------------------
-- src/peft/tuners/lora/layer.py: LoraLayer.update_layer (Linear, Conv1D through Linear),
-- Embedding.update_layer, _ConvNd.update_layer; dispatch_default for what is accepted;
-- variants.py for DoRA (DoraLinearVariant / DoraEmbeddingVariant / _DoraConvNdVariant with
-- dora.py's get_weight_norm), KaSA (KasaLinearVariant.init: lora_diag) and MiCA (lora_B frozen).

-- the variant keys LoraLayer.resolve_lora_variant would request
local function lora_variants(cfg)
  local req = {}
  if get(cfg, "init_lora_weights") == "mica" then req[#req + 1] = "mica" end
  for _, f in ipairs { "use_dora", "arrow_config", "use_bdlora", "alora_invocation_tokens",
                       "velora_config", "monteclora_config", "kasa_config" } do
    if truthy(get(cfg, f)) then req[#req + 1] = f end
  end
  table.sort(req)
  return req
end

local LORA_VARIANTS = {
  linear = { use_dora = true, arrow_config = true, use_bdlora = true, alora_invocation_tokens = true,
             velora_config = true, monteclora_config = true, mica = true, kasa_config = true },
  embedding = { use_dora = true, mica = true },
  conv2d = { use_dora = true },
}

local function lora_module(cfg, module, ctx, tr)
  local kind, a = module.kind, ctx.adapter
  local who = "LoRA"
  local r = rank(cfg, ctx, who)
  if r <= 0 then fail("LoRA: r should be a positive integer, got %d", r) end
  local lora_bias = truthy(get(cfg, "lora_bias"))
  local init = get(cfg, "init_lora_weights")

  local vkind = (kind == "conv1d") and "linear" or kind
  if not LORA_VARIANTS[vkind] then
    not_for_kind("lora", kind, "LoRA adapts Linear, Conv1D, Embedding, Conv1d/2d/3d and MultiheadAttention "
      .. "layers; describe the module as linear, conv1d, conv2d or embedding")
  end
  if kind == "conv2d" and get(cfg, "velora_config") ~= nil then
    not_for_kind("lora", kind, "PEFT raises: VeLoRA does not support adapting conv layers")
  end
  local req = lora_variants(cfg)
  if #req > 1 then
    fail("LoRA: PEFT raises ValueError: invalid or unsupported variant combination (%s)", table.concat(req, ", "))
  end
  local variant = req[1]
  if variant and not LORA_VARIANTS[vkind][variant] then
    not_for_kind("lora", kind, string.format("PEFT raises ValueError: the %s variant is not available for this "
      .. "layer type (invalid or unsupported variant combination)", variant))
  end
  if variant == "arrow_config" or variant == "use_bdlora" or variant == "monteclora_config" then
    fail("LoRA shapes with %s are not computed (the variant reshapes or adds adapter modules)", variant)
  end
  if variant == "kasa_config" and kind == "conv1d" then
    not_for_kind("lora", kind, "PEFT raises: KaSA does not support fan_in_fan_out=True layers (Conv1D)")
  end

  local out = {}
  local b_trainable = tr and variant ~= "mica"
  if kind == "embedding" then
    if lora_bias then
      not_for_kind("lora", kind, "PEFT raises: lora_bias=True is not supported for Embedding")
    end
    local n, d = mod_int(module, "num_embeddings", who), mod_int(module, "embedding_dim", who)
    out[#out + 1] = entry("lora_embedding_A." .. a, { r, n }, tr)
    out[#out + 1] = entry("lora_embedding_B." .. a, { d, r }, b_trainable)
    if variant == "use_dora" then
      out[#out + 1] = entry("lora_magnitude_vector." .. a .. ".weight", { d }, tr)
    end
    return out
  end

  local fin, fout = linear_dims(module, who)
  if type(init) == "string" and init ~= "gaussian" and init ~= "eva" and r > math.min(fin, fout) then
    fail("LoRA shapes with init_lora_weights=%q and r (%d) > min(in_features, out_features) (%d) are not "
      .. "computed: the data-driven initialisation replaces lora_A/lora_B with truncated factors", init, r,
      math.min(fin, fout))
  end
  if kind == "conv2d" then
    local kh, kw = kernel(module, who)
    local g = groups(module)
    if r % g ~= 0 then
      fail("LoRA: PEFT raises: a Conv2d with groups=%d needs a rank divisible by groups, got r=%d", g, r)
    end
    out[#out + 1] = entry("lora_A." .. a .. ".weight", { r, fin, kh, kw }, tr)
    out[#out + 1] = entry("lora_B." .. a .. ".weight", { fout, r // g, 1, 1 }, b_trainable)
    if lora_bias then out[#out + 1] = entry("lora_B." .. a .. ".bias", { fout }, b_trainable) end
    if variant == "use_dora" then
      out[#out + 1] = entry("lora_magnitude_vector." .. a .. ".weight", { 1, fout, 1, 1 }, tr)
    end
    return out
  end

  -- linear and Conv1D (a lora.Linear with fan_in_fan_out=True)
  out[#out + 1] = entry("lora_A." .. a .. ".weight", { r, fin }, tr)
  out[#out + 1] = entry("lora_B." .. a .. ".weight", { fout, r }, b_trainable)
  if lora_bias then out[#out + 1] = entry("lora_B." .. a .. ".bias", { fout }, b_trainable) end
  if variant == "use_dora" then
    out[#out + 1] = entry("lora_magnitude_vector." .. a .. ".weight", { fout }, tr)
  elseif variant == "kasa_config" then
    out[#out + 1] = entry("lora_diag." .. a, { r }, tr)
  end
  if init == "eva" then
    out.notes = { "EVA: get_peft_model creates these rank-r matrices; initialize_lora_eva_weights later "
      .. "redistributes ranks from data (eva_config.rho > 1), which can change r per layer" }
  end
  return out
end

-- AdaLoRA ------------------------------------------------------------------
-- src/peft/tuners/adalora/layer.py: AdaLoraLayer.update_layer (SVDLinear, Conv1D as SVDLinear),
-- SVDConv2d.update_layer; model.py _create_and_replace passes r = init_r, _create_new_module
-- accepts Linear, Conv1D and Conv2d.
local function adalora_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "AdaLoRA"
  if kind ~= "linear" and kind ~= "conv1d" and kind ~= "conv2d" then
    not_for_kind("adalora", kind, "AdaLoRA supports only torch.nn.Linear, Conv1D and torch.nn.Conv2d")
  end
  local r = cfg_int(cfg, "init_r", who)
  if r < 0 then fail("AdaLoRA: init_r should be a positive integer or 0, got %d", r) end
  local fin, fout = linear_dims(module, who)
  local a_cols = fin
  if kind == "conv2d" then
    local kh, kw = kernel(module, who)
    a_cols = fin * kh * kw
  end
  return {
    entry("lora_A." .. a, { r, a_cols }, tr),
    entry("lora_B." .. a, { fout, r }, tr),
    entry("lora_E." .. a, { r, 1 }, tr),
    -- ranknum: a Parameter created with requires_grad=False, never saved in the adapter
    entry("ranknum." .. a, { 1 }, false),
  }
end

-- LoHa and LoKr (LyCORIS layers) share their module check: no transformers Conv1D, a
-- positive rank. Returns the rank.
local function lycoris_rank(method, who, cfg, module, ctx)
  local kind = module.kind
  if kind == "conv1d" then
    not_for_kind(method, kind, "PEFT's " .. who .. " has no layer for transformers' Conv1D ("
      .. who .. "Model supports torch.nn.Linear, torch.nn.Conv1d and torch.nn.Conv2d)")
  elseif kind ~= "linear" and kind ~= "conv2d" then
    not_for_kind(method, kind, who .. " supports only torch.nn.Linear, torch.nn.Conv1d and torch.nn.Conv2d")
  end
  local r = rank(cfg, ctx, who)
  if r <= 0 then fail("%s: r should be a positive integer, got %d", who, r) end
  return r
end

-- LoHa ---------------------------------------------------------------------
-- src/peft/tuners/loha/layer.py: LoHaLayer.update_layer (the weight shape) and
-- create_adapter_parameters; model.py layers_mapping (nn.Conv2d, nn.Conv1d, nn.Linear).
local function loha_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "LoHa"
  local r = lycoris_rank("loha", who, cfg, module, ctx)
  local fin, fout = linear_dims(module, who)
  local rows, cols = fout, fin
  if kind == "conv2d" then
    local kh, kw = kernel(module, who)
    local cin = fin // groups(module)
    local effective = truthy(get(cfg, "use_effective_conv2d")) and not (kh == 1 and kw == 1)
    if effective then
      return {
        entry("hada_w1_a." .. a, { r, fout }, tr),
        entry("hada_w1_b." .. a, { r, cin }, tr),
        entry("hada_w2_a." .. a, { r, fout }, tr),
        entry("hada_w2_b." .. a, { r, cin }, tr),
        entry("hada_t1." .. a, { r, r, kh, kw }, tr),
        entry("hada_t2." .. a, { r, r, kh, kw }, tr),
      }
    end
    cols = cin * kh * kw
  end
  return {
    entry("hada_w1_a." .. a, { rows, r }, tr),
    entry("hada_w1_b." .. a, { r, cols }, tr),
    entry("hada_w2_a." .. a, { rows, r }, tr),
    entry("hada_w2_b." .. a, { r, cols }, tr),
  }
end

-- LoKr ---------------------------------------------------------------------
-- src/peft/tuners/lokr/layer.py: factorization(), LoKrLayer.update_layer (shape, use_w1,
-- use_w2, use_effective_conv2d) and create_adapter_parameters.

--- factorization(dimension, factor) -> m, n: PEFT's lokr factorization, step for step.
function M.lokr_factorization(dimension, factor)
  factor = factor or -1
  if factor > 0 and dimension % factor == 0 then
    return factor, dimension // factor
  end
  if factor == -1 then factor = dimension end
  local m, n = 1, dimension
  local length = m + n
  while m < n do
    local new_m = m + 1
    while dimension % new_m ~= 0 do new_m = new_m + 1 end
    local new_n = dimension // new_m
    if new_m + new_n > length or new_m > factor then break end
    m, n = new_m, new_n
  end
  if m > n then m, n = n, m end
  return m, n
end

local function lokr_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "LoKr"
  local r = lycoris_rank("lokr", who, cfg, module, ctx)
  local factor = int(get(cfg, "decompose_factor")) or -1
  local decompose_both = truthy(get(cfg, "decompose_both"))
  local fin, fout = linear_dims(module, who)
  local kh, kw
  if kind == "conv2d" then
    kh, kw = kernel(module, who)
    fin = fin // groups(module)
  end
  local in_m, in_n = M.lokr_factorization(fin, factor)
  local out_l, out_k = M.lokr_factorization(fout, factor)
  -- shape = ((out_l, out_k), (in_m, in_n)[, kh, kw]); r < x / 2 in Python is 2r < x for integers
  local use_w1 = not (decompose_both and 2 * r < math.max(out_l, in_m))
  local use_w2 = not (2 * r < math.max(out_k, in_n))
  local effective = kind == "conv2d" and truthy(get(cfg, "use_effective_conv2d")) and not (kh == 1 and kw == 1)

  local out = {}
  if use_w1 then
    out[#out + 1] = entry("lokr_w1." .. a, { out_l, in_m }, tr)
  else
    out[#out + 1] = entry("lokr_w1_a." .. a, { out_l, r }, tr)
    out[#out + 1] = entry("lokr_w1_b." .. a, { r, in_m }, tr)
  end
  if kind == "conv2d" then
    if use_w2 then
      out[#out + 1] = entry("lokr_w2." .. a, { out_k, in_n, kh, kw }, tr)
    elseif effective then
      out[#out + 1] = entry("lokr_w2_a." .. a, { r, out_k }, tr)
      out[#out + 1] = entry("lokr_w2_b." .. a, { r, in_n }, tr)
      out[#out + 1] = entry("lokr_t2." .. a, { r, r, kh, kw }, tr)
    else
      out[#out + 1] = entry("lokr_w2_a." .. a, { out_k, r }, tr)
      out[#out + 1] = entry("lokr_w2_b." .. a, { r, in_n * kh * kw }, tr)
    end
  elseif use_w2 then
    out[#out + 1] = entry("lokr_w2." .. a, { out_k, in_n }, tr)
  else
    out[#out + 1] = entry("lokr_w2_a." .. a, { out_k, r }, tr)
    out[#out + 1] = entry("lokr_w2_b." .. a, { r, in_n }, tr)
  end
  return out
end

-- IA3 ----------------------------------------------------------------------
-- src/peft/tuners/ia3/layer.py: IA3Layer.update_layer (Linear, Conv1D through Linear) and
-- _ConvNd.update_layer; model.py _create_new_module (Linear, Conv1D, Conv2d, Conv3d) and
-- _check_target_module_feedforward.
local function ia3_feedforward(cfg, module, ctx)
  if ctx.is_feedforward ~= nil then return ctx.is_feedforward and true or false end
  local ff = get(cfg, "feedforward_modules")
  if type(ff) == "table" then
    if type(module.name) ~= "string" then
      fail("IA3: give ctx.is_feedforward or module.name (to match feedforward_modules)")
    end
    for _, key in ipairs(ff) do
      -- Python's key.endswith(target_key): a plain suffix, no dot boundary
      if module.name:sub(-#key) == key then return true end
    end
    return false
  end
  fail("IA3: give ctx.is_feedforward (feedforward_modules is %s)",
    ff == nil and "null" or "a regular expression matched with re.fullmatch")
end

local function ia3_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "IA3"
  if kind ~= "linear" and kind ~= "conv1d" and kind ~= "conv2d" then
    not_for_kind("ia3", kind, "IA3 supports only torch.nn.Linear, Conv1D, torch.nn.Conv2d and torch.nn.Conv3d")
  end
  local fin, fout = linear_dims(module, who)
  local ffw = ia3_feedforward(cfg, module, ctx)
  local shape
  if kind == "conv2d" then
    shape = { 1, ffw and fin or fout, 1, 1 }
  elseif ffw then
    shape = { 1, fin }
  else
    shape = { fout, 1 }
  end
  return { entry("ia3_l." .. a, shape, tr) }
end

-- VeRA / PVeRA -------------------------------------------------------------
-- src/peft/tuners/vera/layer.py VeraLayer.update_layer (vera_lambda_b, vera_lambda_d), model.py
-- _get_tuner_layer_class (Linear, Conv1D), _find_dim and _init_vera_A_vera_B (the shared
-- projections, buffers persistent iff save_projection); PVeRA: pvera/layer.py update_layer
-- (lambda_d has 2r entries) and pvera/model.py _init_pvera_A_pvera_B.
local function vera_like_module(method, prefix, d_factor)
  return function(cfg, module, ctx, tr)
    local kind, a, who = module.kind, ctx.adapter, DISPLAY[method]
    if kind ~= "linear" and kind ~= "conv1d" then
      not_for_kind(method, kind, who .. " supports only torch.nn.Linear and Conv1D")
    end
    local r = cfg_int(cfg, "r", who)
    if r <= 0 then fail("%s: r should be a positive integer, got %d", who, r) end
    local _, fout = linear_dims(module, who)
    return {
      entry(prefix .. "_lambda_b." .. a, { fout }, tr),
      entry(prefix .. "_lambda_d." .. a, { r * d_factor }, tr),
    }
  end
end

-- largest (out, in) over the targeted modules a method can adapt (Linear and Conv1D)
local function largest_linear(method, info)
  local who = DISPLAY[method]
  local mods = info and info.modules
  if type(mods) ~= "table" then
    fail("%s: the shared projections are sized from model_info.modules (the targeted modules)", who)
  end
  local max_in, max_out
  for _, m in ipairs(mods) do
    if m.kind == "linear" or m.kind == "conv1d" then
      local fin, fout = linear_dims(m, who)
      max_in = math.max(max_in or 0, fin)
      max_out = math.max(max_out or 0, fout)
    end
  end
  if not max_in then
    fail("%s: PEFT raises: no layer types compatible with %s were found in model_info.modules", who, who)
  end
  return max_out, max_in
end

local function projection_buffers(method, cfg, info, adapter, prefix, a_rows_factor)
  local who = DISPLAY[method]
  local r = cfg_int(cfg, "r", who)
  local max_out, max_in = largest_linear(method, info)
  local saved = truthy(get(cfg, "save_projection"))
  local A = entry("base_model." .. prefix .. "_A." .. adapter, { r * a_rows_factor, max_in }, false)
  local B = entry("base_model." .. prefix .. "_B." .. adapter, { max_out, r }, false)
  A.buffer, A.saved, B.buffer, B.saved = true, saved, true, saved
  return { A, B }
end

-- OFT ----------------------------------------------------------------------
-- src/peft/tuners/oft/layer.py: OFTLayer.update_layer (Linear), Conv2d.update_layer,
-- Embedding.update_layer, adjust_oft_parameters, OFTRotationModule.__init__ (weight (r, n_elements),
-- rows/cols are non-persistent buffers); dispatch_default (Conv2d, Linear, Embedding).
local function adjust_oft(in_features, params)
  local higher
  if params < in_features then
    higher = params
    while higher <= in_features and in_features % higher ~= 0 do higher = higher + 1 end
  else
    return in_features
  end
  local lower = params
  while lower > 1 and in_features % lower ~= 0 do lower = lower - 1 end
  if (params - lower) <= (higher - params) then return lower end
  return higher
end
M.oft_adjust_parameters = adjust_oft

local function oft_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "OFT"
  if kind ~= "linear" and kind ~= "conv2d" and kind ~= "embedding" then
    not_for_kind("oft", kind, "OFT supports only torch.nn.Linear, torch.nn.Conv2d and torch.nn.Embedding")
  end
  local r = cfg_int(cfg, "r", who)
  local bs = cfg_int(cfg, "oft_block_size", who)
  local dim, pname
  if kind == "linear" then
    dim = mod_int(module, "in_features", who)
    pname = "oft_R"
  elseif kind == "embedding" then
    dim = mod_int(module, "embedding_dim", who)
    pname = "oft_embedding_R"
  else
    if module.dilation ~= nil and int(module.dilation) ~= 1 then
      not_for_kind("oft", kind, "PEFT raises: Conv2d with dilation > 1 is not supported by OFT")
    end
    local kh = kernel(module, who)
    -- PEFT multiplies by kernel_size[0] twice (a square kernel is assumed)
    dim = mod_int(module, "in_features", who) * kh * kh
    pname = "oft_R"
  end
  local adjusted
  if r == 0 and bs ~= 0 then
    if dim % bs ~= 0 or bs > dim then
      adjusted = string.format("oft_block_size %d adjusted to %d", bs, adjust_oft(dim, bs))
      bs = adjust_oft(dim, bs)
    end
    r = dim // bs
  elseif r ~= 0 and bs == 0 then
    if dim % r ~= 0 or r > dim then
      adjusted = string.format("r %d adjusted to %d", r, adjust_oft(dim, r))
      r = adjust_oft(dim, r)
    end
    bs = dim // r
  else
    fail("OFT: exactly one of r and oft_block_size must be non-zero (got r=%d, oft_block_size=%d)", r, bs)
  end
  local n_elements = bs * (bs - 1) // 2
  local rows = truthy(get(cfg, "block_share")) and 1 or r
  local out = { entry(pname .. "." .. a .. ".weight", { rows, n_elements }, tr) }
  out.notes = { string.format("OFT blocks: r=%d, oft_block_size=%d over %d input features", r, bs, dim) }
  if adjusted then out.notes[2] = "PEFT warns and adjusts: " .. adjusted end
  return out
end

-- BOFT ---------------------------------------------------------------------
-- src/peft/tuners/boft/layer.py: BOFTLayer.update_layer (Linear), Conv2d.update_layer,
-- block_butterfly_perm; model.py _get_tuner_layer_class (Linear, Conv2d).
-- PEFT sets boft_n_butterfly_factor to 1 when its fbd_cuda extension cannot be built
-- (get_fbd_cuda() is None): pass ctx.boft_fbd_cuda = false to get those shapes.
local function ilog2(n)
  local k = 0
  while n >= 2 do n = n // 2; k = k + 1 end
  return k
end

local function boft_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "BOFT"
  if kind ~= "linear" and kind ~= "conv2d" then
    not_for_kind("boft", kind, "BOFT supports only torch.nn.Linear and torch.nn.Conv2d")
  end
  local bs = cfg_int(cfg, "boft_block_size", who)
  local bn = cfg_int(cfg, "boft_block_num", who)
  local factor = cfg_int(cfg, "boft_n_butterfly_factor", who)
  if ctx.boft_fbd_cuda == false then factor = 1 end
  factor = factor - 1
  if factor < 0 then
    fail("BOFT: boft_n_butterfly_factor must be a positive integer, got %d", factor + 1)
  end
  local fin, fout = linear_dims(module, who)
  local dim, what = fin, "in_features"
  if kind == "conv2d" then
    local kh = kernel(module, who)
    dim, what = fin * kh * kh, "the convolutional kernel dimension" -- kernel_size[0] twice, as PEFT does
  end
  if bs == 0 and bn ~= 0 then
    if dim % bn ~= 0 then fail("BOFT: PEFT raises: %s (%d) must be divisible by boft_block_num (%d)", what, dim, bn) end
    if factor ~= 0 then
      if factor > ilog2(bn) then
        fail("BOFT: PEFT raises: invalid combination of boft_n_butterfly_factor (%d) and boft_block_num (%d)",
          factor + 1, bn)
      end
      if bn % (1 << factor) ~= 0 then
        fail("BOFT: PEFT raises: boft_block_num (%d) must be a multiple of 2^%d", bn, factor)
      end
    end
    bs = dim // bn
  elseif bs ~= 0 and bn == 0 then
    if dim % bs ~= 0 then fail("BOFT: PEFT raises: %s (%d) must be divisible by boft_block_size (%d)", what, dim, bs) end
    if factor ~= 0 then
      if dim < bs * (1 << factor) or dim % (bs * (1 << factor)) ~= 0 then
        fail("BOFT: PEFT raises: invalid combination of %s (%d), boft_n_butterfly_factor (%d) and "
          .. "boft_block_size (%d)", what, dim, factor + 1, bs)
      end
    end
    bn = dim // bs
  else
    fail("BOFT: exactly one of boft_block_size and boft_block_num must be non-zero (got %d and %d)", bs, bn)
  end
  if factor ~= 0 then
    if bn % 2 ~= 0 then fail("BOFT: PEFT raises: boft_block_num (%d) must be an even number", bn) end
    if bs % 2 ~= 0 then fail("BOFT: PEFT raises: boft_block_size (%d) must be an even number", bs) end
    for i = 0, factor do
      if (bn // (1 << i)) * (bs // 2) * 2 > dim then fail("BOFT: PEFT raises: invalid number of blocks") end
    end
  end
  local out = {
    entry("boft_R." .. a, { factor + 1, bn, bs, bs }, tr),
    entry("boft_s." .. a, kind == "conv2d" and { 1, fout } or { fout, 1 }, tr),
  }
  out.notes = { string.format("boft_block_num=%d, boft_block_size=%d, butterfly factor %d%s", bn, bs, factor + 1,
    ctx.boft_fbd_cuda == false and " (fbd_cuda unavailable)" or "") }
  return out
end

-- HRA, MiSS, BEFT, C3A, DeLoRA, RoAd, SHiRA, FourierFT, RandLoRA, VBLoRA ------------

-- src/peft/tuners/hra/layer.py HRALayer.update_layer; model.py (Linear, Conv2d; r = config.r)
local function hra_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "HRA"
  if kind ~= "linear" and kind ~= "conv2d" then
    not_for_kind("hra", kind, "HRA supports only torch.nn.Linear and torch.nn.Conv2d")
  end
  local r = cfg_int(cfg, "r", who)
  if r <= 0 then fail("HRA: r should be a positive integer, got %d", r) end
  local fin = mod_int(module, "in_features", who)
  if kind == "conv2d" then
    local kh = kernel(module, who)
    fin = fin * kh * kh -- kernel_size[0] twice, as PEFT does
  end
  return { entry("hra_u." .. a, { fin, r }, tr) }
end

-- src/peft/tuners/miss/layer.py MissLayer.update_layer (+ reset_bat_parameters,
-- reset_mini_parameters); model.py _get_tuner_layer_class (Linear only; r = config.r)
local function miss_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "MiSS"
  if kind ~= "linear" then not_for_kind("miss", kind, "MiSS supports only torch.nn.Linear") end
  local r = cfg_int(cfg, "r", who)
  if r <= 0 then fail("MiSS: r should be a positive integer, got %d", r) end
  local fin, fout = linear_dims(module, who)
  local init = get(cfg, "init_weights")
  local shape
  if init == "bat" then
    if fin % r ~= 0 or fout % r ~= 0 then
      fail("MiSS: PEFT raises: the weight matrix must be fully divisible into [r, r] blocks (r=%d)", r)
    end
    shape = { fout // r, r, r }
  elseif init == "mini" then
    local mini_r = cfg_int(cfg, "mini_r", who)
    if mini_r <= 0 or fout % mini_r ~= 0 then
      fail("MiSS: PEFT raises: out_features (%d) must be divisible by mini_r (%d)", fout, mini_r)
    end
    shape = { r, mini_r }
  else
    shape = { r, fout }
  end
  return { entry("miss_block." .. a, shape, tr) }
end

-- src/peft/tuners/beft/layer.py BeftLayer.update_layer (Linear only)
local function beft_module(cfg, module, ctx, tr)
  local kind = module.kind
  if kind ~= "linear" then not_for_kind("beft", kind, "BEFT supports only torch.nn.Linear") end
  local _, fout = linear_dims(module, "BEFT")
  return { entry("beft_bias." .. ctx.adapter, { 1, fout }, tr) }
end

-- src/peft/tuners/c3a/layer.py C3ALayer.update_layer; model.py block_size_pattern (Linear only)
local function c3a_module(cfg, module, ctx, tr)
  local kind, who = module.kind, "C3A"
  if kind ~= "linear" then not_for_kind("c3a", kind, "C3A supports only torch.nn.Linear") end
  local b = ctx.block_size ~= nil and int(ctx.block_size)
    or int(pattern_value(get(cfg, "block_size_pattern"), module.name, cfg_int(cfg, "block_size", who),
      who, "block_size_pattern", "block_size"))
  if not b or b <= 0 then fail("C3A: block_size should be a positive integer, got %s", tostring(b)) end
  local fin, fout = linear_dims(module, who)
  if fin % b ~= 0 or fout % b ~= 0 then
    fail("C3A: PEFT raises: block_size (%d) must divide in_features (%d) and out_features (%d)", b, fin, fout)
  end
  return { entry("c3a_kernel." .. ctx.adapter, { fout // b, fin // b, b }, tr) }
end

-- src/peft/tuners/delora/layer.py DeloraLayer.update_layer (Linear only; r from rank_pattern);
-- the persistent buffer delora_w_norm is not a parameter
local function delora_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "DeLoRA"
  if kind ~= "linear" then not_for_kind("delora", kind, "DeLoRA supports only torch.nn.Linear") end
  local r = rank(cfg, ctx, who)
  if r <= 0 then fail("DeLoRA: r should be a positive integer, got %d", r) end
  local fin, fout = linear_dims(module, who)
  return {
    entry("delora_A." .. a, { r, fin }, tr),
    entry("delora_B." .. a, { fout, r }, tr),
    entry("delora_lambda." .. a, { 1 }, tr),
  }
end

-- src/peft/tuners/road/layer.py RoadLayer.update_layer (Linear only)
local function road_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "RoAd"
  if kind ~= "linear" then not_for_kind("road", kind, "RoAd supports only torch.nn.Linear") end
  local _, fout = linear_dims(module, who)
  local g = cfg_int(cfg, "group_size", who)
  if g <= 0 or fout % g ~= 0 then
    fail("RoAd: PEFT raises: out_features (%d) must be divisible by group_size (%d)", fout, g)
  end
  local variant = get(cfg, "variant")
  local size = ({ road_1 = fout // 2, road_2 = fout, road_4 = fout * 2 })[variant]
  if not size then fail("RoAd: unsupported variant %s", tostring(variant)) end
  return { entry("road_theta." .. a, { size }, tr), entry("road_alpha." .. a, { size }, tr) }
end

-- src/peft/tuners/shira/layer.py ShiraLayer.update_layer; model.py (Linear only, r = config.r)
local function shira_module(cfg, module, ctx, tr)
  local kind, who = module.kind, "SHiRA"
  if kind ~= "linear" then not_for_kind("shira", kind, "SHiRA supports only torch.nn.Linear") end
  local r = cfg_int(cfg, "r", who)
  if r <= 0 then fail("SHiRA: r should be a positive integer, got %d", r) end
  local fin, fout = linear_dims(module, who)
  local n = r * (fin + fout)
  if n > fin * fout then
    fail("SHiRA: PEFT raises: r=%d gives more SHiRA parameters (%d) than the base layer has (%d)", r, n, fin * fout)
  end
  return { entry("shira_weight." .. ctx.adapter, { n }, tr) }
end

-- src/peft/tuners/fourierft/layer.py FourierFTLayer.update_layer; model.py n_frequency_pattern,
-- _create_new_module (Linear, Conv1D)
local function fourierft_module(cfg, module, ctx, tr)
  local kind, who = module.kind, "FourierFT"
  if kind ~= "linear" and kind ~= "conv1d" then
    not_for_kind("fourierft", kind, "FourierFT supports only torch.nn.Linear and Conv1D")
  end
  local n = ctx.n_frequency ~= nil and int(ctx.n_frequency)
    or int(pattern_value(get(cfg, "n_frequency_pattern"), module.name, cfg_int(cfg, "n_frequency", who),
      who, "n_frequency_pattern", "n_frequency"))
  local fin, fout = linear_dims(module, who)
  if not n or n <= 0 then fail("FourierFT: n_frequency should be a positive integer, got %s", tostring(n)) end
  if n > fin * fout then
    fail("FourierFT: PEFT raises: n_frequency (%d) exceeds in_features * out_features (%d)", n, fin * fout)
  end
  return { entry("fourierft_spectrum." .. ctx.adapter, { n }, tr) }
end

-- ceil(a / b) the way RandLoRA computes num_bases (int(x) if x.is_integer() else int(x) + 1)
local function ceil_div(a, b) return (a + b - 1) // b end

-- src/peft/tuners/randlora/layer.py RandLoraLayer.update_layer (Linear, Conv1D; r = config.r)
local function randlora_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "RandLoRA"
  if kind ~= "linear" and kind ~= "conv1d" then
    not_for_kind("randlora", kind, "RandLoRA supports only torch.nn.Linear and Conv1D")
  end
  local r = cfg_int(cfg, "r", who)
  if r <= 0 then fail("RandLoRA: r should be a positive integer, got %d", r) end
  local fin, fout = linear_dims(module, who)
  local mn = math.min(fin, fout)
  local nb = ceil_div(mn, r)
  return {
    entry("randlora_lambda." .. a, { r, nb }, tr),
    entry("randlora_gamma." .. a, { nb, mn }, tr),
  }
end

-- src/peft/tuners/vblora/layer.py VBLoRALayer.update_layer (Linear, Conv1D; r = config.r)
local function vblora_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "VBLoRA"
  if kind ~= "linear" and kind ~= "conv1d" then
    not_for_kind("vblora", kind, "VBLoRA supports only torch.nn.Linear and Conv1D")
  end
  local r = cfg_int(cfg, "r", who)
  local nv = cfg_int(cfg, "num_vectors", who)
  local vl = cfg_int(cfg, "vector_length", who)
  if r <= 0 then fail("VBLoRA: r should be a positive integer, got %d", r) end
  local fin, fout = linear_dims(module, who)
  if vl <= 0 or fin % vl ~= 0 or fout % vl ~= 0 then
    fail("VBLoRA: PEFT raises: in_features (%d) and out_features (%d) must be divisible by vector_length (%d)",
      fin, fout, vl)
  end
  return {
    entry("vblora_logits_A." .. a, { r, fin // vl, nv }, tr),
    entry("vblora_logits_B." .. a, { fout // vl, r, nv }, tr),
  }
end

-- LN tuning, trainable tokens, adaption prompt ------------------------------

-- src/peft/tuners/ln_tuning/layer.py LNTuningLayer.update_layer: a deepcopy of the module
local function ln_tuning_module(cfg, module, ctx, tr)
  local kind, a, who = module.kind, ctx.adapter, "LN tuning"
  local params = {}
  if type(module.parameters) == "table" then
    for _, p in ipairs(module.parameters) do
      if type(p.name) ~= "string" or type(p.shape) ~= "table" then
        fail("LN tuning: module.parameters entries need name and shape")
      end
      params[#params + 1] = { p.name, p.shape }
    end
  elseif kind == "linear" then
    local fin, fout = linear_dims(module, who)
    params = { { "weight", { fout, fin } } }
    if module.has_bias then params[2] = { "bias", { fout } } end
  elseif kind == "conv1d" then
    local fin, fout = linear_dims(module, who)
    params = { { "weight", { fin, fout } } }
    if module.has_bias ~= false then params[2] = { "bias", { fout } } end
  elseif kind == "embedding" then
    params = { { "weight", { mod_int(module, "num_embeddings", who), mod_int(module, "embedding_dim", who) } } }
  elseif kind == "conv2d" then
    local fin, fout = linear_dims(module, who)
    local kh, kw = kernel(module, who)
    params = { { "weight", { fout, fin // groups(module), kh, kw } } }
    if module.has_bias then params[2] = { "bias", { fout } } end
  else
    not_for_kind("ln_tuning", kind, "LN tuning copies the module's own parameters; list them in "
      .. "module.parameters = { { name = 'weight', shape = { n } }, ... }")
  end
  local out = {}
  for _, p in ipairs(params) do
    out[#out + 1] = entry("ln_tuning_layers." .. a .. "." .. p[1], p[2], tr)
  end
  return out
end

-- src/peft/tuners/trainable_tokens/layer.py TrainableTokensLayer.update_layer (the delta has one
-- row per token index; its width is embedding_dim, or in_features for a Linear such as a tied
-- lm_head; trainable_tokens_original is a non-persistent buffer)
local function trainable_tokens_module(cfg, module, ctx, tr)
  local kind, who = module.kind, "Trainable tokens"
  local idx = get(cfg, "token_indices")
  if type(idx) ~= "table" then fail("Trainable tokens: token_indices is null in the config, and the shapes depend on it") end
  if ctx.tied then return {} end -- a tied layer reuses the embedding's delta
  local width
  if kind == "embedding" then
    width = mod_int(module, "embedding_dim", who)
  elseif kind == "linear" then
    width = mod_int(module, "in_features", who)
  else
    not_for_kind("trainable_tokens", kind, "trainable tokens index rows of an Embedding (or a tied Linear)")
  end
  return { entry("trainable_tokens_delta." .. ctx.adapter, { #idx, width }, tr) }
end

-- src/peft/tuners/adaption_prompt/layer.py _BaseAdaptedAttention.__init__: the adapted attention
-- module (one of the last adapter_layers modules named target_modules) gets two parameters,
-- without the adapter name in their names.
local function adaption_prompt_module(cfg, module, ctx, tr)
  local who = "Adaption prompt"
  local h = int(module.hidden_size or ctx.hidden_size)
  if not h then
    fail("Adaption prompt: give module.hidden_size (the attention module's config.hidden_size)")
  end
  local len = cfg_int(cfg, "adapter_len", who)
  return { entry("adaption_prompt", { 1, len, h }, tr), entry("adaption_gate", { 1 }, tr) }
end

-- prompt learning ---------------------------------------------------------
-- peft_model.py PeftModel._setup_prompt_encoder (num_transformer_submodules default),
-- utils/other.py _prepare_prompt_learning_config (token_dim, num_layers, encoder_hidden_size
-- from the model config when null; the grouped-query-attention rewrite for prefix tuning and
-- Cartridge).
local PROMPT = { prompt_tuning = true, multitask_prompt_tuning = true, p_tuning = true,
                 prefix_tuning = true, cpt = true, cartridge = true }

local function prompt_dims(method, cfg, info)
  local who = DISPLAY[method]
  info = info or {}
  local function from(key, ...)
    local v = get(cfg, key)
    if v ~= nil then return int(v) end
    for _, k in ipairs { ... } do
      if info[k] ~= nil then return int(info[k]) end
    end
    return nil
  end
  local d = {}
  d.token_dim = from("token_dim", "token_dim", "hidden_size")
  d.num_layers = from("num_layers", "num_layers")
  d.heads = from("num_attention_heads", "num_attention_heads")
  d.nvt = int(get(cfg, "num_virtual_tokens"))
  local nts = get(cfg, "num_transformer_submodules")
  if nts == nil then nts = (get(cfg, "task_type") == "SEQ_2_SEQ_LM") and 2 or 1 end
  d.nts = int(nts)
  if not d.nvt then fail("%s: num_virtual_tokens is null in the config, and the shapes depend on it", who) end
  if not d.token_dim then
    fail("%s: token_dim is null in the config and model_info gives neither token_dim nor hidden_size", who)
  end
  if (method == "prefix_tuning" or method == "cartridge") and info.num_key_value_heads ~= nil then
    -- grouped-query attention: the prefix holds num_key_value_heads heads of head_dim each
    local kv = int(info.num_key_value_heads)
    local head_dim = int(info.head_dim)
    if not head_dim then
      if not d.heads then
        fail("%s: num_attention_heads is null in the config and model_info (needed for head_dim)", who)
      end
      head_dim = d.token_dim // d.heads
    end
    d.token_dim = head_dim * kv
    d.heads = kv
  end
  d.encoder_hidden_size = int(get(cfg, "encoder_hidden_size")) or d.token_dim
  return d
end

local function need_layers(method, d)
  if not d.num_layers then
    fail("%s: num_layers is null in the config and model_info gives no num_layers", DISPLAY[method])
  end
  return d.num_layers
end

local function prompt_shared(method, cfg, info, a)
  local d = prompt_dims(method, cfg, info)
  local p = "prompt_encoder." .. a .. "."
  local infer = truthy(get(cfg, "inference_mode"))
  local D, T = d.token_dim, d.nvt * d.nts
  local out = {}
  local function add(name, shape, trainable) out[#out + 1] = entry(p .. name, shape, trainable) end

  if method == "prompt_tuning" then
    -- prompt_tuning/model.py PromptEmbedding.__init__
    add("embedding.weight", { T, D }, true)
  elseif method == "multitask_prompt_tuning" then
    -- multitask_prompt_tuning/model.py MultitaskPromptEmbedding.__init__
    local tasks = cfg_int(cfg, "num_tasks", DISPLAY[method])
    local ranks = cfg_int(cfg, "num_ranks", DISPLAY[method])
    add("embedding.weight", { T, D }, true)
    add("prefix_task_cols", { tasks, T, ranks }, true)
    add("prefix_task_rows", { tasks, ranks, D }, true)
  elseif method == "p_tuning" then
    -- p_tuning/model.py PromptEncoder.__init__ (no heads in inference mode)
    local h = d.encoder_hidden_size
    add("embedding.weight", { T, D }, true)
    if not infer then
      local enc = get(cfg, "encoder_reparameterization_type")
      enc = type(enc) == "string" and enc:upper() or enc
      if enc == "LSTM" then
        local layers = cfg_int(cfg, "encoder_num_layers", DISPLAY[method])
        for k = 0, layers - 1 do
          local input = k == 0 and D or 2 * h
          for _, suffix in ipairs { "", "_reverse" } do
            local s = "_l" .. k .. suffix
            add("lstm_head.weight_ih" .. s, { 4 * h, input }, true)
            add("lstm_head.weight_hh" .. s, { 4 * h, h }, true)
            add("lstm_head.bias_ih" .. s, { 4 * h }, true)
            add("lstm_head.bias_hh" .. s, { 4 * h }, true)
          end
        end
        add("mlp_head.0.weight", { 2 * h, 2 * h }, true)
        add("mlp_head.0.bias", { 2 * h }, true)
        add("mlp_head.2.weight", { D, 2 * h }, true)
        add("mlp_head.2.bias", { D }, true)
      elseif enc == "MLP" then
        add("mlp_head.0.weight", { h, D }, true)
        add("mlp_head.0.bias", { h }, true)
        add("mlp_head.2.weight", { h, h }, true)
        add("mlp_head.2.bias", { h }, true)
        add("mlp_head.4.weight", { D, h }, true)
        add("mlp_head.4.bias", { D }, true)
      else
        fail("P-tuning: PEFT raises: prompt encoder type %s not recognized (MLP or LSTM)", tostring(enc))
      end
    end
  elseif method == "prefix_tuning" then
    -- prefix_tuning/model.py PrefixEncoder.__init__ (num_virtual_tokens rows, no submodule factor)
    local L = need_layers(method, d)
    if truthy(get(cfg, "prefix_projection")) and not infer then
      local h = d.encoder_hidden_size
      add("embedding.weight", { d.nvt, D }, true)
      add("transform.0.weight", { h, D }, true)
      add("transform.0.bias", { h }, true)
      add("transform.2.weight", { L * 2 * D, h }, true)
      add("transform.2.bias", { L * 2 * D }, true)
    else
      add("embedding.weight", { d.nvt, L * 2 * D }, true)
    end
  elseif method == "cpt" then
    -- cpt/model.py CPTEmbedding.__init__: embedding frozen, delta_embedding trained
    add("embedding.weight", { d.nvt, D }, false)
    add("delta_embedding.weight", { d.nvt, D }, true)
  elseif method == "cartridge" then
    -- cartridge/model.py CartridgeEncoder.__init__
    local L = need_layers(method, d)
    local frozen = int(get(cfg, "num_frozen_tokens")) or 0
    if frozen < 0 or frozen > d.nvt then
      fail("Cartridge: PEFT raises: num_frozen_tokens must be in [0, num_virtual_tokens], got %d", frozen)
    end
    if frozen > 0 then add("frozen_embedding", { frozen, L * 2 * D }, false) end
    add("trainable_embedding", { d.nvt - frozen, L * 2 * D }, not infer)
  end
  return out
end

-- dispatch -----------------------------------------------------------------

local MODULE = {
  lora = lora_module, adalora = adalora_module, loha = loha_module, lokr = lokr_module,
  ia3 = ia3_module, vera = vera_like_module("vera", "vera", 1), pvera = vera_like_module("pvera", "pvera", 2),
  oft = oft_module, boft = boft_module, hra = hra_module, miss = miss_module, beft = beft_module,
  c3a = c3a_module, delora = delora_module, road = road_module, shira = shira_module,
  fourierft = fourierft_module, randlora = randlora_module, vblora = vblora_module,
  ln_tuning = ln_tuning_module, trainable_tokens = trainable_tokens_module,
  adaption_prompt = adaption_prompt_module,
}

local SHARED = {
  vera = function(cfg, info, a) return projection_buffers("vera", cfg, info, a, "vera", 1) end,
  pvera = function(cfg, info, a) return projection_buffers("pvera", cfg, info, a, "pvera", 2) end,
  -- randlora/model.py _init_randlora_A_randlora_B (and the sparse variants: same shapes)
  randlora = function(cfg, info, a)
    local r = cfg_int(cfg, "r", "RandLoRA")
    local max_out, max_in = largest_linear("randlora", info)
    local mx, mn = math.max(max_out, max_in), math.min(max_out, max_in)
    local saved = truthy(get(cfg, "save_projection"))
    local A = entry("base_model.randlora_A." .. a, { r, 1, mn }, false)
    local B = entry("base_model.randlora_B." .. a, { mx, ceil_div(mn, r), r }, false)
    A.buffer, A.saved, B.buffer, B.saved = true, saved, true, saved
    return { A, B }
  end,
  -- vblora/model.py _init_vblora_vector_bank: a trainable ParameterDict entry on the model
  vblora = function(cfg, info, a)
    local e = entry("base_model.vblora_vector_bank." .. a,
      { cfg_int(cfg, "num_vectors", "VBLoRA"), cfg_int(cfg, "vector_length", "VBLoRA") },
      not truthy(get(cfg, "inference_mode")))
    e.saved = true
    return { e }
  end,
}

M.supported = {}
for m in pairs(MODULE) do M.supported[m] = true end
for m in pairs(PROMPT) do M.supported[m] = true end

local function method_name(method)
  if type(method) ~= "string" then return nil end
  local m = method:lower()
  if M.adapter_layer_names[m] then return m end
  return nil
end

local function run(fn, ...)
  local res = table.pack(pcall(fn, ...))
  if res[1] then return res[2] end
  local err = res[2]
  if type(err) == "table" and err[FAIL] then return nil, err.message end
  error(err, 0)
end

local function unsupported(m, method)
  if m == "bone" then
    return nil, "Bone shapes are not computed: Bone was removed from PEFT (0.19); migrate the config to MiSS "
      .. "(cfg:migrate()) and compute 'miss'"
  end
  if not m then return nil, string.format("unknown PEFT method %s", tostring(method)) end
  return nil, string.format("%s shapes are not computed (method '%s' is not supported by peft.shapes)", DISPLAY[m], m)
end

--- for_module(method_name, cfg, module, ctx) -> list of { name, shape, trainable, numel } | nil, message
function M.for_module(method, cfg, module, ctx)
  local m = method_name(method)
  if not (m and M.supported[m]) then return unsupported(m, method) end
  if type(cfg) ~= "table" then return nil, "for_module: cfg must be a config (or a table of its fields)" end
  if type(module) ~= "table" then return nil, "for_module: module must be a module description table" end
  if PROMPT[m] then
    return nil, string.format("%s has no per-module parameters (a prompt-learning method); its parameters "
      .. "are given by shapes.shared", DISPLAY[m])
  end
  if not KINDS[module.kind] then
    return nil, string.format("%s: unknown module kind %s (linear, embedding, conv1d, conv2d or other)",
      DISPLAY[m], tostring(module.kind))
  end
  if module.kind == "conv1d" and module.kernel_size ~= nil then
    return nil, string.format("%s shapes for torch.nn.Conv1d modules are not computed: kind 'conv1d' describes "
      .. "transformers' Conv1D (in_features, out_features, no kernel_size)", DISPLAY[m])
  end
  ctx = ctx or {}
  local c = {}
  for k, v in pairs(ctx) do c[k] = v end
  c.adapter = c.adapter or "default"
  local trainable = not truthy(get(cfg, "inference_mode")) and c.active ~= false
  return run(MODULE[m], cfg, module, c, trainable)
end

--- shared(method_name, cfg, model_info, adapter) -> list | nil, message
function M.shared(method, cfg, model_info, adapter)
  local m = method_name(method)
  if not (m and M.supported[m]) then return unsupported(m, method) end
  if type(cfg) ~= "table" then return nil, "shared: cfg must be a config (or a table of its fields)" end
  adapter = adapter or "default"
  if PROMPT[m] then return run(prompt_shared, m, cfg, model_info or {}, adapter) end
  if SHARED[m] then return run(SHARED[m], cfg, model_info, adapter) end
  local out = {}
  if m == "lora" and get(cfg, "trainable_token_indices") ~= nil then
    out.notes = { "trainable_token_indices: the token adapter PEFT puts on the embedding layer is not "
      .. "included; compute it with for_module('trainable_tokens', ...) on that embedding" }
  end
  return out
end

--- numel(list) -> total, trainable: parameter counts of a for_module/shared result
-- (buffers are left out of both).
function M.numel(list)
  local total, trainable = 0, 0
  for _, e in ipairs(list or {}) do
    if not e.buffer then
      total = total + e.numel
      if e.trainable then trainable = trainable + e.numel end
    end
  end
  return total, trainable
end

return M
