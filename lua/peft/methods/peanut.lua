-- PEANuT: parameter-efficient adaptation with weight-aware neural tweakers.
local peft = require "peft"

local PeanutConfig = peft.declare_config {
  name = "PeanutConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.PEANUT,
  doc = "PEANuT: parameter-efficient adaptation with weight-aware neural tweakers.",
}

local PeanutModel = peft.declare_model { name = "PeanutModel", prefix = "peanut_", display = "PEANuT" }

peft.register_peft_method {
  name = "peanut",
  config_cls = PeanutConfig,
  model_cls = PeanutModel,
  prefix = "peanut_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local config = require "peft.config"
local rules = require "peft.rules"

-- The keys of transformers.activations.ACT2FN (from the reference schema's
-- validation_constants), sorted as PEFT lists them in its error.
local ACTIVATIONS = {
  "gelu", "gelu_10", "gelu_accurate", "gelu_fast", "gelu_new", "gelu_python", "gelu_python_tanh",
  "gelu_pytorch_tanh", "hardswish", "laplace", "leaky_relu", "linear", "mish", "prelu", "quick_gelu",
  "relu", "relu2", "relu6", "sigmoid", "silu", "sqrtsoftplus", "swish", "tanh", "xielu",
}
local IS_ACTIVATION = {}
for _, a in ipairs(ACTIVATIONS) do IS_ACTIVATION[a] = true end

peft.define("PeanutConfig", {
  fields = function() return {
    { "r", "int", 32,
      "Hidden width of the adapter network, comparable to a LoRA rank.",
      check = rules.positive_int },
    { "depth", "int", 0,
      "Number of extra hidden layers on each encoder/decoder side, besides the A and B projections.",
      check = function(v)
        if v < 0 then return "must be a non-negative integer" end
      end },
    { "act_fn", "str", "relu",
      "Activation used inside the adapter network; a name from transformers' ACT2FN.",
      check = function(v)
        if not IS_ACTIVATION[v] then
          return "must be an activation name from transformers' ACT2FN" .. config.suggest(v, ACTIVATIONS)
            .. ", one of " .. table.concat(ACTIVATIONS, ", ")
        end
      end },
    { "scaling", "float", 1.0,
      "Factor applied to the adapter's output before it is added to the base layer's output." },
    F.target_modules,
    F.exclude_modules,
    F.modules_to_save,
    F.layers_to_transform,
    F.layers_pattern,
    { "init_weights", "bool", true,
      "Whether B starts at zero so the adapter is a no-op at first (false: all Kaiming uniform)." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    -- r, depth and act_fn are checked per field above.
  end,
})

-- PeanutModel: per layer the input projection peanut_A (r, out), depth encoder and depth decoder
-- layers (r, r) and the output projection peanut_B (out, r) (PEFT's peanut/model.py
-- _create_new_module, peanut/layer.py PeanutLayer.update_layer).
local t = peft.tuner

peft.define("PeanutModel", {
  layer_names = { "peanut_A", "peanut_B", "peanut_encoders", "peanut_decoders" },
  targets = "lora",
  kinds = { linear = true },
  kind_error = "NotImplementedError",
  supported = "only torch.nn.Linear",
  layer = function(cfg, m, ctx)
    local r = t.int_field(cfg, "r", "PEANuT")
    local depth = t.int_field(cfg, "depth", "PEANuT")
    local a, fout = ctx.adapter, m.out_features
    local out = { t.module("peanut_A", a, "weight", { r, fout }) }
    for _, side in ipairs { "peanut_encoders", "peanut_decoders" } do
      for i = 0, depth - 1 do out[#out + 1] = t.module(side, a, i .. ".weight", { r, r }) end
    end
    out[#out + 1] = t.module("peanut_B", a, "weight", { fout, r })
    ctx.r = r
    return out
  end,
  -- PeanutModel._remove_adapter_name_from_key: the encoder/decoder lists drop the adapter name
  -- from the middle of the key (peanut_encoders.default.0.weight -> peanut_encoders.0.weight)
  saved = function(key, adapter)
    for _, side in ipairs { "peanut_encoders", "peanut_decoders" } do
      local marker = "." .. side .. "." .. adapter .. "."
      if key:find(marker, 1, true) then
        -- every occurrence, as str.replace does
        local out, from = {}, 1
        while true do
          local at = key:find(marker, from, true)
          if not at then break end
          out[#out + 1] = key:sub(from, at - 1) .. "." .. side .. "."
          from = at + #marker
        end
        return table.concat(out) .. key:sub(from)
      end
    end
    return peft.peft_model.remove_adapter_name(key, adapter)
  end,
})
