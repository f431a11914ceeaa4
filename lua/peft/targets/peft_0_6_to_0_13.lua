-- PEFT 0.6.0 - 0.13.2: from_pretrained passes every key of the file to the config class, so a key the class
-- does not know is a TypeError ("__init__() got an unexpected keyword argument"): every file saved by 0.18
-- or later (peft_version) and every file with a setting newer than the release is refused. The class's
-- __post_init__ then checks the loaded values; its checks, with the release each appeared in, are below
-- (recorded by running each release's own code on crafted files: tests/fixtures/check/).
local peft = require "peft"

peft.register_target {
  kind = "peft",
  releases = { "0.6.0", "0.6.1", "0.6.2", "0.7.0", "0.7.1", "0.8.0", "0.8.1", "0.8.2", "0.9.0", "0.10.0",
               "0.11.0", "0.11.1", "0.12.0", "0.13.0", "0.13.1", "0.13.2" },
  loading = "kwargs",
  doc = "PEFT 0.6-0.13: an unknown key is a TypeError; __post_init__ checks the loaded values.",
}

--@definitions: the rules of the target declared above (built on first use)
local peft = require "peft"

peft.define("peft 0.6.0", {
  rules = function(check)
    local truthy = check.truthy
    local pystr = check.pystr
    local function is_str(v) return type(v) == "string" end
    local regex_fix = "give target_modules as a list of names, or drop the layer selection"
    return {
      -- LoRA
      { id = "regex-with-layers_to_transform", since = "0.6.0", classes = { "LoraConfig" },
        when = function(v) return is_str(v.target_modules) and v.layers_to_transform ~= nil end,
        error = "ValueError: `layers_to_transform` cannot be used when `target_modules` is a str.", fix = regex_fix },
      { id = "regex-with-layers_pattern", since = "0.6.0", classes = { "LoraConfig" },
        when = function(v) return is_str(v.target_modules) and v.layers_pattern ~= nil end,
        error = "ValueError: `layers_pattern` cannot be used when `target_modules` is a str.", fix = regex_fix },
      { id = "dora-megatron-loftq", since = "0.9.0", ["until"] = "0.10.0", classes = { "LoraConfig" },
        when = function(v)
          return truthy(v.use_dora) and (truthy(v.megatron_config) or v.init_lora_weights == "loftq")
        end,
        error = "ValueError: DoRA does not support megatron_core or LoftQ. Please set `use_dora=False`.",
        fix = "use PEFT 0.10.0 or later, or turn off use_dora (and retrain)" },
      { id = "dora-megatron", since = "0.10.0", classes = { "LoraConfig" },
        when = function(v) return truthy(v.use_dora) and truthy(v.megatron_config) end,
        error = "ValueError: DoRA does not support megatron_core, please set `use_dora=False`.",
        fix = "remove megatron_config (it only matters with Megatron layers) or turn off use_dora" },
      -- their __post_init__ keeps a loftq_config that this runtime (and PEFT from 0.14) clears
      { id = "loftq_config-kept", since = "0.7.0", classes = { "LoraConfig", "AdaLoraConfig" },
        verdict = "changed", setting = "loftq_config",
        when = function(v) return v.init_lora_weights ~= "loftq" and truthy(v.loftq_config) end,
        error = function(v)
          return "loftq_config = " .. check.repr(v.loftq_config) .. " kept, where this runtime clears it (unused:"
            .. " init_lora_weights is not 'loftq')"
        end,
        fix = "remove loftq_config (it is unused)" },
      -- AdaLoRA
      { id = "adalora-dora", since = "0.11.0", classes = { "AdaLoraConfig" },
        when = function(v) return truthy(v.use_dora) end,
        error = "ValueError: PeftType.ADALORA does not support DoRA.", fix = "remove use_dora: AdaLoRA never used it" },
      { id = "adalora-loftq", since = "0.11.0", classes = { "AdaLoraConfig" },
        when = function(v) return truthy(v.loftq_config) end,
        error = "ValueError: PeftType.ADALORA does not support LOFTQ.", fix = "remove loftq_config" },
      { id = "regex-with-layers_to_transform", since = "0.11.0", classes = { "AdaLoraConfig" },
        when = function(v) return is_str(v.target_modules) and v.layers_to_transform ~= nil end,
        error = "ValueError: `layers_to_transform` cannot be used when `target_modules` is a str.", fix = regex_fix },
      -- IA3
      { id = "ia3-feedforward-subset", since = "0.6.1", classes = { "IA3Config" },
        when = function(v)
          local tm, ff = v.target_modules, v.feedforward_modules
          if type(tm) ~= "table" or type(ff) ~= "table" then return false end
          local set = {}
          for _, x in ipairs(tm) do set[x] = true end
          for _, x in ipairs(ff) do
            if not set[x] then return true end
          end
          return false
        end,
        error = "ValueError: `feedforward_modules` should be a subset of `target_modules`",
        fix = "list every feedforward module in target_modules as well" },
      -- prompt tuning
      { id = "prompt-text-tokenizer", since = "0.10.0", classes = { "PromptTuningConfig" },
        when = function(v) return v.prompt_tuning_init == "TEXT" and not truthy(v.tokenizer_name_or_path) end,
        error = function(v)
          return "ValueError: When prompt_tuning_init='TEXT', tokenizer_name_or_path can't be "
            .. pystr(v.tokenizer_name_or_path) .. "."
        end,
        fix = "set tokenizer_name_or_path (the tokenizer of the base model), or prompt_tuning_init to RANDOM" },
      { id = "prompt-text-init", since = "0.10.0", classes = { "PromptTuningConfig" },
        when = function(v) return v.prompt_tuning_init == "TEXT" and v.prompt_tuning_init_text == nil end,
        error = "ValueError: When prompt_tuning_init='TEXT', prompt_tuning_init_text can't be None.",
        fix = "set prompt_tuning_init_text, or prompt_tuning_init to RANDOM" },
      { id = "prompt-tokenizer-kwargs", since = "0.7.0", classes = { "PromptTuningConfig" },
        when = function(v) return truthy(v.tokenizer_kwargs) and v.prompt_tuning_init ~= "TEXT" end,
        error = "ValueError: tokenizer_kwargs only valid when using prompt_tuning_init='TEXT'.",
        fix = "remove tokenizer_kwargs (only used with prompt_tuning_init TEXT)" },
      -- BOFT
      { id = "boft-block-none", since = "0.11.0", classes = { "BOFTConfig" },
        when = function(v) return (v.boft_block_size or 0) == 0 and (v.boft_block_num or 0) == 0 end,
        error = "ValueError: You must specify either boft_block_size or boft_block_num.",
        fix = "set boft_block_size or boft_block_num (one of them)" },
      { id = "boft-block-both", since = "0.11.0", classes = { "BOFTConfig" },
        when = function(v) return (v.boft_block_size or 0) ~= 0 and (v.boft_block_num or 0) ~= 0 end,
        error = function(v)
          return string.format("ValueError: You can only specify either boft_block_size (%s) or boft_block_num (%s), "
            .. "but not both simultaneously, because boft_block_size x boft_block_num != in_features.",
            pystr(v.boft_block_size), pystr(v.boft_block_num))
        end,
        fix = "set only one of boft_block_size and boft_block_num" },
      -- HRA and FourierFT
      { id = "regex-with-layers_to_transform", since = "0.12.0", classes = { "HRAConfig", "FourierFTConfig" },
        when = function(v) return is_str(v.target_modules) and v.layers_to_transform ~= nil end,
        error = "ValueError: `layers_to_transform` cannot be used when `target_modules` is a str.", fix = regex_fix },
      { id = "regex-with-layers_pattern", since = "0.12.0", classes = { "HRAConfig", "FourierFTConfig" },
        when = function(v) return is_str(v.target_modules) and v.layers_pattern ~= nil end,
        error = "ValueError: `layers_pattern` cannot be used when `target_modules` is a str.", fix = regex_fix },
    }
  end,
})
