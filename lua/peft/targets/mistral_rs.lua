-- mistral.rs (mistralrs-quant/src/lora): the strictest loader. LoRA only, one adapter_model.safetensors,
-- rank up to --lora-max-rank; rsLoRA, rank/alpha patterns, exclude_modules and list/regex/all-linear
-- targets are honoured; every variant PEFT added on top of plain LoRA is refused.
local peft = require "peft"

peft.register_target {
  kind = "engine",
  name = "mistral.rs",
  title = "mistral.rs",
  doc = "mistral.rs LoRA adapters: plain LoRA in one safetensors file; every LoRA variant refused.",
  source = "mistralrs-quant/src/lora",
  knobs = {
    lora_max_rank = { default = 256, flag = "--lora-max-rank", help = "the largest LoRA rank accepted" },
  },
}

--@definitions: the rules of the target declared above (built on first use)
local peft = require "peft"

peft.define("mistral.rs", {
  rules = function(check)
    local rule = check.rule
    local merge = "merge the adapter into the base model and serve the merged model"
    -- (test: a field of the facts, or a function of them)
    local function refuse(id, test, what, guard)
      local fact = type(test) == "string" and test or nil
      return rule.setting { id = id, fact = fact, when = not fact and test or nil, guard = guard,
        error = "mistral.rs does not support " .. what, fix = merge }
    end
    local EXPERTS = { ["gate_up_proj"] = true, ["down_proj"] = true }
    return {
      rule.peft_type { accept = { "LORA" }, error = "mistral.rs loads only LoRA adapters, not {peft_type}",
        fix = merge },
      rule.weights_format { allow = { safetensors = true },
        error = "mistral.rs loads exactly one adapter_model.safetensors (no .bin, no shards)" },
      refuse("dora", "dora", "DoRA adapters"),
      refuse("bias", "any_bias", "adapter biases"),
      refuse("modules_to_save", "saves_modules", "modules_to_save"),
      refuse("alora", "alora", "aLoRA (alora_invocation_tokens)"),
      refuse("qalora", "use_qalora", "QALoRA (use_qalora)"),
      refuse("layer_replication", "replicates_layers", "layer_replication"),
      refuse("target_parameters", function(f)
        local tp = f.target_parameters
        if not tp then return false end
        for _, p in ipairs(tp) do
          if not EXPERTS[tostring(p):match("([%w_]+)$") or ""] then return true end
        end
        return false
      end, "target_parameters other than the experts' gate_up_proj/down_proj", "target_parameters"),
      refuse("bdlora", "use_bdlora", "BD-LoRA (use_bdlora)"),
      refuse("arrow", "arrow", "Arrow routing (arrow_config)"),
      refuse("monteclora", "monteclora", "MonteCLoRA (monteclora_config)"),
      refuse("ensure_weight_tying", "ensure_weight_tying", "ensure_weight_tying"),
      refuse("trainable-tokens", "trainable_token_indices", "trainable_token_indices"),
      refuse("added-tokens", "added_tokens", "adapters that add tokens (added_tokens.json)"),
      refuse("megatron", "megatron", "megatron_config"),
      refuse("init-modifies-base", "init_base",
        "adapters initialised with PiSSA, OLoRA, CorDA, LoftQ or LoRA-GA (init_lora_weights)"),
      refuse("lm_head", "targets_heads", "LoRA on lm_head or the embeddings"),
      rule.rank { knob = "lora_max_rank", error = "LoRA rank {r} is above the maximum {max}",
        fix = "start mistral.rs with --lora-max-rank {r}" },
      rule.setting { id = "unused-tensors", guard = "weights_kind",
        when = function(_, _, A)
          local w = A.weights
          if not w or w.kind ~= "safetensors" then return false end
          for _, n in ipairs(w.names) do
            if not (n:match("%.lora_A%.weight$") or n:match("%.lora_B%.weight$")) then return n end
          end
          return false
        end,
        error = "mistral.rs refuses tensor '{what}': not a lora_A/lora_B weight of a module target_modules declares",
        fix = "save the adapter without it, or " .. merge },
    }
  end,
})
