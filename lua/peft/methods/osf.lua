-- OSF: orthogonal subspace fine-tuning for continual learning.
local peft = require "peft"

local OSFConfig = peft.declare_config {
  name = "OSFConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.OSF,
  doc = "OSF: orthogonal subspace fine-tuning for continual learning.",
  fields = function() return {
    { "effective_rank", "Optional[Union[int, float]]", nil,
      "Singular directions kept frozen per module: a count, a fraction in (0, 1], or null for half." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: a list of names, a regex, or 'all-linear'." },
    { "rank_pattern", "Optional[dict[str, Union[int, float]]]", nil,
      "Per-module overrides of effective_rank: regex -> count or fraction." },
    { "init_weights", "Optional[bool]", nil,
      "Accepted for compatibility with other methods; OSF ignores it." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter; accepted, OSF ignores it." },
    { "target_svd_config", "Optional[dict[str, int]]", nil,
      "Per-parameter SVD target ranks (parameter name -> rank); accepted, OSF ignores it for now." },
  } end,
  -- PEFT's __post_init__ only sets peft_type; target_modules is kept as given.
}

local OSFModel = peft.declare_model { name = "OSFModel", prefix = "osf_" }

peft.register_peft_method {
  name = "osf",
  config_cls = OSFConfig,
  model_cls = OSFModel,
  prefix = "osf_",
  is_mixed_compatible = false,
}

return OSFConfig
