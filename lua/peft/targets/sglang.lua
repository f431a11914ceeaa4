-- SGLang (python/sglang/srt/lora/): asserts peft_type LORA, reads target_modules, r, lora_alpha and
-- use_dora; the scale is always lora_alpha/r (use_rslora is not read, #40835).
local peft = require "peft"

peft.register_target {
  kind = "engine",
  name = "sglang",
  title = "SGLang",
  doc = "SGLang's LoRA loader: LoRA only, scale lora_alpha/r, no DoRA, no added tokens.",
  source = "python/sglang/srt/lora/",
  knobs = {
    max_lora_rank = { type = "integer", flag = "--max-lora-rank",
      help = "the largest rank of the LoRA pool (default: the largest of the adapters given at start-up)" },
  },
}

--@definitions: the rules of the target declared above (built on first use)
local peft = require "peft"

peft.define("sglang", {
  rules = function(check)
    local rule = check.rule
    local merge = "merge the adapter into the base model and serve the merged model"
    return {
      rule.peft_type { accept = { "LORA" }, error = "AssertionError: SGLang loads only LoRA adapters, got peft_type "
        .. "{peft_type}", fix = merge },
      rule.setting { id = "dora", fact = "dora",
        error = "SGLang does not support DoRA adapters (PR #22125)", fix = merge },
      rule.setting { id = "added-tokens", fact = "adds_tokens",
        error = "SGLang does not support LoRA adapters that add tokens", fix = merge },
      rule.rank { knob = "max_lora_rank", error = "LoRA rank {r} exceeds --max-lora-rank {max}",
        fix = "start SGLang with --max-lora-rank {r}" },
      rule.setting { id = "target-modules-string", guard = "target_string",
        when = function(f)
          local tm = f.target_modules
          return type(tm) == "string" and tm ~= "all" and tm ~= "all-linear" and tm
        end,
        error = "SGLang does not recognize target_modules='{what}' (#25913)",
        fix = "write target_modules as the list of module names it matches" },
      rule.tensors { allow = { "lora_A.weight", "lora_B.weight", "lora_embedding_A", "lora_embedding_B" },
        error = "Cannot find target module name for {name} (#16550)" },
      rule.scale "alpha/r",
      rule.ignored { setting = "rank_pattern", fact = "has_rank_pattern",
        effect = "SGLang scales every module by lora_alpha/r with the global r = {r}" },
      rule.ignored { setting = "alpha_pattern", fact = "has_alpha_pattern",
        effect = "every module takes lora_alpha = {alpha}" },
      rule.ignored { id = "init-modifies-base", setting = "init_lora_weights", fact = "init_base",
        effect = "the adapter was trained against base weights its initialisation ({init}) modified; SGLang "
          .. "applies it to the original ones",
        fix = "convert it to a plain LoRA (save_pretrained with path_initial_model_for_weight_conversion) first" },
      rule.ignored { setting = "modules_to_save", fact = "modules_to_save",
        effect = "the saved copies of those modules are not loaded: they keep the base weights",
        fix = "remove modules_to_save and serve a base model that has those weights, or " .. merge },
    }
  end,
})
