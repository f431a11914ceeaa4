-- C3A: circular-convolution adaptation with block-circulant updates.
local peft = require "peft"

local C3AConfig = peft.declare_config {
  name = "C3AConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.C3A,
  doc = "C3A: circular-convolution adaptation with block-circulant updates.",
}

local C3AModel = peft.declare_model { name = "C3AModel", prefix = "c3a_", display = "C3A" }

peft.register_peft_method {
  name = "c3a",
  config_cls = C3AConfig,
  model_cls = C3AModel,
  prefix = "c3a_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("C3AConfig", {
  fields = function() return {
    { "block_size", "int", 256,
      "Size of the circulant blocks; must divide both the input and output size of every targeted layer." },
    F.target_modules,
    { "bias", "str", "none", "Which biases to train: 'none', 'all' or 'c3a_only'." },
    F.modules_to_save,
    F.layers_to_transform,
    F.layers_pattern,
    { "block_size_pattern", "Optional[dict]", {},
      "Per-module block size overrides: module name or regex -> value used instead of block_size." },
    { "init_weights", "Optional[Union[bool, Literal['gaussian', 'kaiming_uniform', 'xavier_uniform']]]",
      "xavier_uniform",
      "Initialisation of the kernels: true (zeros, a no-op), 'gaussian', 'kaiming_uniform' or 'xavier_uniform' (also false)." },
  } end,
  post_init = function(self, chk)
    rules.regex_excludes_layers(self, chk)
  end,
})

-- C3AModel: one block-circulant kernel per Linear (PEFT's c3a/model.py _create_and_replace,
-- _create_new_module; layer.py C3ALayer.update_layer).
local t = peft.tuner

peft.define("C3AModel", {
  layer_names = { "c3a_kernel" },
  targets = "c3a",
  layer = function(cfg, m, ctx)
    local pattern = t.get(cfg, "block_size_pattern")
    if pattern == nil then
      t.refuse("AttributeError", "C3A: block_size_pattern is null in the config; building a layer looks up its "
        .. "keys ('NoneType' object has no attribute 'keys')")
    end
    local b = t.suffix_pattern_value(pattern, ctx.key, cfg.block_size)
    if m.kind ~= "linear" then t.refuse_kind("C3A", m, "only torch.nn.Linear", "TypeError") end
    if type(b) ~= "number" then
      t.refuse("TypeError", "C3A: the block size of %s must be an integer, got %s", m.name, peft.types.repr(b))
    end
    if b <= 0 then
      t.refuse("ValueError", "`block_size` should be a positive integer value but the value passed is %s",
        tostring(b))
    end
    local fin, fout = m.in_features, m.out_features
    if fin % b ~= 0 then
      t.refuse("ValueError", "C3A: the block size (%s) must divide the input size of %s (%d)", tostring(b), m.name, fin)
    end
    if fout % b ~= 0 then
      t.refuse("ValueError", "C3A: the block size (%s) must divide the output size of %s (%d)", tostring(b), m.name,
        fout)
    end
    if math.type(b) ~= "integer" then
      t.refuse("TypeError", "C3A: the block size of %s must be an integer, got %s", m.name, tostring(b))
    end
    return { t.param("c3a_kernel", ctx.adapter, { fout // b, fin // b, b }) }
  end,
})
