-- Trainable tokens: fine-tunes the embeddings of selected token ids only.
local peft = require "peft"

local TrainableTokensConfig = peft.declare_config {
  name = "TrainableTokensConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.TRAINABLE_TOKENS,
  doc = "Trainable tokens: fine-tunes the embeddings of selected token ids only.",
  fields = function() return {
    { "token_indices", "list[int]", setmetatable({}, peft.core.json_array_mt),
      "Ids of the tokens whose embeddings are trained; the rest of the embedding stays frozen." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Embedding modules to adapt (names or a regex); the model's input embedding when null." },
    { "init_weights", "bool", true,
      "Whether the trained embeddings start as copies of the current ones (else random; for tests)." },
  } end,
  -- PEFT's __post_init__ only sets peft_type; target_modules is kept as given.
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
