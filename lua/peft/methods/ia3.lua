-- IA3: learned vectors that rescale keys, values and feed-forward activations.
local peft = require "peft"

local function is_list(v) return type(v) == "table" end

local IA3Config = peft.declare_config {
  name = "IA3Config",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.IA3,
  doc = "IA3: learned vectors that rescale keys, values and feed-forward activations.",
  fields = function() return {
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, a regex matched in full, or 'all-linear'.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "feedforward_modules", "Optional[Union[list[str], str]]", nil,
      "Targeted modules treated as feed-forward: their input is scaled instead of their output.",
      set = true },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
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
        chk.fail("feedforward_modules", "must be a subset of target_modules; not targeted: %s",
          table.concat(missing, ", "))
      end
    end
  end,
}

local IA3Model = peft.declare_model { name = "IA3Model", prefix = "ia3_" }

peft.register_peft_method {
  name = "ia3",
  config_cls = IA3Config,
  model_cls = IA3Model,
  prefix = "ia3_",
  is_mixed_compatible = true,
}

return IA3Config
