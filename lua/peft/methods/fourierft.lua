-- FourierFT: learns a sparse set of spectral coefficients per layer.
local peft = require "peft"
local rules = require "peft.rules"

local FourierFTConfig = peft.declare_config {
  name = "FourierFTConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.FOURIERFT,
  doc = "FourierFT: learns a sparse set of spectral coefficients per layer.",
  fields = function() return {
    { "n_frequency", "int", 1000,
      "Number of trainable spectral coefficients per adapted weight (at most d*d for a d-by-d weight)." },
    { "scaling", "float", 150.0,
      "Factor applied to the reconstructed weight update, akin to LoRA's alpha." },
    { "random_loc_seed", "Optional[int]", 777,
      "Seed that picks which frequency positions are trained." },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Linear modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'fourier_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Layer indices to adapt (one or a list); needs target_modules to be a list." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') that layers_to_transform indexes into." },
    { "n_frequency_pattern", "Optional[dict]", {},
      "Per-module n_frequency overrides: module name or regex -> number of frequencies." },
    { "init_weights", "bool", false,
      "Whether to start the spectral coefficients at zero (false: standard normal)." },
  } end,
  post_init = function(self, chk)
    rules.layer_selection(self, chk)
  end,
}

-- FourierFTModel: n_frequency trainable spectral coefficients per Linear or Conv1D (PEFT's
-- fourierft/model.py _create_and_replace, _create_new_module; layer.py FourierFTLayer.update_layer).
local t = peft.tuner

local FourierFTModel = peft.declare_model {
  name = "FourierFTModel", prefix = "fourierft_", display = "FourierFT",
  layer_names = { "fourierft_spectrum" },
  targets = "fourierft",
  layer = function(cfg, m, ctx)
    local pattern = t.get(cfg, "n_frequency_pattern")
    if pattern == nil then
      t.refuse("AttributeError", "FourierFT: n_frequency_pattern is null in the config; building a layer looks up "
        .. "its keys ('NoneType' object has no attribute 'keys')")
    end
    local n = t.suffix_pattern_value(pattern, ctx.key, cfg.n_frequency)
    if m.kind ~= "linear" and m.kind ~= "conv1d" then
      t.refuse_kind("FourierFT", m, "only torch.nn.Linear and transformers' Conv1D", "TypeError")
    end
    if type(n) ~= "number" then
      t.refuse("TypeError", "FourierFT: n_frequency of %s must be an integer, got %s", m.name, peft.types.repr(n))
    end
    if n <= 0 then
      t.refuse("ValueError", "`n_frequency` should be a positive integer value but the value passed is %s",
        tostring(n))
    end
    local size = m.in_features * m.out_features
    if n > size then
      t.refuse("ValueError", "FourierFT: n_frequency (%s) of %s must be at most in_features * out_features (%d)",
        tostring(n), m.name, size)
    end
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
}

peft.register_peft_method {
  name = "fourierft",
  config_cls = FourierFTConfig,
  model_cls = FourierFTModel,
  prefix = "fourierft_",
  is_mixed_compatible = false,
}

return FourierFTConfig
