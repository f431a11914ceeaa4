-- MiSS: matrix shard sharing (the successor of Bone).
local peft = require "peft"

local MissConfig = peft.declare_config {
  name = "MissConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.MISS,
  doc = "MiSS: matrix shard sharing (the successor of Bone).",
}

local MissModel = peft.declare_model { name = "MissModel", prefix = "miss_", display = "MiSS" }

peft.register_peft_method {
  name = "miss",
  config_cls = MissConfig,
  model_cls = MissModel,
  prefix = "miss_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("MissConfig", {
  fields = function() return {
    { "r", "int", 64,
      "Shard size along the input dimension (an even value is needed by the default initialisation)." },
    { "miss_dropout", "float", 0.0, "Dropout probability on the input of the MiSS branch." },
    { "mini_r", "int", 1,
      "Shard size along the output dimension for init_weights='mini' (should divide out_features)." },
    F.target_modules,
    F.exclude_modules,
    { "init_weights", "bool | Literal['bat', 'mini']", true,
      "MiSS variant: true (balanced, the default), 'bat' (non-linear across shards) or 'mini' (uses mini_r)." },
    F.layers_to_transform,
    F.layers_pattern_str,
    { "bias", "str", "none", "Which biases to train: 'none', 'all' or 'MiSS_only'." },
    F.modules_to_save,
  } end,
  post_init = function(self, chk)
    rules.regex_excludes_layers(self, chk)
  end,
})

-- MissModel: one trainable block per adapted Linear (PEFT's miss/layer.py MissLayer.update_layer);
-- its shape depends on init_weights: (r, out) by default, (out // r, r, r) for 'bat', (r, mini_r)
-- for 'mini'.
local t = peft.tuner

local function miss_layer(cfg, m, ctx)
  -- miss/model.py _create_new_module: only Linear (or a quantized linear) gets a layer
  if m.kind ~= "linear" then
    t.refuse("TypeError", "Target module %s is not supported by MiSS; it supports only torch.nn.Linear "
      .. "(optionally quantized)", t.describe(m))
  end
  local r = t.int_field(cfg, "r", "MiSS")
  ctx.r = r
  if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
  t.dropout(cfg, "miss_dropout")
  local fin, fout = m.in_features, m.out_features
  local init = t.get(cfg, "init_weights")
  local shape
  if init == "bat" then
    if fin % r ~= 0 or fout % r ~= 0 then
      t.refuse("ValueError", "MiSS with init_weights='bat': the weight of %s (%d x %d) must be fully divisible into "
        .. "[r, r] blocks with r=%d", m.name, fout, fin, r)
    end
    shape = { fout // r, r, r }
  elseif init == "mini" then
    local mini = t.int_field(cfg, "mini_r", "MiSS")
    if mini == 0 then
      t.refuse("ZeroDivisionError", "MiSS with init_weights='mini': mini_r is 0 (out_features % mini_r)")
    end
    if fout % mini ~= 0 then
      t.refuse("ValueError", "MiSS with init_weights='mini': out_features of %s (%d) must be divisible by mini_r "
        .. "(%d), along which the shards are split", m.name, fout, mini)
    end
    shape = t.check_dims { r, mini }
  else
    shape = { r, fout }
  end
  return { t.param("miss_block", ctx.adapter, shape) }
end

peft.define("MissModel", {
  layer_names = { "miss_block" },
  targets = "lora",
  layer = miss_layer,
})
