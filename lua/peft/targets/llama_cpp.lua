-- llama.cpp: convert_lora_to_gguf.py turns a PEFT LoRA adapter into a GGUF file, src/llama-adapter.cpp
-- applies it. The converter reads lora_alpha (required), base_model_name_or_path and
-- alora_invocation_tokens; the scale is lora_alpha/rank with the rank of each tensor (so rank_pattern is
-- honoured; use_rslora and alpha_pattern are not read).
local peft = require "peft"

peft.register_target {
  kind = "engine",
  name = "llama.cpp",
  title = "llama.cpp",
  doc = "llama.cpp (convert_lora_to_gguf.py, then --lora): lora_A/lora_B tensors only, scale lora_alpha/rank.",
  source = "convert_lora_to_gguf.py, src/llama-adapter.cpp",
  knobs = {
    outtype = { default = "f16", values = { "f32", "f16", "bf16", "q8_0" }, flag = "--outtype",
                help = "the type of the converted tensors" },
  },
}

--@definitions: the rules of the target declared above (built on first use)
local peft = require "peft"

peft.define("llama.cpp", {
  rules = function(check)
    local rule = check.rule
    local merge = "merge the adapter into the base model and convert the merged model"
    local unexpected = "Unexpected name '{what}': Not a lora_A or lora_B tensor"
    return {
      rule.setting { id = "peft-type", fact = "not_lora_type",
        error = "{what} is not LoRA: the converter takes only lora_A/lora_B tensors ('" .. unexpected .. "')",
        fix = merge },
      rule.setting { id = "lora_alpha-required",
        when = function(_, _, A) return A.dict.lora_alpha == nil or A.dict.lora_alpha == peft.null end,
        error = "KeyError: 'lora_alpha' (convert_lora_to_gguf.py reads lora_alpha from adapter_config.json)",
        fix = "write lora_alpha into adapter_config.json" },
      rule.setting { id = "dora", guard = "dora",
        when = function(f) return f.dora and (f.magnitudes[1] or "...lora_magnitude_vector") end,
        error = unexpected, fix = merge },
      rule.setting { id = "modules_to_save", guard = "saves_modules",
        when = function(f) return (f.modules_to_save or #f.full_tensors > 0)
          and (f.full_tensors[1] or (f.modules_to_save[1] .. ".modules_to_save.weight")) end,
        error = unexpected, fix = "remove modules_to_save and its saved copies, or " .. merge },
      rule.setting { id = "bias", guard = "any_bias",
        when = function(f) return (f.bias or f.lora_bias or #f.bias_tensors > 0)
          and (f.bias_tensors[1] or "...lora_B.bias") end,
        error = unexpected, fix = "retrain with bias='none' and lora_bias=false, or " .. merge },
      rule.setting { id = "trainable-tokens", guard = "trainable_token_indices",
        when = function(f) return f.trainable_token_indices ~= nil and "...token_adapter.trainable_tokens_delta" end,
        error = unexpected, fix = merge },
      rule.setting { id = "added-tokens", fact = "added_tokens",
        error = "the adapter adds {added_tokens} tokens (added_tokens.json): a LoRA GGUF cannot add tokens to "
          .. "the base vocabulary", fix = "add the tokens to the base model, then " .. merge },
      rule.tensors { allow = { "lora_A.weight", "lora_B.weight", "lora_embedding_A", "lora_embedding_B" },
        error = "Unexpected name '{name}': Not a lora_A or lora_B tensor" },
      rule.scale "alpha/r",
      rule.ignored { setting = "alpha_pattern", fact = "has_alpha_pattern",
        effect = "every tensor is scaled with lora_alpha = {alpha}" },
      rule.ignored { id = "init-modifies-base", setting = "init_lora_weights", fact = "init_base",
        effect = "the adapter was trained against base weights its initialisation ({init}) modified; llama.cpp "
          .. "applies it to the original ones",
        fix = "convert it to a plain LoRA (save_pretrained with path_initial_model_for_weight_conversion) first" },
      rule.setting { id = "layer_replication", verdict = "changed", fact = "replicates_layers",
        error = "layer_replication ignored: the converter applies the adapter to the base model's own layers",
        fix = merge },
    }
  end,
})
