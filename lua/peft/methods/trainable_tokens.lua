-- Trainable tokens: fine-tunes the embeddings of selected token ids only.
local peft = require "peft"

local TrainableTokensConfig = peft.declare_config {
  name = "TrainableTokensConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.TRAINABLE_TOKENS,
  doc = "Trainable tokens: fine-tunes the embeddings of selected token ids only.",
  fields = {},
}

local TrainableTokensModel = peft.declare_model { name = "TrainableTokensModel", prefix = "trainable_tokens_" }

peft.register_peft_method {
  name = "trainable_tokens",
  config_cls = TrainableTokensConfig,
  model_cls = TrainableTokensModel,
  prefix = "trainable_tokens_",
  is_mixed_compatible = false,
}

return TrainableTokensConfig
