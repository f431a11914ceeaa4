-- P-tuning: virtual tokens produced by a small prompt encoder (MLP or LSTM).
local peft = require "peft"

-- The kind of network that produces the virtual tokens.
peft.config.declare_enum("PromptEncoderReparameterizationType", { "MLP", "LSTM" })

local PromptEncoderConfig = peft.declare_config {
  name = "PromptEncoderConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.P_TUNING,
  doc = "P-tuning: virtual tokens produced by a small prompt encoder (MLP or LSTM).",
  fields = function() return {
    { "encoder_reparameterization_type", "Union[str, PromptEncoderReparameterizationType]", "MLP",
      "Network that generates the virtual tokens: 'MLP' or 'LSTM'." },
    { "encoder_hidden_size", "int", nil,
      "Width of the prompt encoder's hidden layers." },
    { "encoder_num_layers", "int", 2,
      "Number of layers of the prompt encoder." },
    { "encoder_dropout", "float", 0.0,
      "Dropout probability inside the prompt encoder." },
  } end,
  post_init = function(self, chk)
    -- PEFT's own __post_init__ only sets peft_type.
  end,
}

local PromptEncoder = peft.declare_model { name = "PromptEncoder", prefix = "p_tuning_" }

peft.register_peft_method {
  name = "p_tuning",
  config_cls = PromptEncoderConfig,
  model_cls = PromptEncoder,
  prefix = "p_tuning_",
  is_mixed_compatible = false,
}

return PromptEncoderConfig
