-- peft.base: the root config classes every method builds on
-- (PeftConfig, PromptLearningConfig), as declared by PEFT's peft.config.
local config = require "peft.config"
local core = require "peft.core"

local M = {}

M.PeftConfig = config.declare {
  name = "PeftConfig",
  doc = "Base class of every adapter config: method, task, base model and version.",
  fields = function() return {
    { "task_type", "Optional[Union[str, TaskType]]", nil, "Task the adapted model performs (a TaskType member), or null." },
    { "peft_type", "Optional[Union[str, PeftType]]", nil, "The adapter method (a PeftType member); set by each config class." },
    { "auto_mapping", "Optional[dict]", nil, "Hints for rebuilding a custom base model class; rarely set by hand." },
    { "peft_version", "Optional[str]", nil, "PEFT version that wrote the config; filled in when empty." },
    { "base_model_name_or_path", "Optional[str]", nil, "Hub id or local path of the base model the adapter belongs to." },
    { "revision", "Optional[str]", nil, "Revision (branch, tag or commit) of the base model." },
    { "inference_mode", "bool", false, "Whether the adapter is loaded for inference only (weights frozen)." },
  } end,
  post_init = function(self, chk)
    local cls = chk.class
    local values = chk.values -- (read raw: a None field is not there; see peft.rules)
    local tt = rawget(values, "task_type")
    if tt ~= nil and not core.task_index(tt) then
      local hint = ""
      if type(tt) == "string" and core.task_index(tt:upper()) then
        hint = " (task types are upper-case: did you mean '" .. tt:upper() .. "'?)"
      elseif type(tt) == "string" then
        hint = config.suggest(tt, core.tasks())
      end
      chk.fail("task_type", "invalid task type %s; must be one of %s%s", require("peft.types").repr(tt),
        table.concat(core.tasks(), ", "), hint)
    end
    local pt = cls.peft_type
    if pt and self.peft_type ~= pt then chk.set("peft_type", pt) end
    if rawget(values, "peft_version") == nil then chk.set("peft_version", config.PEFT_VERSION) end
  end,
}

M.PromptLearningConfig = config.declare {
  name = "PromptLearningConfig",
  parent = M.PeftConfig,
  is_prompt_learning = true,
  doc = "Base class of the prompt-learning methods (virtual tokens prepended to the input).",
  fields = function()
    local F = require "peft.fields"
    return {
      { "num_virtual_tokens", "int", nil, "Number of virtual tokens to learn." },
      { "token_dim", "int", nil, "Hidden embedding dimension of the base model." },
      { "num_transformer_submodules", "Optional[int]", nil, "Number of transformer stacks (2 for encoder-decoder); derived from task_type when null." },
      { "num_attention_heads", "Optional[int]", nil, "Number of attention heads of the base model." },
      { "num_layers", "Optional[int]", nil, "Number of transformer layers of the base model." },
      F.modules_to_save,
    }
  end,
}

return M
