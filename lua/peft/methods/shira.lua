-- SHiRA: sparse high-rank adapters that train a fixed subset of weights.
local peft = require "peft"

local ShiraConfig = peft.declare_config {
  name = "ShiraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.SHIRA,
  doc = "SHiRA: sparse high-rank adapters that train a fixed subset of weights.",
}

local ShiraModel = peft.declare_model { name = "ShiraModel", prefix = "shira_", display = "SHiRA" }

peft.register_peft_method {
  name = "shira",
  config_cls = ShiraConfig,
  model_cls = ShiraModel,
  prefix = "shira_",
  is_mixed_compatible = true,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"

peft.define("ShiraConfig", {
  fields = function() return {
    { "r", "int", 32,
      "Trainable budget: r*(m+n) entries of each m x n weight, like a rank-r LoRA (not a rank limit)." },
    { "mask_type", "Literal['random']", "random",
      "How the trained entries are chosen; only 'random' (a random sparse mask) is built in.",
      -- PEFT accepts any name (with a warning): a custom mask function is
      -- attached at runtime
      check_type = "str" },
    { "random_seed", "Optional[int]", nil,
      "Seed for the random mask, or null for an unseeded one." },
    F.target_modules,
    F.fan_in_fan_out,
    { "init_weights", "bool", true,
      "Whether the sparse update starts at zero (else random values; for tests)." },
    F.modules_to_save,
  } end,
  post_init = function(self, chk)
    -- target_modules becomes a set (set = true). PEFT attaches its random
    -- mask function for 'random' (a Python callable, not part of the config)
    -- and warns for any other mask_type unless inference_mode is set.
    if self.mask_type ~= "random" and not self.inference_mode then
      chk.warn("mask_type %s is not built in; supply your own mask function", require("peft.types").repr(self.mask_type))
    end
  end,
})

-- ShiraModel: r * (in + out) trainable entries of each Linear weight; the random mask's indices
-- ([2, n], not a parameter) are saved beside them (PEFT's shira/model.py _create_new_module,
-- _get_adapter_state_dict; layer.py ShiraLayer.update_layer; mask_functions.py random_mask).
local t = peft.tuner

local function escape(s) return (s:gsub("%p", "%%%0")) end

peft.define("ShiraModel", {
  layer_names = { "shira_weight" },
  targets = "shira",
  layer = function(cfg, m, ctx)
    if m.kind ~= "linear" then t.refuse_kind("SHiRA", m, "only torch.nn.Linear", "TypeError") end
    local r = t.int_field(cfg, "r", "SHiRA")
    ctx.r = r
    if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
    local fin, fout = m.in_features, m.out_features
    local n = r * (fin + fout)
    if n > fin * fout then
      t.refuse("ValueError", "SHiRA: r=%d gives %d trainable entries for %s, more than the %d weights of the base "
        .. "layer", r, n, m.name, fin * fout)
    end
    return { t.param("shira_weight", ctx.adapter, { n }) }
  end,
  -- _get_adapter_state_dict adds each layer's shira_indices (only the built-in random mask makes them)
  state_dict = function(sel, cfg, ctx, plan)
    if cfg.mask_type ~= "random" then return sel end
    local suffix = "%.shira_weight%." .. escape(ctx.adapter) .. "$"
    local out = {}
    for _, c in ipairs(sel) do out[#out + 1] = c end
    for _, c in ipairs(sel) do
      if c.entry and c.key:match(suffix) then
        local key = c.key:gsub(suffix, ".shira_indices." .. escape(ctx.adapter))
        out[#out + 1] = { key = key, shape = { 2, c.shape[1] }, entry = c.entry }
      end
    end
    return out
  end,
})
