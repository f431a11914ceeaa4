-- IA3: learned vectors that rescale keys, values and feed-forward activations.
local peft = require "peft"

local IA3Config = peft.declare_config {
  name = "IA3Config",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.IA3,
  doc = "IA3: learned vectors that rescale keys, values and feed-forward activations.",
}

local IA3Model = peft.declare_model { name = "IA3Model", prefix = "ia3_", display = "IA3" }

peft.register_peft_method {
  name = "ia3",
  config_cls = IA3Config,
  model_cls = IA3Model,
  prefix = "ia3_",
  is_mixed_compatible = true,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"

local function is_list(v) return type(v) == "table" end

peft.define("IA3Config", {
  fields = function() return {
    F.target_modules,
    F.exclude_modules,
    { "feedforward_modules", "Optional[Union[list[str], str]]", nil,
      "Targeted modules treated as feed-forward: their input is scaled instead of their output.",
      set = true },
    F.fan_in_fan_out,
    F.modules_to_save,
    { "init_ia3_weights", "bool", true,
      "Whether to initialise the IA3 vectors to ones (turning this off is discouraged)." },
  } end,
  post_init = function(self, chk)
    -- feedforward_modules must be a subset of target_modules when both are lists
    local ff, tm = self.feedforward_modules, self.target_modules
    if is_list(ff) and is_list(tm) then
      local targets = {}
      for _, m in ipairs(tm) do targets[m] = true end
      local missing = {}
      for _, m in ipairs(ff) do
        if not targets[m] then missing[#missing + 1] = "'" .. m .. "'" end
      end
      if #missing > 0 then
        chk.fail_later("0.6.1", "feedforward_modules", "must be a subset of target_modules; not targeted: %s",
          table.concat(missing, ", "))
      end
    end
  end,
})

-- IA3Model: one learned scaling vector per layer, on the output features, or on the input features
-- of the modules feedforward_modules names (PEFT's ia3/model.py _prepare_adapter_config,
-- _check_target_module_feedforward, _create_new_module; layer.py IA3Layer.update_layer and
-- _ConvNd.update_layer).
local t = peft.tuner

peft.define("IA3Model", {
  layer_names = { "ia3_l" },
  targets = "ia3",
  -- _prepare_adapter_config: feedforward_modules default to the model type's table
  prepare = function(plan, cfg, ctx)
    local ff = t.get(cfg, "feedforward_modules")
    if ff == nil then
      local mt = plan.base.model_type
      local by_type = require("peft.model_types").table("ia3_feedforward")
      if mt == nil or by_type[mt] == nil then
        t.refuse("ValueError", "Please specify `feedforward_modules` in `peft_config`: PEFT has no default "
          .. "feedforward modules for model type %s", mt and peft.types.repr(mt) or "(unknown)")
      end
      ff = by_type[mt]
    end
    ctx.feedforward_modules = ff
  end,
  layer = function(cfg, m, ctx)
    -- _check_target_module_feedforward: a regex matched in full, or plain name suffixes
    local ff, is_ff = ctx.feedforward_modules, false
    if type(ff) == "string" then
      is_ff = peft.model.fullmatch(ff, ctx.key, "feedforward_modules") and true or false
    else
      for _, k in ipairs(ff) do
        if ctx.key:sub(-#k) == k then is_ff = true end
      end
    end
    ctx.feedforward = is_ff
    if m.kind == "conv2d" then
      return { t.param("ia3_l", ctx.adapter, { 1, is_ff and m.in_features or m.out_features, 1, 1 }) }
    elseif m.kind ~= "linear" and m.kind ~= "conv1d" then
      t.refuse_kind("IA3", m, "only torch.nn.Linear, torch.nn.Conv2d and transformers' Conv1D", "ValueError")
    end
    return { t.param("ia3_l", ctx.adapter, is_ff and { 1, m.in_features } or { m.out_features, 1 }) }
  end,
})
