-- Lily: low-rank interconnected adaptation across layers.
local peft = require "peft"

local LilyConfig = peft.declare_config {
  name = "LilyConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.LILY,
  doc = "Lily: low-rank interconnected adaptation across layers.",
}

local LilyModel = peft.declare_model { name = "LilyModel", prefix = "lily_", display = "Lily" }

peft.register_peft_method {
  name = "lily",
  config_cls = LilyConfig,
  model_cls = LilyModel,
  prefix = "lily_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("LilyConfig", {
  fields = function() return {
    { "r", "int", 32,
      "Rank of each adapter (inner width of A and B); usually a few times the LoRA rank you would use." },
    { "stride_A", "int", 1,
      "Number of consecutive layers (per target) that share one A adapter; at least 1." },
    { "num_B", "int", 2,
      "Number of B adapters shared by all layers of a target and mixed by a router; at least 2." },
    { "scaling", "float", 1.0,
      "Plain multiplier applied to the adapter output (no alpha / r)." },
    F.target_modules,
    F.exclude_modules,
    F.modules_to_save,
    F.layers_to_transform,
    F.layers_pattern,
    { "init_weights", "bool", true,
      "Whether to start with B at zero so the adapter is a no-op at first (turning this off is discouraged)." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    if self.stride_A < 1 then chk.fail_value("stride_A", "must be at least 1") end
    if self.num_B < 2 then
      chk.fail_value("num_B", "must be at least 2, or the router that mixes the B adapters cannot be trained")
    end
  end,
})

-- LilyModel: per layer lily_A (r, in), lily_B (num_B * r, out) and the router (num_B, r); after
-- injection the layers of one (matched target suffix, weight shape) group share the B of the
-- group's first layer and, in blocks of stride_A layers, the A of the block's first layer
-- (PEFT's lily/model.py _create_new_module and _post_injection_hook, lily/layer.py
-- LilyLayer.update_layer).
local t = peft.tuner

-- LilyModel._post_injection_hook's grouping: for each target (in module order), the names of the
-- layers whose A and B it uses. A string target_modules is one suffix for all; from a list the
-- last entry the name ends with counts (PEFT walks a set; its order is taken as sorted here).
local function lily_sharing(ctx, stride)
  local tm = ctx.target_modules
  local groups, order, share = {}, {}, {}
  for _, m in ipairs(ctx.targets) do
    local suffix
    if type(tm) == "string" then
      suffix = tm
    elseif type(tm) == "table" then
      for _, s in ipairs(tm) do
        if s == "" or m.name:sub(-#s) == s then suffix = s end
      end
    end
    if suffix ~= nil then
      local key = suffix .. "\0" .. tostring(m.out_features) .. "x" .. tostring(m.in_features)
      if not groups[key] then groups[key] = {}; order[#order + 1] = key end
      table.insert(groups[key], m.name)
    end
  end
  for _, key in ipairs(order) do
    local members = groups[key]
    for i, name in ipairs(members) do
      local lead = ((i - 1) // stride) * stride + 1
      share[name] = { A = members[lead], B = members[1] }
    end
  end
  return share
end

peft.define("LilyModel", {
  layer_names = { "lily_A", "lily_B", "lily_router" },
  targets = "lora",
  kinds = { linear = true },
  kind_error = "NotImplementedError",
  supported = "only torch.nn.Linear",
  layer = function(cfg, m, ctx)
    local r = t.int_field(cfg, "r", "Lily")
    if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
    local num_b = t.int_field(cfg, "num_B", "Lily")
    local stride = t.int_field(cfg, "stride_A", "Lily")
    ctx.lily_share = ctx.lily_share or lily_sharing(ctx, stride)
    local a = ctx.adapter
    local share = ctx.lily_share[m.name] or { A = m.name, B = m.name }
    ctx.r = r
    local shared_a, shared_b = "lily_A:" .. a .. ":" .. share.A, "lily_B:" .. a .. ":" .. share.B
    return { t.module("lily_A", a, "weight", { r, m.in_features }, { shared = shared_a }),
             t.module("lily_B", a, "weight", { num_b * r, m.out_features }, { shared = shared_b }),
             t.module("lily_router", a, "weight", { num_b, r }) }
  end,
})
