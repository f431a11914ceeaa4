-- FourierFT: learns a sparse set of spectral coefficients per layer.
local peft = require "peft"

local FourierFTConfig = peft.declare_config {
  name = "FourierFTConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.FOURIERFT,
  doc = "FourierFT: learns a sparse set of spectral coefficients per layer.",
}

local FourierFTModel = peft.declare_model { name = "FourierFTModel", prefix = "fourierft_", display = "FourierFT" }

peft.register_peft_method {
  name = "fourierft",
  config_cls = FourierFTConfig,
  model_cls = FourierFTModel,
  prefix = "fourierft_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("FourierFTConfig", {
  fields = function() return {
    { "n_frequency", "int", 1000,
      "Number of trainable spectral coefficients per adapted weight (at most d*d for a d-by-d weight)." },
    { "scaling", "float", 150.0,
      "Factor applied to the reconstructed weight update, akin to LoRA's alpha." },
    { "random_loc_seed", "Optional[int]", 777,
      "Seed that picks which frequency positions are trained." },
    F.fan_in_fan_out,
    F.target_modules,
    F.exclude_modules,
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'fourier_only'." },
    F.modules_to_save,
    F.layers_to_transform,
    F.layers_pattern,
    { "n_frequency_pattern", "Optional[dict]", {},
      "Per-module n_frequency overrides: module name or regex -> number of frequencies." },
    { "init_weights", "bool", false,
      "Whether to start the spectral coefficients at zero (false: standard normal)." },
  } end,
  post_init = function(self, chk)
    rules.layer_selection(self, chk)
  end,
})

-- FourierFTModel: n_frequency trainable spectral coefficients per Linear or Conv1D (PEFT's
-- fourierft/model.py _create_and_replace, _create_new_module; layer.py FourierFTLayer.update_layer).
local t = peft.tuner

peft.define("FourierFTModel", {
  layer_names = { "fourierft_spectrum" },
  targets = "fourierft",
  layer = function(cfg, m, ctx)
    local pattern = t.get(cfg, "n_frequency_pattern")
    if pattern == nil then
      t.refuse("AttributeError", "FourierFT: n_frequency_pattern is null in the config; building a layer looks up "
        .. "its keys ('NoneType' object has no attribute 'keys')")
    end
    local n = t.suffix_pattern_value(pattern, ctx.key, cfg.n_frequency)
    t.check_frequency("FourierFT", m, n)
    local seed = t.get(cfg, "random_loc_seed")
    if math.type(seed) ~= "integer" then
      t.refuse("RuntimeError", "FourierFT: random_loc_seed must be an integer to seed the draw of the frequency "
        .. "positions (torch's manual_seed expects a long), got %s", peft.types.repr(seed))
    end
    if math.type(n) ~= "integer" then
      t.refuse("TypeError", "FourierFT: n_frequency of %s must be an integer, got %s", m.name, tostring(n))
    end
    return { t.param("fourierft_spectrum", ctx.adapter, { n }) }
  end,
})
