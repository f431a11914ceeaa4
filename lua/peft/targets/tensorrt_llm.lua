-- TensorRT-LLM (tensorrt_llm/lora_manager.py): keys must match HF_LORA_PATTERN
-- (layers.N.<module>.lora_(A|B).weight, or lora_magnitude_vector); per-module ranks, rsLoRA and DoRA
-- (not on MoE layers) are honoured; lm_head/embed_tokens copies in modules_to_save are loaded when the
-- engine is built; alpha_pattern is not read. max_lora_rank defaults to 64 (#1903).
local peft = require "peft"

peft.register_target {
  kind = "engine",
  name = "tensorrt-llm",
  title = "TensorRT-LLM",
  doc = "TensorRT-LLM's LoRA manager: layers.N.<module>.lora_A/B keys, DoRA and rsLoRA honoured, rank <= "
    .. "max_lora_rank.",
  source = "tensorrt_llm/lora_manager.py",
  knobs = {
    max_lora_rank = { default = 64, flag = "--max_lora_rank", help = "the largest LoRA rank the engine is built for" },
  },
}

--@definitions: the rules of the target declared above (built on first use)
local peft = require "peft"

peft.define("tensorrt-llm", {
  rules = function(check)
    local rule = check.rule
    local merge = "merge the adapter into the base model and build the engine from the merged model"
    local HEADS = { lm_head = true, embed_tokens = true }
    return {
      rule.peft_type { accept = { "LORA" }, error = "TensorRT-LLM loads only LoRA adapters, not {peft_type}",
        fix = merge },
      rule.rank { knob = "max_lora_rank", error = "LoRA rank {r} is greater than max_lora_rank {max}",
        fix = "build the engine with --max_lora_rank {r}" },
      rule.setting { id = "bias", fact = "any_bias",
        error = "unsupported key: TensorRT-LLM loads no adapter biases",
        fix = "retrain with bias='none', or " .. merge },
      rule.setting { id = "trainable-tokens", fact = "trainable_token_indices",
        error = "unsupported key: trainable_tokens_delta", fix = merge },
      rule.setting { id = "dora-moe", verdict = "note", fact = "dora",
        error = "DoRA is supported except on MoE layers" },
      rule.tensors { allow = { "lora_A.weight", "lora_B.weight", "lora_magnitude_vector" },
        error = "unsupported key: {name}" },
      rule.setting { id = "modules_to_save", guard = "modules_to_save",
        when = function(f)
          local mts = f.modules_to_save
          if not mts then return false end
          for _, m in ipairs(mts) do
            if not HEADS[tostring(m):match("([%w_]+)$") or ""] then return m end
          end
          return false
        end,
        error = "hf_module {what} is not in supported list", fix = "remove modules_to_save, or " .. merge },
      rule.ignored { id = "embedding-lora", setting = "lm_head/embed_tokens LoRA", fact = "targets_heads",
        effect = "TensorRT-LLM applies no LoRA to lm_head or the embeddings", fix = merge },
      rule.ignored { setting = "alpha_pattern", fact = "has_alpha_pattern",
        effect = "every module takes lora_alpha = {alpha}" },
      rule.ignored { id = "init-modifies-base", setting = "init_lora_weights", fact = "init_base",
        effect = "the adapter was trained against base weights its initialisation ({init}) modified; the engine "
          .. "applies it to the original ones",
        fix = "convert it to a plain LoRA (save_pretrained with path_initial_model_for_weight_conversion) first" },
    }
  end,
})
