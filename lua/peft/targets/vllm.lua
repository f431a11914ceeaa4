-- vLLM (vllm/lora/peft_helper.py, utils.py, lora_model.py, vllm/config/lora.py), as its newer copies
-- behave; where older ones differ the message says so. peft_type is never read: the config must have r,
-- lora_alpha and target_modules, and the weights only lora_A/lora_B (and lora_embedding_A/B) tensors.
local peft = require "peft"

peft.register_target {
  kind = "engine",
  name = "vllm",
  title = "vLLM",
  doc = "vLLM's LoRA loader (--enable-lora): LoRA only, rank up to --max-lora-rank, no DoRA, no bias.",
  source = "vllm/lora/peft_helper.py, vllm/lora/utils.py, vllm/lora/lora_model.py, vllm/config/lora.py",
  knobs = {
    max_lora_rank = { default = 16, values = { 1, 8, 16, 32, 64, 128, 256, 320, 512 }, flag = "--max-lora-rank",
                      help = "the largest LoRA rank vLLM allocates for" },
    lora_dtype = { default = "auto", values = { "auto", "float16", "bfloat16" }, flag = "--lora-dtype",
                   help = "the dtype of the LoRA weights" },
  },
}

--@definitions: the rules of the target declared above (built on first use)
local peft = require "peft"

peft.define("vllm", {
  rules = function(check)
    local rule = check.rule
    local merge = "merge the adapter into the base model (peft's merge_and_unload) and serve the merged model"
    return {
      rule.peft_type { accept = { "LORA" },
        error = "{peft_type} is not LoRA: vLLM never reads peft_type and loads only lora_A/lora_B weights "
          .. "(its tensors are 'unsupported LoRA weight')", fix = merge },
      rule.setting { id = "required-fields",
        when = function(_, _, A)
          local d = A.dict
          if d.r ~= nil and d.lora_alpha ~= nil and d.target_modules ~= nil then return false end
          local miss = {}
          for _, k in ipairs { "r", "lora_alpha", "target_modules" } do
            if d[k] == nil then miss[#miss + 1] = k end
          end
          return table.concat(miss, ", ")
        end,
        error = "Missing required configuration fields: {what}",
        fix = "write {what} into adapter_config.json (PEFT's save_pretrained always does)" },
      rule.setting { id = "modules_to_save", guard = "modules_to_save",
        when = function(f)
          if not f.modules_to_save then return false end
          for _, m in ipairs(f.modules_to_save) do
            if not check.HEADS[m] then return true end
          end
          return false
        end,
        error = "vLLM only supports modules_to_save being None. (newer vLLM allows classifier/score heads only)",
        fix = "remove modules_to_save and the saved copies, or " .. merge },
      rule.setting { id = "dora", fact = "dora", error = "vLLM does not yet support DoRA.", fix = merge },
      rule.rank { knob = "max_lora_rank", error = "LoRA rank {r} is greater than max_lora_rank {max}.",
        fix = "start vLLM with --max-lora-rank {next}" },
      rule.setting { id = "bias", fact = "any_bias", error = "Adapter bias is not supported.",
        fix = "retrain with bias='none' and lora_bias=false, or " .. merge },
      rule.setting { id = "trainable-tokens", fact = "trainable_token_indices",
        error = "trainable_tokens_delta is unsupported LoRA weight",
        fix = "train the new token embeddings through modules_to_save on a merged model, or " .. merge },
      rule.setting { id = "added-tokens", fact = "added_tokens",
        error = "the adapter adds {added_tokens} tokens (added_tokens.json): vLLM's LoRA cannot extend the "
          .. "vocabulary", fix = "add the tokens to the base model and its tokenizer, then " .. merge },
      rule.setting { id = "init-modifies-base", fact = "init_base",
        error = "init_lora_weights '{what}' trained the adapter against modified base weights: newer vLLM refuses "
          .. "it (older copies serve it on the original weights)",
        fix = "convert it to a plain LoRA (save_pretrained with path_initial_model_for_weight_conversion), or "
          .. merge },
      rule.setting { id = "alora", fact = "alora",
        error = "aLoRA adapters (alora_invocation_tokens) are refused by newer vLLM (older copies apply them to "
          .. "every token)", fix = merge },
      rule.setting { id = "layer_replication", fact = "replicates_layers",
        error = "layer_replication is refused by newer vLLM (older copies ignore it)", fix = merge },
      rule.setting { id = "bdlora", fact = "use_bdlora",
        error = "BD-LoRA (use_bdlora) is refused by newer vLLM (older copies ignore it)", fix = merge },
      rule.setting { id = "qalora", fact = "use_qalora",
        error = "QALoRA (use_qalora) is refused by newer vLLM (older copies ignore it)", fix = merge },
      rule.tensors { allow = { "lora_A.weight", "lora_B.weight", "lora_embedding_A", "lora_embedding_B" },
        error = "{name} is unsupported LoRA weight" },
    }
  end,
})
