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
      rule.setting { id = "bias", when = function(f) return f.bias ~= nil or f.lora_bias or #f.bias_tensors > 0 end,
        error = "unsupported key: TensorRT-LLM loads no adapter biases",
        fix = "retrain with bias='none', or " .. merge },
      rule.setting { id = "trainable-tokens", when = function(f) return f.trainable_token_indices ~= nil end,
        error = "unsupported key: trainable_tokens_delta", fix = merge },
      rule.setting { id = "dora-moe", verdict = "note", when = function(f) return f.dora end,
        error = "DoRA is supported except on MoE layers" },
      rule.tensors { allow = { "lora_A.weight", "lora_B.weight", "lora_magnitude_vector" },
        error = "unsupported key: {name}" },
      rule.setting { id = "modules_to_save",
        when = function(f)
          local mts = f.modules_to_save
          if not mts then return false end
          for _, m in ipairs(mts) do
            if not HEADS[tostring(m):match("([%w_]+)$") or ""] then return m end
          end
          return false
        end,
        error = "hf_module {what} is not in supported list", fix = "remove modules_to_save, or " .. merge },
      rule.ignored { id = "embedding-lora", setting = "lm_head/embed_tokens LoRA",
        when = function(f) return #f.targets_head > 0 end,
        effect = "TensorRT-LLM applies no LoRA to lm_head or the embeddings", fix = merge },
      rule.ignored { setting = "alpha_pattern", when = function(f) return next(f.alpha_pattern) ~= nil end,
        effect = "every module takes lora_alpha = {alpha}" },
      rule.ignored { id = "init-modifies-base", setting = "init_lora_weights",
        when = function(f) return check.init_changes_base(f) end,
        effect = "the adapter was trained against base weights its initialisation ({init}) modified; the engine "
          .. "applies it to the original ones",
        fix = "convert it to a plain LoRA (save_pretrained with path_initial_model_for_weight_conversion) first" },
    }
  end,
})
