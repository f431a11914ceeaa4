-- OSF: orthogonal subspace fine-tuning for continual learning.
local peft = require "peft"

local OSFConfig = peft.declare_config {
  name = "OSFConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.OSF,
  doc = "OSF: orthogonal subspace fine-tuning for continual learning.",
}

local OSFModel = peft.declare_model { name = "OSFModel", prefix = "osf_", display = "OSF" }

peft.register_peft_method {
  name = "osf",
  config_cls = OSFConfig,
  model_cls = OSFModel,
  prefix = "osf_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"

peft.define("OSFConfig", {
  fields = function() return {
    { "effective_rank", "Optional[Union[int, float]]", nil,
      "Singular directions kept frozen per module: a count, a fraction in (0, 1], or null for half." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: a list of names, a regex, or 'all-linear'." },
    { "rank_pattern", "Optional[dict[str, Union[int, float]]]", nil,
      "Per-module overrides of effective_rank: regex -> count or fraction." },
    { "init_weights", "Optional[bool]", nil,
      "Accepted for compatibility with other methods; OSF ignores it." },
    F.modules_to_save,
    { "target_svd_config", "Optional[dict[str, int]]", nil,
      "Per-parameter SVD target ranks (parameter name -> rank); accepted, OSF ignores it for now." },
  } end,
  -- PEFT's __post_init__ only sets peft_type; target_modules is kept as given.
})

-- OSFModel: the weight of each targeted nn.Linear is split by its SVD into a frozen top part (the
-- first effective_rank directions, non-persistent buffers) and a trainable rest osf_svd_params
-- (U_low, S_low, V_low). A matched module without a 2-D weight, or not an nn.Linear, is left as
-- it is without an error (PEFT's osf/model.py _prepare_adapter_config, _create_and_replace,
-- _mark_only_adapters_as_trainable; osf/layer.py OSFLayer.update_layer, dispatch_default;
-- osf/utils.py decompose_weight_matrix).
local t = peft.tuner

-- int() of a Python number: toward zero
local function trunc(v)
  if math.type(v) == "integer" then return v end
  return math.tointeger(v >= 0 and math.floor(v) or math.ceil(v))
end

-- OSFModel._create_and_replace's _resolve_rank: None -> half the smaller side, a float in (0, 1] ->
-- that fraction of it, else the number itself; clamped to [0, smaller side]
local function resolve_rank(v, min_dim)
  if v == nil then return math.max(min_dim // 2, 0) end
  local r
  if math.type(v) == "float" and v > 0 and v <= 1 then r = trunc(min_dim * v) else r = trunc(v) end
  return math.max(math.min(min_dim, r), 0)
end

peft.define("OSFModel", {
  layer_names = { "osf_svd_params" },
  targets = "osf",
  needs_targets = false,
  -- without a default for the model type OSF adapts every linear layer
  prepare = function(plan, cfg, ctx)
    if ctx.target_modules == nil then ctx.target_modules = "all-linear" end
  end,
  layer = function(cfg, m, ctx)
    local w = m.params.weight
    if not w or #w.shape ~= 2 then return nil end
    local min_dim = math.min(w.shape[1], w.shape[2])
    local k = resolve_rank(t.get(cfg, "effective_rank"), min_dim)
    local patterns = t.get(cfg, "rank_pattern")
    if type(patterns) == "table" and next(patterns) ~= nil then
      -- the first pattern (in the dict's order, sorted in a file PEFT wrote) found anywhere in the name
      local keys = {}
      for p in pairs(patterns) do keys[#keys + 1] = p end
      table.sort(keys)
      for _, p in ipairs(keys) do
        if peft.core.re_match(p, m.name, "search") then
          k = resolve_rank(patterns[p], min_dim)
          break
        end
      end
    end
    if m.kind ~= "linear" then return nil end
    if k <= 0 then
      t.refuse("ValueError", "`effective_rank` should be a positive integer value but the value passed is %d (for "
        .. "%s)", k, m.name)
    end
    local a, fout, fin = ctx.adapter, m.out_features, m.in_features
    local low = min_dim - k
    ctx.r = k
    return { t.module("osf_svd_params", a, "U_low", { fout, low }),
             t.module("osf_svd_params", a, "S_low", { low }),
             t.module("osf_svd_params", a, "V_low", { low, fin }),
             t.buffer("_osf_U_high", a, { fout, k }, false),
             t.buffer("_osf_S_high", a, { k }, false),
             t.buffer("_osf_V_high", a, { k, fin }, false) }
  end,
})
