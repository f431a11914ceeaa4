-- PEANuT: parameter-efficient adaptation with weight-aware neural tweakers.
local peft = require "peft"
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

local PeanutConfig = peft.declare_config {
  name = "PeanutConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.PEANUT,
  doc = "PEANuT: parameter-efficient adaptation with weight-aware neural tweakers.",
  fields = function() return {
    { "r", "int", 32,
      "Hidden width of the adapter network, comparable to a LoRA rank.",
      check = function(v)
        if v <= 0 then return "must be a positive integer" end
      end },
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
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Layer indices to adapt (one or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') that layers_to_transform indexes into." },
    { "init_weights", "bool", true,
      "Whether B starts at zero so the adapter is a no-op at first (false: all Kaiming uniform)." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    -- r, depth and act_fn are checked per field above.
  end,
}

local PeanutModel = peft.declare_model { name = "PeanutModel", prefix = "peanut_" }

peft.register_peft_method {
  name = "peanut",
  config_cls = PeanutConfig,
  model_cls = PeanutModel,
  prefix = "peanut_",
  is_mixed_compatible = false,
}

return PeanutConfig
