-- WaveFT: sparse trainable coefficients in the wavelet domain.
local peft = require "peft"

local WaveFTConfig = peft.declare_config {
  name = "WaveFTConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.WAVEFT,
  doc = "WaveFT: sparse trainable coefficients in the wavelet domain.",
  fields = {},
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
