-- WaveFT: sparse trainable coefficients in the wavelet domain.
local peft = require "peft"
local rules = require "peft.rules"

-- The wavelet families WaveFT supports (the keys of PEFT's
-- WAVELET_REDUCTIONS, in its order): Daubechies, Symlets and Coiflets.
local WAVELET_FAMILIES = {}
for i = 1, 38 do WAVELET_FAMILIES[#WAVELET_FAMILIES + 1] = "db" .. i end
for i = 2, 20 do WAVELET_FAMILIES[#WAVELET_FAMILIES + 1] = "sym" .. i end
for i = 1, 17 do WAVELET_FAMILIES[#WAVELET_FAMILIES + 1] = "coif" .. i end
local IS_FAMILY = {}
for _, name in ipairs(WAVELET_FAMILIES) do IS_FAMILY[name] = true end

local function check_family(v)
  if IS_FAMILY[v] then return nil end
  return "unsupported wavelet family; expected one of db1-db38, sym2-sym20 or coif1-coif17"
end

local WaveFTConfig = peft.declare_config {
  name = "WaveFTConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.WAVEFT,
  doc = "WaveFT: sparse trainable coefficients in the wavelet domain.",
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
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Linear modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'waveft_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Only adapt the layers with these indices (one index or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') used to find layer indices; needs layers_to_transform." },
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
}

local WaveFTModel = peft.declare_model { name = "WaveFTModel", prefix = "waveft_" }

peft.register_peft_method {
  name = "waveft",
  config_cls = WaveFTConfig,
  model_cls = WaveFTModel,
  prefix = "waveft_",
  is_mixed_compatible = false,
}

return WaveFTConfig
