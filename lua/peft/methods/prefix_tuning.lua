-- Prefix tuning: learned key/value prefixes for every attention layer.
local peft = require "peft"

local PrefixTuningConfig = peft.declare_config {
  name = "PrefixTuningConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.PREFIX_TUNING,
  doc = "Prefix tuning: learned key/value prefixes for every attention layer.",
}

local PrefixEncoder = peft.declare_model { name = "PrefixEncoder", prefix = "prefix_tuning_", display = "Prefix tuning" }

peft.register_peft_method {
  name = "prefix_tuning",
  config_cls = PrefixTuningConfig,
  model_cls = PrefixEncoder,
  prefix = "prefix_tuning_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"

peft.define("PrefixTuningConfig", {
  fields = function() return {
    { "init_weights", "Literal['zero'] | None", nil,
      "Null for random prefixes, or 'zero' so the untrained prefixes change nothing." },
    { "encoder_hidden_size", "int", nil,
      "Width of the projection network's hidden layer (used with prefix_projection)." },
    { "prefix_projection", "bool", false,
      "Whether the prefixes are produced by a two-layer projection instead of stored directly." },
  } end,
  post_init = function(self, chk)
    -- PEFT's own __post_init__ only sets peft_type.
  end,
})

-- PrefixEncoder: the key/value prefixes of every layer, [tokens, num_layers * 2 * token_dim],
-- stored directly or produced from token embeddings by a two-layer projection (training
-- only) (PEFT's prefix_tuning/model.py PrefixEncoder.__init__); saved as the prefixes it
-- computes. Prefixes have num_virtual_tokens rows, whatever num_transformer_submodules is.
local t = peft.tuner

local function width(d)
  if math.type(d.num_layers) ~= "integer" then
    t.refuse("TypeError", "Prefix tuning: num_layers must be an integer to size the prefixes, got %s",
      tostring(d.num_layers))
  end
  return d.num_layers * 2 * d.token_dim
end

peft.define("PrefixEncoder", {
  encoder = function(cfg, ctx)
    local d = ctx.dims
    local n = t.int_field(cfg, "num_virtual_tokens", "Prefix tuning")
    local D, h, w = d.token_dim, d.encoder_hidden_size, width(d)
    local out = {}
    local function add(name, shape) out[#out + 1] = t.plain(name, t.check_shape(shape, "Prefix tuning")) end
    if cfg.prefix_projection == true and cfg.inference_mode ~= true then
      add("embedding.weight", { n, D })
      add("transform.0.weight", { h, D })
      add("transform.0.bias", { h })
      add("transform.2.weight", { w, h })
      add("transform.2.bias", { w })
    else
      add("embedding.weight", { n, w })
    end
    return out
  end,
  -- PEFT's get_prompt_embedding_to_save (or, in inference mode, the embedding's weight: the same shape)
  saved_prompt = function(cfg, ctx)
    return { { key = "prompt_embeddings", shape = { cfg.num_virtual_tokens, width(ctx.dims) } } }
  end,
})
