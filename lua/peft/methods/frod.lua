-- FRoD: full-rank efficient adaptation via rotational degrees of freedom.
local peft = require "peft"

local FrodConfig = peft.declare_config {
  name = "FrodConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.FROD,
  doc = "FRoD: full-rank efficient adaptation via rotational degrees of freedom.",
}

local FrodModel = peft.declare_model { name = "FrodModel", prefix = "frod_", display = "FRoD" }

peft.register_peft_method {
  name = "frod",
  config_cls = FrodConfig,
  model_cls = FrodModel,
  prefix = "frod_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("FrodConfig", {
  fields = function() return {
    F.target_modules,
    { "projection_prng_key", "int", 0,
      "Seed that lays out the sparse (COO) pattern of the trainable rotation." },
    { "save_projection", "bool", true,
      "Whether to store the projection tensors in the checkpoint rather than rebuild them on load." },
    { "frod_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    F.fan_in_fan_out,
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'frod_only'." },
    F.modules_to_save,
    { "init_weights", "bool", true,
      "Whether to use FRoD's default initialisation (leave it on unless you know why)." },
    F.layers_to_transform,
    F.layers_pattern,
    { "sparse_rate", "float", 0.01,
      "Fraction (0 to 1) of off-diagonal entries of the rotation that are trained.",
      check = function(v)
        if v < 0 or v > 1 then return "must be between 0 and 1" end
      end },
    { "regularization_alpha", "float", 1e-3,
      "Small positive ridge term that keeps the matrix inverse stable when building the shared basis." },
    { "progressbar", "bool", true,
      "Whether to show progress while the projections are computed (slow on large models)." },
    { "runtime_offload_base_weight", "bool", false,
      "Whether to keep base weights on the CPU when the active FRoD path does not need them." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    -- sparse_rate is checked per field above.
  end,
})

-- FrodModel: before any module is adapted, the Linear/Conv1D modules the config targets are grouped
-- by role (the category: "self_attn_q_proj" for model.layers.0.self_attn.q_proj) and the model gets,
-- per category, a joint projection frod_V (in, in), the sparse pattern frod_s_indices (2, nnz) and
-- its size frod_s_size (2), persistent only with save_projection (PEFT's frod/model.py
-- _init_frod_projections). Per layer: frod_lambda_l (in), frod_lambda_s_values (nnz of its
-- category) and a non-persistent frod_U (out, in) (frod/layer.py FrodLayer.update_layer).
local t = peft.tuner

-- frod/model.py _category_from_key
local function category_of(key)
  local parts = {}
  for p in key:gmatch("[^%.]+") do parts[#parts + 1] = p end
  local n = #parts
  if n == 1 then return parts[1] end
  if parts[n - 1]:match("^%d+$") then return parts[n] end
  local c = parts[n - 1] .. "_" .. parts[n]
  if c == "output_dense" and n >= 3 and parts[n - 2] == "attention" then return "attention_output" end
  return c
end

-- frod/model.py _layer_index_from_key
local function layer_index_of(key, fallback)
  local parts = {}
  for p in key:gmatch("[^%.]+") do parts[#parts + 1] = p end
  for i, p in ipairs(parts) do
    if p == "layers" then
      local nxt = parts[i + 1]
      if nxt and nxt:match("^%d+$") then return tonumber(nxt) end
      break
    end
  end
  for _, p in ipairs(parts) do
    if p:match("^%d+$") then return tonumber(p) end
  end
  return fallback
end

-- nnz of a d x d pattern off the diagonal: min(int(d * d * sparse_rate), d * d - d), at least 1 when
-- sparse_rate > 0 and there is room
local function nnz_of(d, rate)
  local room = d * d - d
  local want = d * d * rate
  if math.type(want) == "float" then want = math.tointeger(want >= 0 and math.floor(want) or math.ceil(want)) end
  local n = math.min(want, room)
  if rate > 0 and room > 0 then n = math.max(1, n) end
  return n
end

peft.define("FrodModel", {
  layer_names = { "frod_lambda_l", "frod_lambda_s_values" },
  targets = "frod",
  -- FrodModel._pre_injection_hook -> _init_frod_projections
  prepare = function(plan, cfg, ctx)
    local by_layer, fallback = {}, 0
    for _, m in ipairs(t.config_targets(plan, cfg, ctx)) do
      if m.kind == "linear" or m.kind == "conv1d" then
        local idx = layer_index_of(m.name, fallback)
        fallback = fallback + 1
        by_layer[idx] = by_layer[idx] or {}
        by_layer[idx][category_of(m.name)] = m
      end
    end
    if next(by_layer) == nil then
      t.refuse("ValueError", "No layer types compatible with FRoD were found (FRoD adapts torch.nn.Linear and "
        .. "transformers' Conv1D). Please check `peft_config.target_modules`.")
    end
    local rate = t.number_field(cfg, "sparse_rate", "FRoD")
    local dims, order = {}, {}
    for _, cats in pairs(by_layer) do
      for c, m in pairs(cats) do
        if dims[c] == nil then
          dims[c] = m.in_features
          order[#order + 1] = c
        elseif dims[c] ~= m.in_features then
          t.refuse("RuntimeError", "FRoD: the modules of category %s have different input sizes (%d and %d), so "
            .. "their weights cannot be stacked for the joint projection", c, dims[c], m.in_features)
        end
      end
    end
    table.sort(order)
    local cats = {}
    for _, c in ipairs(order) do cats[c] = { dim = dims[c], nnz = nnz_of(dims[c], rate) } end
    ctx.frod_categories, ctx.frod_order = cats, order
  end,
  layer = function(cfg, m, ctx)
    -- FrodModel._create_and_replace: a module whose category has no projection ends in a KeyError
    -- (the projections are rebuilt from the same targets, which still lack it)
    local cat = category_of(m.name)
    local c = ctx.frod_categories[cat]
    if not c then
      t.refuse("KeyError", "'%s': FRoD has no projection for the category of %s (only Linear/Conv1D targets "
        .. "get one)", cat, t.describe(m))
    end
    if m.kind ~= "linear" and m.kind ~= "conv1d" then
      t.refuse("TypeError", "Target module %s is not supported by FRoD; it supports only torch.nn.Linear and "
        .. "transformers' Conv1D", t.describe(m))
    end
    t.dropout(cfg, "frod_dropout")
    if c.dim ~= m.in_features then
      t.refuse("RuntimeError", "FRoD: the projection of category %s is %d x %d but %s has %d input features", cat,
        c.dim, c.dim, m.name, m.in_features)
    end
    ctx.r = m.out_features
    return { t.param("frod_lambda_l", ctx.adapter, { m.in_features }),
             t.param("frod_lambda_s_values", ctx.adapter, { c.nnz }),
             t.buffer("frod_U", ctx.adapter, { m.out_features, m.in_features }, false) }
  end,
  model = function(cfg, ctx)
    local keep = cfg.save_projection == true
    local out = {}
    for _, cat in ipairs(ctx.frod_order) do
      local c = ctx.frod_categories[cat]
      out[#out + 1] = t.buffer("frod_V." .. cat, ctx.adapter, { c.dim, c.dim }, keep)
      out[#out + 1] = t.buffer("frod_s_indices." .. cat, ctx.adapter, { 2, c.nnz }, keep)
      out[#out + 1] = t.buffer("frod_s_size." .. cat, ctx.adapter, { 2 }, keep)
    end
    return out
  end,
})
