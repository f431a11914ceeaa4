-- WaveFT: sparse trainable coefficients in the wavelet domain.
local peft = require "peft"

local WaveFTConfig = peft.declare_config {
  name = "WaveFTConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.WAVEFT,
  doc = "WaveFT: sparse trainable coefficients in the wavelet domain.",
}

local WaveFTModel = peft.declare_model { name = "WaveFTModel", prefix = "waveft_", display = "WaveFT" }

peft.register_peft_method {
  name = "waveft",
  config_cls = WaveFTConfig,
  model_cls = WaveFTModel,
  prefix = "waveft_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

-- The wavelet families WaveFT supports (the keys of PEFT's
-- WAVELET_REDUCTIONS, in its order): Daubechies, Symlets and Coiflets.
-- db1..db38, sym2..sym20, coif1..coif17 (made when a value is first checked)
local WAVELET_FAMILIES, IS_FAMILY
local function families()
  if not WAVELET_FAMILIES then
    WAVELET_FAMILIES, IS_FAMILY = {}, {}
    for i = 1, 38 do WAVELET_FAMILIES[#WAVELET_FAMILIES + 1] = "db" .. i end
    for i = 2, 20 do WAVELET_FAMILIES[#WAVELET_FAMILIES + 1] = "sym" .. i end
    for i = 1, 17 do WAVELET_FAMILIES[#WAVELET_FAMILIES + 1] = "coif" .. i end
    for _, name in ipairs(WAVELET_FAMILIES) do IS_FAMILY[name] = true end
  end
  return WAVELET_FAMILIES, IS_FAMILY
end

local function check_family(v)
  local _, is_family = families()
  if is_family[v] then return nil end
  return "unsupported wavelet family; expected one of db1-db38, sym2-sym20 or coif1-coif17"
end

peft.define("WaveFTConfig", {
  fields = function() return {
    { "n_frequency", "int", 2592,
      "Number of wavelet coefficients trained per adapted layer (its trainable parameter count)." },
    { "scaling", "float", 25.0,
      "Factor the reconstructed weight update is multiplied by (like lora_alpha)." },
    { "wavelet_family", "str", "db1",
      "Wavelet used for the transforms: db1-db38, sym2-sym20 or coif1-coif17.",
      check = check_family },
    { "use_idwt", "bool", true,
      "Whether to turn the sparse coefficients into the update with an inverse wavelet transform." },
    { "random_loc_seed", "int", 777,
      "Seed that picks which wavelet coefficients are trainable." },
    F.fan_in_fan_out,
    F.target_modules,
    F.exclude_modules,
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'waveft_only'." },
    F.modules_to_save,
    F.layers_to_transform,
    F.layers_pattern,
    { "n_frequency_pattern", "Optional[dict]", {},
      "Per-module n_frequency overrides: module name or regex mapped to a coefficient count." },
    { "proportional_parameters", "bool", false,
      "Whether to share the coefficient budget out among layers in proportion to their size." },
    { "init_weights", "bool", true,
      "Whether the coefficients start at zero (true) or random (false), so the adapter starts as a no-op." },
  } end,
  post_init = function(self, chk)
    rules.layer_selection(self, chk)
    -- wavelet_family membership is the field's check (check_family)
  end,
})

-- WaveFTModel: n_frequency trainable wavelet coefficients per Linear or Conv1D, optionally shared
-- out among the targeted layers in proportion to their size (PEFT's waveft/model.py
-- _calculate_proportional_parameters, _create_and_replace, _create_new_module; layer.py
-- WaveFTLayer.update_layer).
local t = peft.tuner

-- Python's round(): halves go to the even neighbour
local function round_half_even(x)
  local f = math.floor(x)
  local d = x - f
  if d > 0.5 or (d == 0.5 and f % 2 == 1) then f = f + 1 end
  return math.tointeger(f) or f
end

-- _calculate_proportional_parameters: the budget n_frequency * (number of targeted Linear and
-- Conv1D modules), split by each one's share of their total weight size
local function proportional(plan, cfg, ctx)
  local found, total = {}, 0
  for _, m in ipairs(plan.modules) do
    if (m.kind == "linear" or m.kind == "conv1d")
       and peft.model.matches(cfg, m.name, ctx.target_modules, { modules_to_save = ctx.modules_to_save }) then
      found[#found + 1] = m
      total = total + m.in_features * m.out_features
    end
  end
  if #found == 0 then t.refuse("ValueError", "No target modules found for proportional parameter allocation.") end
  local budget = t.int_field(cfg, "n_frequency", "WaveFT") * #found
  local out = {}
  for _, m in ipairs(found) do
    out[m.name] = math.max(1, round_half_even((m.in_features * m.out_features) / total * budget))
  end
  return out
end

peft.define("WaveFTModel", {
  layer_names = { "waveft_spectrum" },
  targets = "waveft",
  layer = function(cfg, m, ctx)
    local n
    if cfg.proportional_parameters == true then
      ctx.waveft_shares = ctx.waveft_shares or proportional(ctx.plan, cfg, ctx)
      n = ctx.waveft_shares[ctx.key]
    end
    if n == nil then
      local pattern = t.get(cfg, "n_frequency_pattern")
      if pattern == nil then
        t.refuse("AttributeError", "WaveFT: n_frequency_pattern is null in the config; building a layer looks up "
          .. "its keys ('NoneType' object has no attribute 'keys')")
      end
      n = t.pattern_value(pattern, ctx.key, cfg.n_frequency)
    end
    t.check_frequency("WaveFT", m, n)
    local seed = t.get(cfg, "random_loc_seed")
    if math.type(seed) ~= "integer" then
      t.refuse("TypeError", "WaveFT: random_loc_seed must be an integer to draw the coefficient positions, got %s",
        peft.types.repr(seed))
    end
    if math.type(n) ~= "integer" then
      t.refuse("TypeError", "WaveFT: n_frequency of %s must be an integer, got %s", m.name, tostring(n))
    end
    return { t.param("waveft_spectrum", ctx.adapter, { n }) }
  end,
})
