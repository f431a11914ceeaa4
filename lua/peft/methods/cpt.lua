-- CPT: context-aware prompt tuning for few-shot causal language modelling.
local peft = require "peft"

local CPTConfig = peft.declare_config {
  name = "CPTConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.CPT,
  doc = "CPT: context-aware prompt tuning for few-shot causal language modelling.",
}

local CPTEmbedding = peft.declare_model { name = "CPTEmbedding", prefix = "cpt_", display = "CPT" }

peft.register_peft_method {
  name = "cpt",
  config_cls = CPTConfig,
  model_cls = CPTEmbedding,
  prefix = "cpt_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"

local array_mt = peft.core.json_array_mt

local function ones(n)
  local out = setmetatable({}, array_mt)
  for i = 1, n do out[i] = 1 end
  return out
end

peft.define("CPTConfig", {
  fields = function() return {
    { "cpt_token_ids", "Optional[list[int]]", nil,
      "Token ids of the context prompt; [0] when null. Their count sets num_virtual_tokens." },
    { "cpt_mask", "Optional[list[int]]", nil,
      "Per-token mask over cpt_token_ids; all ones when null." },
    { "cpt_tokens_type_mask", "Optional[list[int]]", nil,
      "Per-token type id (template, input or label part) over cpt_token_ids; all ones when null." },
    { "opt_weighted_loss_type", "Optional[Literal['none', 'decay']]", "none",
      "Loss weighting over the context examples: 'none' or 'decay' (older examples count less)." },
    { "opt_loss_decay_factor", "Optional[float]", 1.0,
      "Factor by which the loss weight shrinks per example when the weighting is 'decay'." },
    { "opt_projection_epsilon", "Optional[float]", 0.1,
      "Largest allowed change of the input-token embeddings (projection radius)." },
    { "opt_projection_format_epsilon", "Optional[float]", 0.1,
      "Largest allowed change of the template-token embeddings (projection radius)." },
    { "tokenizer_name_or_path", "Optional[str]", nil,
      "Tokenizer (hub id or path) used to build the context prompt." },
  } end,
  post_init = function(self, chk)
    -- CPT fixes the model-shape fields: a single stack, the rest unused.
    chk.set("num_layers", nil)
    chk.set("token_dim", nil)
    chk.set("num_attention_heads", nil)
    chk.set("num_transformer_submodules", 1)
    if self.task_type ~= "CAUSAL_LM" then
      chk.fail_value("task_type", "must be 'CAUSAL_LM' (the only task CPT supports)")
    end
    local ids = self.cpt_token_ids
    if ids == nil then
      ids = setmetatable({ 0 }, array_mt)
      chk.set("cpt_token_ids", ids)
    end
    -- the prompt is exactly the context tokens
    chk.set("num_virtual_tokens", #ids)
    if self.cpt_mask == nil then chk.set("cpt_mask", ones(#ids)) end
    if self.cpt_tokens_type_mask == nil then chk.set("cpt_tokens_type_mask", ones(#ids)) end
    for _, name in ipairs { "cpt_mask", "cpt_tokens_type_mask" } do
      local n = #self[name]
      if n ~= #ids then
        chk.fail(name, "must have as many items as cpt_token_ids (%d), got %d", #ids, n)
      end
    end
  end,
})

-- CPTEmbedding: a frozen copy of the context tokens' word embeddings (when training; a
-- fresh embedding of token_dim in inference mode) and a trainable delta of the same rows
-- (PEFT's cpt/model.py CPTEmbedding.__init__); saved as their sum, [tokens, token_dim].
local t = peft.tuner

peft.define("CPTEmbedding", {
  encoder = function(cfg, ctx)
    local d = ctx.dims
    local n = t.int_field(cfg, "num_virtual_tokens", "CPT")
    local width = d.token_dim
    if cfg.inference_mode ~= true then
      -- the embedding starts as the word embeddings of cpt_token_ids
      local we = ctx.word_embeddings
      if not we then
        t.refuse("AttributeError", "CPT: the base model has no word embeddings (no embeddings.word_embeddings and "
          .. "no parameter with vocab_size rows), and CPT starts its prompt from them ('NoneType' object has no "
          .. "attribute 'weight')")
      end
      local rows = we.shape[1]
      for _, id in ipairs(cfg.cpt_token_ids) do
        if math.type(id) ~= "integer" or id < 0 or id >= rows then
          t.refuse("IndexError", "CPT: cpt_token_ids holds %s, out of range for the word embeddings %s (%d rows): "
            .. "index out of range in self", require("peft.types").repr(id), we.name, rows)
        end
      end
      width = we.shape[2]
    end
    return { t.plain("embedding.weight", t.check_shape({ n, width }, "CPT"), { trainable = false }),
             t.plain("delta_embedding.weight", t.check_shape({ n, d.token_dim }, "CPT")) }
  end,
  -- PEFT's get_prompt_embedding_to_save (or, in inference mode, the embedding's weight: the same shape)
  saved_prompt = function(cfg, ctx)
    return { { key = "prompt_embeddings", shape = { cfg.num_virtual_tokens, ctx.dims.token_dim } } }
  end,
})
