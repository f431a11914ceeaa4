-- LN tuning: fine-tunes only the LayerNorm parameters.
local peft = require "peft"

local LNTuningConfig = peft.declare_config {
  name = "LNTuningConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.LN_TUNING,
  doc = "LN tuning: fine-tunes only the LayerNorm parameters.",
}

local LNTuningModel = peft.declare_model { name = "LNTuningModel", prefix = "ln_tuning_", display = "LN tuning" }

peft.register_peft_method {
  name = "ln_tuning",
  config_cls = LNTuningConfig,
  model_cls = LNTuningModel,
  prefix = "ln_tuning_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"

peft.define("LNTuningConfig", {
  fields = function() return {
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "LayerNorm modules to tune (names or a regex); chosen from the model architecture when null." },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to tune: names (exact or suffix) or a regex." },
    { "modules_to_save", "Optional[Union[list[str], str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
  } end,
  -- PEFT's __post_init__ only sets peft_type; the module lists are kept as given.
})

-- LNTuningModel: each targeted module, whatever its kind, gets a trainable deep copy of
-- itself, so every parameter under it reappears under ln_tuning_layers.<adapter> (PEFT's
-- ln_tuning/layer.py LNTuningLayer.update_layer).
local t = peft.tuner

peft.define("LNTuningModel", {
  layer_names = { "ln_tuning_layers" },
  targets = "ln_tuning",
  layer = function(cfg, m, ctx)
    local key = ctx.key
    -- BaseTuner.inject_adapter walks the module names listed before any replacement: a
    -- target inside one replaced before is looked up through the LNTuningLayer, which
    -- does not forward attributes (torch's get_submodule)
    ctx.replaced = ctx.replaced or {}
    local parent = key:match("^(.*)%.[^%.]+$")
    while parent do
      if ctx.replaced[parent] then
        t.refuse("AttributeError", "LN tuning: %s is inside %s, which was replaced by an LNTuningLayer before it; "
          .. "LNTuningLayer has no attribute `%s`", key, parent, key:sub(#parent + 2):match("^[^%.]+"))
      end
      parent = parent:match("^(.*)%.[^%.]+$")
    end
    ctx.replaced[key] = true
    local out, a = {}, ctx.adapter
    local prefix = key .. "."
    for _, mod in ipairs(ctx.plan.modules) do
      if mod.name == key or mod.name:sub(1, #prefix) == prefix then
        local rest = mod.name == key and "" or (mod.name:sub(#prefix + 1) .. ".")
        for _, pn in ipairs(mod.param_order) do
          out[#out + 1] = t.module("ln_tuning_layers", a, rest .. pn, mod.params[pn].shape)
        end
      end
    end
    return out
  end,
})
