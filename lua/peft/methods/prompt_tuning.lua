-- Prompt tuning: learned virtual token embeddings prepended to the input.
local peft = require "peft"

-- How the virtual token embeddings start out.
peft.config.declare_enum("PromptTuningInit", { "TEXT", "SAMPLE_VOCAB", "RANDOM" })

local PromptTuningConfig = peft.declare_config {
  name = "PromptTuningConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.PROMPT_TUNING,
  doc = "Prompt tuning: learned virtual token embeddings prepended to the input.",
}

local PromptEmbedding = peft.declare_model { name = "PromptEmbedding", prefix = "prompt_tuning_", display = "Prompt tuning" }

peft.register_peft_method {
  name = "prompt_tuning",
  config_cls = PromptTuningConfig,
  model_cls = PromptEmbedding,
  prefix = "prompt_tuning_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"

peft.define("PromptTuningConfig", {
  fields = function() return {
    { "prompt_tuning_init", "Union[PromptTuningInit, str]", "RANDOM",
      "Prompt start: 'TEXT' (a text's embeddings), 'SAMPLE_VOCAB' (random vocab tokens) or 'RANDOM'." },
    { "prompt_tuning_init_text", "Optional[str]", nil,
      "Text whose token embeddings start the prompt; needed when prompt_tuning_init is 'TEXT'." },
    { "tokenizer_name_or_path", "Optional[str]", nil,
      "Tokenizer (hub id or path) for the init text; needed when prompt_tuning_init is 'TEXT'." },
    { "tokenizer_kwargs", "Optional[dict]", nil,
      "Extra arguments for loading that tokenizer; only allowed with prompt_tuning_init 'TEXT'." },
  } end,
  post_init = function(self, chk)
    -- Also runs for MultitaskPromptTuningConfig, whose TEXT member has the
    -- same value.
    local init = self.prompt_tuning_init
    if init == "TEXT" then
      local tok = self.tokenizer_name_or_path
      if tok == nil or tok == "" then
        chk.fail_value("tokenizer_name_or_path", "must be set when prompt_tuning_init is 'TEXT'")
      end
      if self.prompt_tuning_init_text == nil then
        chk.fail_value("prompt_tuning_init_text", "must be set when prompt_tuning_init is 'TEXT'")
      end
    end
    local kw = self.tokenizer_kwargs
    if kw ~= nil and next(kw) ~= nil and init ~= "TEXT" then
      chk.fail("tokenizer_kwargs", "only allowed when prompt_tuning_init is 'TEXT', got prompt_tuning_init %s",
        require("peft.types").repr(init))
    end
  end,
})

-- PromptEmbedding: one embedding row per virtual token and transformer stack; saved as the
-- prompt_embeddings it computes (PEFT's prompt_tuning/model.py, peft_model.py
-- get_prompt_embedding_to_save).
local t = peft.tuner

local function tokens(cfg, d)
  return t.int_field(cfg, "num_virtual_tokens", "Prompt tuning") * d.num_transformer_submodules
end

peft.define("PromptEmbedding", {
  encoder = function(cfg, ctx)
    local d = ctx.dims
    -- (torch refuses a negative count when it makes the embedding)
    return { t.plain("embedding.weight", t.check_dims { tokens(cfg, d), d.token_dim }) }
  end,
  saved_prompt = function(cfg, ctx)
    local d = ctx.dims
    return { { key = "prompt_embeddings", shape = { tokens(cfg, d), d.token_dim } } }
  end,
})
