-- Poly: a routed mixture of LoRA skills for multi-task learning.
local peft = require "peft"

local PolyConfig = peft.declare_config {
  name = "PolyConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.POLY,
  doc = "Poly: a routed mixture of LoRA skills for multi-task learning.",
}

local PolyModel = peft.declare_model { name = "PolyModel", prefix = "poly_", display = "Poly" }

peft.register_peft_method {
  name = "poly",
  config_cls = PolyConfig,
  model_cls = PolyModel,
  prefix = "poly_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"

peft.define("PolyConfig", {
  fields = function() return {
    { "r", "int", 8,
      "Rank of each LoRA skill." },
    F.target_modules,
    F.exclude_modules,
    F.modules_to_save,
    { "init_weights", "bool", true,
      "Whether to apply Poly's own initialisation to the skills (turning this off is for tests)." },
    { "poly_type", "Literal['poly']", "poly",
      "Variant of the Poly layer; only 'poly' exists." },
    { "n_tasks", "int", 1,
      "Number of tasks the router learns skill mixtures for." },
    { "n_skills", "int", 4,
      "Number of LoRA skills in each adapted layer." },
    { "n_splits", "int", 1,
      "Number of heads each skill is split into; above 1 gives multi-head routing (MHR)." },
  } end,
  -- PEFT's __post_init__ only turns the module lists into sets (set = true).
})

-- PolyModel: per adapted nn.Linear n_skills LoRA pairs split into n_splits heads, and a
-- router with one logit per task, split and skill (PEFT's poly/layer.py
-- PolyLayer.update_layer, poly/router.py PolyRouter.__init__).
local t = peft.tuner

peft.define("PolyModel", {
  layer_names = { "poly_lora_A", "poly_lora_B", "poly_router" },
  targets = "lora",
  kinds = { linear = true },
  supported = "torch.nn.Linear only",
  layer = function(cfg, m, ctx)
    local r = t.int_field(cfg, "r", "Poly")
    if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
    local tasks, skills = t.int_field(cfg, "n_tasks", "Poly"), t.int_field(cfg, "n_skills", "Poly")
    local splits = t.int_field(cfg, "n_splits", "Poly")
    if splits == 0 then
      t.refuse("ZeroDivisionError", "Poly: n_splits is 0, and the layer's features are divided by it")
    end
    local a = ctx.adapter
    ctx.r = r
    local function shape(s) return t.check_shape(s, "Poly") end
    local out = {
      t.param("poly_lora_A", a, shape { splits, skills, m.in_features // splits, r }),
      t.param("poly_lora_B", a, shape { splits, skills, r, m.out_features // splits }),
    }
    if t.get(cfg, "poly_type") ~= "poly" then
      t.refuse("ValueError", "Unsupported poly_type: %s; only 'poly' is supported", tostring(t.get(cfg, "poly_type")))
    end
    out[3] = t.module("poly_router", a, "module_logits", shape { tasks, splits * skills })
    return out
  end,
})
