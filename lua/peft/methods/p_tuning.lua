-- P-tuning: virtual tokens produced by a small prompt encoder (MLP or LSTM).
local peft = require "peft"

-- The kind of network that produces the virtual tokens.
peft.config.declare_enum("PromptEncoderReparameterizationType", { "MLP", "LSTM" })

local PromptEncoderConfig = peft.declare_config {
  name = "PromptEncoderConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.P_TUNING,
  doc = "P-tuning: virtual tokens produced by a small prompt encoder (MLP or LSTM).",
}

local PromptEncoder = peft.declare_model { name = "PromptEncoder", prefix = "p_tuning_", display = "P-tuning" }

peft.register_peft_method {
  name = "p_tuning",
  config_cls = PromptEncoderConfig,
  model_cls = PromptEncoder,
  prefix = "p_tuning_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"

peft.define("PromptEncoderConfig", {
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
})

-- PromptEncoder: an embedding of the virtual tokens, then (when training) an MLP or a
-- bidirectional LSTM with an MLP over its output (PEFT's p_tuning/model.py
-- PromptEncoder.__init__); saved as the prompt embeddings it computes, [tokens, token_dim].
local t = peft.tuner

local function tokens(cfg, d)
  local n = t.int_field(cfg, "num_virtual_tokens", "P-tuning")
  return n * d.num_transformer_submodules
end

-- torch.nn.LSTM's own checks (RNNBase.__init__)
local function check_lstm(cfg, layers, hidden)
  local p = t.get(cfg, "encoder_dropout")
  if type(p) ~= "number" or p < 0 or p > 1 then
    t.refuse("ValueError", "P-tuning: the LSTM's dropout (encoder_dropout) should be a number in range [0, 1], "
      .. "got %s", tostring(p))
  end
  if hidden <= 0 then
    t.refuse("ValueError", "P-tuning: the LSTM's hidden_size (encoder_hidden_size) must be greater than zero, "
      .. "got %d", hidden)
  end
  if layers <= 0 then
    t.refuse("ValueError", "P-tuning: the LSTM's num_layers (encoder_num_layers) must be greater than zero, got %d",
      layers)
  end
end

peft.define("PromptEncoder", {
  encoder = function(cfg, ctx)
    local d = ctx.dims
    local D, h = d.token_dim, d.encoder_hidden_size
    local out = {}
    local function add(name, shape) out[#out + 1] = t.plain(name, t.check_shape(shape, "P-tuning")) end
    add("embedding.weight", { tokens(cfg, d), D })
    if cfg.inference_mode == true then return out end
    local kind = t.get(cfg, "encoder_reparameterization_type")
    if kind == "LSTM" then
      local layers = t.int_field(cfg, "encoder_num_layers", "P-tuning")
      check_lstm(cfg, layers, h)
      for k = 0, layers - 1 do
        for _, dir in ipairs { "", "_reverse" } do
          local s = "_l" .. k .. dir
          add("lstm_head.weight_ih" .. s, { 4 * h, k == 0 and D or 2 * h })
          add("lstm_head.weight_hh" .. s, { 4 * h, h })
          add("lstm_head.bias_ih" .. s, { 4 * h })
          add("lstm_head.bias_hh" .. s, { 4 * h })
        end
      end
      add("mlp_head.0.weight", { 2 * h, 2 * h })
      add("mlp_head.0.bias", { 2 * h })
      add("mlp_head.2.weight", { D, 2 * h })
      add("mlp_head.2.bias", { D })
    elseif kind == "MLP" then
      add("mlp_head.0.weight", { h, D })
      add("mlp_head.0.bias", { h })
      add("mlp_head.2.weight", { h, h })
      add("mlp_head.2.bias", { h })
      add("mlp_head.4.weight", { D, h })
      add("mlp_head.4.bias", { D })
    else
      t.refuse("ValueError", "P-tuning: prompt encoder type %s not recognized; use MLP (recommended) or LSTM "
        .. "(upper case)", require("peft.types").repr(kind))
    end
    return out
  end,
  -- PEFT's get_prompt_embedding_to_save (or, in inference mode, the embedding's weight: the same shape)
  saved_prompt = function(cfg, ctx)
    return { { key = "prompt_embeddings", shape = { tokens(cfg, ctx.dims), ctx.dims.token_dim } } }
  end,
})
