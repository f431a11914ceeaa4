-- scripts/tour.lua: a short tour of the peft runtime, run by `make run` when
-- there is no terminal. Uses only the public API.
local peft = require "peft"

local function say(fmt, ...) print(string.format(fmt, ...)) end

say("%s: %d PeftType members, %d TaskType members, %d registered methods",
  peft._VERSION, #peft.PeftType, #peft.TaskType, #peft.methods())

say("\nMethods that share a prefix or mix with others:")
for _, m in ipairs(peft.methods()) do
  if m.is_mixed_compatible or m.shares_prefix_with then
    say("  %-10s %-8s prefix %-10s config %-16s%s%s", m.name, m.peft_type, m.prefix, m.config_cls.name,
      m.is_mixed_compatible and "  mixed" or "",
      m.shares_prefix_with and ("  shares '" .. m.shares_prefix_with .. "' prefix") or "")
  end
end

say("\nA LoRA config, as adapter_config.json:")
local cfg = peft.LoraConfig { r = 16, lora_alpha = 32, target_modules = { "v_proj", "q_proj" },
                              task_type = peft.TaskType.CAUSAL_LM }
print(cfg:to_json())

say("\nWhat registration refuses:")
local ok, err = pcall(peft.register_peft_method, { name = "lora", config_cls = peft.LoraConfig })
say("  %s", tostring(err))
ok, err = pcall(function() return peft.PeftType.LORAA end)
say("  %s", tostring(err))
assert(not ok)

say("\nStart the REPL with `build/peft` on a terminal, or see README.md.")
