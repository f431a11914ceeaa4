-- PEFT 0.14.0 - 0.20.0: from_pretrained drops the keys the config class does not know, with a warning, so
-- a setting newer than the release is lost without an error (a DoRA adapter runs as plain LoRA). Some
-- classes look at the raw keys first (check_kwargs: OFT refuses files saved before 0.14), then
-- __post_init__ checks the values. The checks, with the release each appeared in, were recorded by running
-- each release's own code on crafted files (tests/fixtures/check/).
local peft = require "peft"

peft.register_target {
  kind = "peft",
  releases = { "0.14.0", "0.15.0", "0.15.1", "0.15.2", "0.16.0", "0.17.0", "0.17.1", "0.18.0", "0.18.1", "0.19.0",
               "0.19.1", "0.20.0" },
  loading = "drop",
  doc = "PEFT 0.14-0.20: unknown keys dropped with a warning; __post_init__ checks the loaded values.",
}

--@definitions: the rules of the target declared above (built on first use)
local peft = require "peft"

peft.define("peft 0.14.0", {
  rules = function(check)
    local truthy = check.truthy
    local pystr = check.pystr
    local function is_str(v) return type(v) == "string" end
    local regex_fix = "give target_modules as a list of names, or drop the layer selection"
    local pattern_fix = "set layers_to_transform (the layer indices to adapt) or remove layers_pattern"
    local TASKS = { SEQ_CLS = true, SEQ_2_SEQ_LM = true, CAUSAL_LM = true, TOKEN_CLS = true, QUESTION_ANS = true,
                    FEATURE_EXTRACTION = true }
    local LORA = { "LoraConfig", "AdaLoraConfig" }
    local PATTERN = { "LoraConfig", "AdaLoraConfig", "BOFTConfig", "LoHaConfig", "LoKrConfig", "VeraConfig",
                      "VBLoRAConfig", "HRAConfig", "FourierFTConfig", "OFTConfig" }
    local function pattern_alone(v) return truthy(v.layers_pattern) and v.layers_to_transform == nil end
    local function regex_ltt(v) return is_str(v.target_modules) and v.layers_to_transform ~= nil end
    local function regex_pattern(v) return is_str(v.target_modules) and v.layers_pattern ~= nil end
    -- the config classes of the methods that came with 0.16.0 or later
    local newer_classes = {}
    do
      local h = require "peft.history"
      local since = require("peft.target_registry").release_index()["0.16.0"]
      for _, t in pairs(h.types) do
        local first = type(t[1]) == "number" and t[1] or t[1][1][1]
        if first >= since then newer_classes[#newer_classes + 1] = t[2] end
      end
      table.sort(newer_classes)
    end
    local function lengths(v)
      local ids = v.cpt_token_ids
      if ids == nil then ids = { 0 } end
      if type(ids) ~= "table" then return false end
      local n = #ids
      local mask, tmask = v.cpt_mask, v.cpt_tokens_type_mask
      local m = type(mask) == "table" and #mask or n
      local t = type(tmask) == "table" and #tmask or n
      return not (n == m and m == t)
    end
    return {
      -- OFT's check_kwargs looks at the raw keys before anything else
      { id = "oft-saved-before-0.14", since = "0.14.0", classes = { "OFTConfig" },
        when = function(_, A) return A.dict.oft_block_size == nil end,
        error = "ValueError: OFT has been updated since PEFT 0.14.0. Your trained adapter weights are incompatible "
          .. "with the latest version of OFT. Please retrain your adapter weights with newer PEFT versions. "
          .. "Alternatively, downgrade PEFT to version 0.13.0 to use the old adapter weights.",
        fix = "load it with PEFT 0.13.2 or earlier (OFT's weights changed meaning in 0.14.0), or retrain it" },
      { id = "oft-cayley-neumann-0.18", since = "0.18.0", classes = { "OFTConfig" }, verdict = "note",
        when = function(v, A)
          local pv = A.dict.peft_version
          return truthy(v.use_cayley_neumann) and (check.version_cmp(pv, "0.18.0") or -1) < 0
        end,
        error = "UserWarning: The cayley-neumann parameterization has been slightly changed to be more numerically "
          .. "stable in PEFT 0.18.0 (the adapter was saved before 0.18.0)",
        fix = "load it with PEFT 0.17.1 or earlier, or retrain it" },
      -- PeftConfig.__post_init__ (every class)
      { id = "invalid-task-type", since = "0.14.0",
        when = function(v) return v.task_type ~= nil and not TASKS[v.task_type] end,
        error = function(v)
          return "ValueError: Invalid task type: '" .. pystr(v.task_type) .. "'. Must be one of the following task "
            .. "types: SEQ_CLS, SEQ_2_SEQ_LM, CAUSAL_LM, TOKEN_CLS, QUESTION_ANS, FEATURE_EXTRACTION."
        end,
        fix = "write task_type as a TaskType member (CAUSAL_LM, SEQ_CLS, ...) or null" },
      -- LoRA (AdaLoRA runs LoRA's checks first)
      { id = "velora-config-type", since = "0.20.0", classes = LORA,
        when = function(v) local x = v.velora_config return x ~= nil and type(x) ~= "table" end,
        error = "TypeError: `velora_config` must be a `VeloraConfig`, a dict, or None.",
        fix = "write velora_config as an object, or null" },
      { id = "target-parameters-str", since = "0.17.0", classes = LORA,
        when = function(v) return is_str(v.target_parameters) end,
        error = "TypeError: `target_parameters` must be a list of strings or None.",
        fix = "write target_parameters as a list of names" },
      { id = "regex-with-layers_to_transform", since = "0.14.0", classes = LORA, when = regex_ltt,
        error = "ValueError: `layers_to_transform` cannot be used when `target_modules` is a str.", fix = regex_fix },
      { id = "regex-with-layers_pattern", since = "0.14.0", classes = LORA, when = regex_pattern,
        error = "ValueError: `layers_pattern` cannot be used when `target_modules` is a str.", fix = regex_fix },
      { id = "layers_pattern-alone", since = "0.14.0", classes = LORA, when = pattern_alone,
        error = "ValueError: When `layers_pattern` is specified, `layers_to_transform` must also be specified. ",
        fix = pattern_fix },
      { id = "dora-megatron", since = "0.14.0", classes = LORA,
        when = function(v) return truthy(v.use_dora) and truthy(v.megatron_config) end,
        error = "ValueError: DoRA does not support megatron_core, please set `use_dora=False`.",
        fix = "remove megatron_config (it only matters with Megatron layers) or turn off use_dora" },
      { id = "loftq-without-config", since = "0.14.0", classes = LORA,
        when = function(v) return v.init_lora_weights == "loftq" and not truthy(v.loftq_config) end,
        error = "ValueError: `loftq_config` must be specified when `init_lora_weights` is 'loftq'.",
        fix = "set init_lora_weights to true (LoftQ only matters when the adapter is created)" },
      { id = "lora-bias-init", since = "0.14.0", classes = LORA,
        when = function(v)
          local init = v.init_lora_weights
          if init == nil then init = true end
          return truthy(v.lora_bias) and init ~= true and init ~= false
        end,
        error = function(v)
          return "ValueError: The argument lora_bias=True is only supported with init_lora_weights=True or False, "
            .. "got init_lora_weights=" .. pystr(v.init_lora_weights) .. " instead."
        end,
        fix = "set init_lora_weights to true (it only matters when the adapter is created)" },
      { id = "lora-bias-dora", since = "0.14.0", classes = LORA,
        when = function(v) return truthy(v.lora_bias) and truthy(v.use_dora) end,
        error = "ValueError: The argument lora_bias=True is not supported for DoRA, please pass use_dora=False",
        fix = "no PEFT release loads lora_bias with DoRA" },
      -- AdaLoRA
      { id = "adalora-dora", since = "0.11.0", classes = { "AdaLoraConfig" },
        when = function(v) return truthy(v.use_dora) end,
        error = "ValueError: PeftType.ADALORA does not support DoRA.", fix = "remove use_dora: AdaLoRA never used it" },
      { id = "regex-with-layers_to_transform", since = "0.11.0", classes = { "AdaLoraConfig" }, when = regex_ltt,
        error = "ValueError: `layers_to_transform` cannot be used when `target_modules` is a str.", fix = regex_fix },
      { id = "adalora-total-step", since = "0.15.0", classes = { "AdaLoraConfig" },
        when = function(v) return v.total_step == nil or (type(v.total_step) == "number" and v.total_step <= 0) end,
        error = "ValueError: AdaLoRA does not work when `total_step` is None, supply a value > 0.",
        fix = "set total_step to the number of training steps (any value > 0 loads it: it only schedules training)" },
      { id = "adalora-orth-reg-weight", since = "0.20.0", classes = { "AdaLoraConfig" },
        when = function(v) return type(v.orth_reg_weight) == "number" and v.orth_reg_weight < 0 end,
        error = function(v)
          return "ValueError: `orth_reg_weight` should be greater than or equal to 0, but the value passed is "
            .. pystr(v.orth_reg_weight)
        end,
        fix = "set orth_reg_weight to 0 or more (it only matters when training)" },
      { id = "adalora-schedule", since = "0.15.0", classes = { "AdaLoraConfig" },
        when = function(v)
          local ti, ts, tf = v.tinit, v.total_step, v.tfinal
          return type(ti) == "number" and type(ts) == "number" and type(tf) == "number" and ti >= ts - tf
        end,
        error = "ValueError: The supplied schedule values don't allow for a budgeting phase. Decrease "
          .. "`tfinal`/`tinit` or increase `total_step`.",
        fix = "raise total_step above tinit + tfinal (it only schedules training)" },
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
      -- prompt tuning (multitask prompt tuning runs the same checks from 0.14)
      { id = "prompt-text-tokenizer", since = "0.14.0",
        classes = { "PromptTuningConfig", "MultitaskPromptTuningConfig" },
        when = function(v) return v.prompt_tuning_init == "TEXT" and not truthy(v.tokenizer_name_or_path) end,
        error = function(v)
          return "ValueError: When prompt_tuning_init='TEXT', tokenizer_name_or_path can't be "
            .. pystr(v.tokenizer_name_or_path) .. "."
        end,
        fix = "set tokenizer_name_or_path (the tokenizer of the base model), or prompt_tuning_init to RANDOM" },
      { id = "prompt-text-init", since = "0.14.0", classes = { "PromptTuningConfig", "MultitaskPromptTuningConfig" },
        when = function(v) return v.prompt_tuning_init == "TEXT" and v.prompt_tuning_init_text == nil end,
        error = "ValueError: When prompt_tuning_init='TEXT', prompt_tuning_init_text can't be None.",
        fix = "set prompt_tuning_init_text, or prompt_tuning_init to RANDOM" },
      { id = "prompt-tokenizer-kwargs", since = "0.14.0",
        classes = { "PromptTuningConfig", "MultitaskPromptTuningConfig" },
        when = function(v) return truthy(v.tokenizer_kwargs) and v.prompt_tuning_init ~= "TEXT" end,
        error = "ValueError: tokenizer_kwargs only valid when using prompt_tuning_init='TEXT'.",
        fix = "remove tokenizer_kwargs (only used with prompt_tuning_init TEXT)" },
      -- layer selection in the other tuners
      { id = "regex-with-layers_to_transform", since = "0.14.0", classes = { "HRAConfig", "FourierFTConfig" },
        when = regex_ltt,
        error = "ValueError: `layers_to_transform` cannot be used when `target_modules` is a str.", fix = regex_fix },
      { id = "regex-with-layers_pattern", since = "0.14.0", classes = { "HRAConfig", "FourierFTConfig" },
        when = regex_pattern,
        error = "ValueError: `layers_pattern` cannot be used when `target_modules` is a str.", fix = regex_fix },
      { id = "layers_pattern-alone", since = "0.14.0", classes = PATTERN, when = pattern_alone,
        error = "ValueError: When `layers_pattern` is specified, `layers_to_transform` must also be specified. ",
        fix = pattern_fix },
      -- OFT and BOFT: exactly one of the two block settings
      { id = "oft-block-none", since = "0.14.0", classes = { "OFTConfig" },
        when = function(v) return (v.r or 0) == 0 and (v.oft_block_size or 0) == 0 end,
        error = function(v)
          return string.format("ValueError: Either `r` or `oft_block_size` must be non-zero. Currently, r = %s and "
            .. "oft_block_size = %s.", pystr(v.r), pystr(v.oft_block_size))
        end,
        fix = "set r or oft_block_size (one of them)" },
      { id = "oft-block-both", since = "0.14.0", classes = { "OFTConfig" },
        when = function(v) return (v.r or 0) ~= 0 and (v.oft_block_size or 0) ~= 0 end,
        error = function(v)
          return string.format("ValueError: You can only specify either r (%s) or oft_block_size (%s), but not both "
            .. "simultaneously, because r x oft_block_size == in_features.", pystr(v.r), pystr(v.oft_block_size))
        end,
        fix = "write both r and oft_block_size, one of them 0 (the defaults changed in 0.16.0)" },
      { id = "boft-block-none", since = "0.14.0", classes = { "BOFTConfig" },
        when = function(v) return (v.boft_block_size or 0) == 0 and (v.boft_block_num or 0) == 0 end,
        error = function(v)
          return string.format("ValueError: Either `boft_block_size` or `boft_block_num` must be non-zero. Currently, "
            .. "boft_block_size = %s and boft_block_num = %s.", pystr(v.boft_block_size), pystr(v.boft_block_num))
        end,
        fix = "set boft_block_size or boft_block_num (one of them)" },
      { id = "boft-block-both", since = "0.14.0", classes = { "BOFTConfig" },
        when = function(v) return (v.boft_block_size or 0) ~= 0 and (v.boft_block_num or 0) ~= 0 end,
        error = function(v)
          return string.format("ValueError: You can only specify either boft_block_size (%s) or boft_block_num (%s), "
            .. "but not both simultaneously, because boft_block_size x boft_block_num == in_features.",
            pystr(v.boft_block_size), pystr(v.boft_block_num))
        end,
        fix = "set only one of boft_block_size and boft_block_num" },
      -- CPT
      { id = "cpt-task-type", since = "0.18.0", classes = { "CPTConfig" },
        when = function(v) return v.task_type ~= "CAUSAL_LM" end,
        error = "ValueError: CPTConfig only supports task_type = CAUSAL_LM.", fix = "set task_type to CAUSAL_LM" },
      { id = "cpt-lengths", since = "0.14.0", classes = { "CPTConfig" }, when = lengths,
        error = "ValueError: cpt_token_ids, cpt_mask and cpt_tokens_type_mask must have the same length.",
        fix = "give cpt_token_ids, cpt_mask and cpt_tokens_type_mask the same length" },
      -- RoAd and WaveFT (0.18.0)
      { id = "road-variant", since = "0.18.0", classes = { "RoadConfig" },
        when = function(v) local x = v.variant return x ~= "road_1" and x ~= "road_2" and x ~= "road_4" end,
        error = function(v)
          return "ValueError: Invalid variant " .. pystr(v.variant) .. " specified. Please choose from road_1, "
            .. "road_2 or road_4"
        end,
        fix = "set variant to road_1, road_2 or road_4" },
      { id = "waveft-wavelet-family", since = "0.18.0", classes = { "WaveFTConfig" },
        when = function(v)
          local fam = v.wavelet_family
          if type(fam) ~= "string" then return true end
          local base, n = fam:match("^(%a+)(%d+)$")
          n = tonumber(n)
          return not ((base == "db" and n and n >= 1 and n <= 38) or (base == "sym" and n and n >= 2 and n <= 20)
            or (base == "coif" and n and n >= 1 and n <= 17))
        end,
        error = function(v)
          local names = {}
          for n = 1, 38 do names[#names + 1] = "'db" .. n .. "'" end
          for n = 2, 20 do names[#names + 1] = "'sym" .. n .. "'" end
          for n = 1, 17 do names[#names + 1] = "'coif" .. n .. "'" end
          return "ValueError: Wavelet family " .. pystr(v.wavelet_family) .. " not supported. Supported wavelet "
            .. "families are: [" .. table.concat(names, ", ") .. "]"
        end,
        fix = "set wavelet_family to one PEFT supports (db1-db38, sym2-sym20, coif1-coif17)" },
      -- methods that came with 0.16 or later: their checks are this runtime's (PEFT's own since the method
      -- appeared)
      { id = "method-check", since = "0.16.0", per_release = true, classes = newer_classes,
        when = function(_, A, i)
          local err = A.load_error
          if not err or type(err) ~= "table" or (err.kind ~= "ValueError" and err.kind ~= "TypeError") then
            return false
          end
          local cls = A.cls
          local t = cls and require("peft.history").types[cls.peft_type]
          local first = t and (type(t[1]) == "number" and t[1] or t[1][1][1])
          if not first or first < require("peft.target_registry").release_index()["0.16.0"] or i < first then
            return false
          end
          if err.field == "peft_type" or err.field == "task_type" then return false end
          -- a value of the wrong type or outside a Literal: PEFT's dataclass takes it (only __post_init__'s
          -- own checks refuse)
          if check.field_level_error(err) then return false end
          return err.kind .. ": " .. err.message:gsub("^.-adapter_config%.json: ", "")
        end,
        fix = "correct the value this runtime names (PEFT's check is the same)" },
    }
  end,
})
