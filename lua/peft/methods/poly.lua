-- Poly: a routed mixture of LoRA skills for multi-task learning.
local peft = require "peft"

local PolyConfig = peft.declare_config {
  name = "PolyConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.POLY,
  doc = "Poly: a routed mixture of LoRA skills for multi-task learning.",
  fields = function() return {
    { "r", "int", 8,
      "Rank of each LoRA skill." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
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
}

local PolyModel = peft.declare_model { name = "PolyModel", prefix = "poly_" }

peft.register_peft_method {
  name = "poly",
  config_cls = PolyConfig,
  model_cls = PolyModel,
  prefix = "poly_",
  is_mixed_compatible = false,
}

return PolyConfig
