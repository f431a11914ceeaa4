-- Cartridge: a trained KV-cache prefix that stands in for a long context.
local peft = require "peft"

local CartridgeConfig = peft.declare_config {
  name = "CartridgeConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.CARTRIDGE,
  doc = "Cartridge: a trained KV-cache prefix that stands in for a long context.",
}

local CartridgeEncoder = peft.declare_model { name = "CartridgeEncoder", prefix = "cartridge_", display = "Cartridge" }

peft.register_peft_method {
  name = "cartridge",
  config_cls = CartridgeConfig,
  model_cls = CartridgeEncoder,
  prefix = "cartridge_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"

peft.define("CartridgeConfig", {
  fields = function() return {
    { "num_frozen_tokens", "int", 1,
      "Leading virtual tokens kept frozen (an attention sink); between 0 and num_virtual_tokens.",
      min = 0 },
  } end,
  post_init = function(self, chk)
    -- num_frozen_tokens >= 0 is checked on the field (min = 0).
    local nvt = self.num_virtual_tokens
    if nvt ~= nil and self.num_frozen_tokens > nvt then
      chk.fail_value("num_frozen_tokens", "must not exceed num_virtual_tokens (%d)", nvt)
    end
  end,
})

-- CartridgeEncoder: a key/value prefix like prefix tuning's, [tokens, num_layers * 2 *
-- token_dim], split into the first num_frozen_tokens rows (created frozen) and the rest
-- (trainable unless inference_mode) (PEFT's cartridge/model.py CartridgeEncoder.__init__);
-- saved as both parts joined.
local t = peft.tuner

local function width(d)
  if math.type(d.num_layers) ~= "integer" then
    t.refuse("TypeError", "Cartridge: num_layers must be an integer to size the prefix, got %s", tostring(d.num_layers))
  end
  return d.num_layers * 2 * d.token_dim
end

peft.define("CartridgeEncoder", {
  encoder = function(cfg, ctx)
    local n = t.get(cfg, "num_virtual_tokens")
    if n == nil then
      t.refuse("TypeError", "Cartridge: num_virtual_tokens is null in the config; PEFT compares num_frozen_tokens "
        .. "with it ('>' not supported between 'int' and 'NoneType')")
    end
    local frozen = t.int_field(cfg, "num_frozen_tokens", "Cartridge")
    if frozen < 0 or frozen > n then
      t.refuse("ValueError", "Cartridge: num_frozen_tokens must be in [0, num_virtual_tokens], got %d for "
        .. "num_virtual_tokens=%d", frozen, n)
    end
    local w = width(ctx.dims)
    t.check_shape({ n, w }, "Cartridge")
    local out = {}
    if frozen > 0 then out[#out + 1] = t.plain("frozen_embedding", { frozen, w }, { trainable = false }) end
    out[#out + 1] = t.plain("trainable_embedding", { n - frozen, w }, { trainable = cfg.inference_mode ~= true })
    return out
  end,
  -- PEFT's get_prompt_embedding_to_save: the frozen and trainable rows joined
  saved_prompt = function(cfg, ctx)
    return { { key = "prompt_embeddings", shape = { cfg.num_virtual_tokens, width(ctx.dims) } } }
  end,
})
