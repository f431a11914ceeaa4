-- peft.lycoris: the shared base of the LyCORIS methods (LoHa, LoKr).
--
-- LycorisConfig is a base class only: it has no PeftType and is never
-- registered as a method. It adds the per-module rank and alpha overrides
-- that every LyCORIS adapter understands; each subclass declares the rest
-- (and its own post_init, as PEFT's LycorisConfig has no __post_init__).
local peft = require "peft"

local M = {}

-- declared with LoHa, the first LyCORIS method to run (the method files declare what
-- start-up needs; this module is loaded with their definitions)
M.LycorisConfig = peft.LycorisConfig

--- fields(display, rank_help, middle, init_weights) -> the field list of a LyCORIS config:
-- the fields LoHa and LoKr both declare (PEFT repeats them in each class, which keeps them
-- as its own), with the class's own ones (middle) in PEFT's order and its init_weights.
function M.fields(display, rank_help, middle, init_weights)
  local F = require "peft.fields"
  local list = {
    { "r", "int", 8, rank_help },
    { "alpha", "int", 8, "Scaling numerator: the update is scaled by alpha / r.", number = true },
    { "rank_dropout", "float", 0.0, "Training-time dropout probability applied along the rank dimension." },
    { "module_dropout", "float", 0.0, "Training-time probability of skipping a whole " .. display .. " module." },
    { "use_effective_conv2d", "bool", false,
      "Whether convolutions with kernel size > 1 use the parameter-efficient (FedPara) decomposition." },
  }
  for _, f in ipairs(middle) do list[#list + 1] = f end
  for _, f in ipairs { F.target_modules, F.exclude_modules, init_weights, F.layers_to_transform, F.layers_pattern,
                       F.modules_to_save } do
    list[#list + 1] = f
  end
  return list
end

-- the model side they share (PEFT's tuners/lycoris_utils.py LycorisTuner, and the
-- _create_and_replace of LoHaModel and LoKrModel) --------------------------------
local t = peft.tuner

--- A pattern dict of the config (rank_pattern, alpha_pattern); PEFT calls .keys() on it.
function M.patterns(cfg, key, who)
  local v = t.get(cfg, key)
  if v == nil then
    t.refuse("AttributeError", "%s: %s is null in the config; building a layer looks up its keys ('NoneType' "
      .. "object has no attribute 'keys')", who, key)
  end
  return v
end

--- The rank and alpha of one module: rank_pattern / alpha_pattern (get_pattern_key) over r / alpha.
function M.rank_alpha(cfg, ctx, who)
  local r = t.pattern_value(M.patterns(cfg, "rank_pattern", who), ctx.key, cfg.r)
  local alpha = t.pattern_value(M.patterns(cfg, "alpha_pattern", who), ctx.key, cfg.alpha)
  ctx.r, ctx.alpha = r, alpha
  return r
end

--- LycorisTuner._create_new_module: a layer only for torch's Conv2d, Conv1d and Linear (not
-- transformers' Conv1D), a TypeError otherwise; then update_layer's check of the rank.
function M.check_layer(who, m, r)
  if m.kind ~= "linear" and m.kind ~= "conv2d" then
    t.refuse_kind(who, m, "adapters only for torch.nn.Conv2d, torch.nn.Conv1d and torch.nn.Linear", "TypeError")
  end
  if type(r) == "number" and r <= 0 then
    t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %s", tostring(r))
  elseif math.type(r) ~= "integer" then
    t.refuse("TypeError", "%s: the rank of %s must be an integer, got %s", who, m.name, peft.types.repr(r))
  end
end

--- LyCORIS layers leave kernel-size-1 convolutions undecomposed even with use_effective_conv2d.
function M.effective_conv(cfg, m)
  local kh, kw = t.kernel(m)
  return t.truthy(t.get(cfg, "use_effective_conv2d")) and not (kh == 1 and kw == 1), kh, kw
end

return M
