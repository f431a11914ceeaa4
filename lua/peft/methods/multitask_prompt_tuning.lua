-- Multitask prompt tuning: a shared prompt decomposed per task.
local peft = require "peft"

-- How the multitask prompt starts out (the source-task members load a
-- prompt trained before, from prompt_tuning_init_state_dict_path).
peft.config.declare_enum("MultitaskPromptTuningInit",
  { "TEXT", "RANDOM", "AVERAGE_SOURCE_TASKS", "EXACT_SOURCE_TASK", "ONLY_SOURCE_SHARED" })

local MultitaskPromptTuningConfig = peft.declare_config {
  name = "MultitaskPromptTuningConfig",
  parent = peft.PromptTuningConfig,
  peft_type = peft.PeftType.MULTITASK_PROMPT_TUNING,
  doc = "Multitask prompt tuning: a shared prompt decomposed per task.",
}

local MultitaskPromptEmbedding = peft.declare_model { name = "MultitaskPromptEmbedding", prefix = "multitask_prompt_tuning_", display = WHO }

peft.register_peft_method {
  name = "multitask_prompt_tuning",
  config_cls = MultitaskPromptTuningConfig,
  model_cls = MultitaskPromptEmbedding,
  prefix = "multitask_prompt_tuning_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"

-- The rules of PromptTuningConfig (TEXT needs a tokenizer and a text;
-- tokenizer_kwargs only with TEXT) and the derived num_transformer_submodules
-- come with the inherited post_init. PEFT adds no rule of its own here; the
-- need for prompt_tuning_init_state_dict_path with a source-task init is
-- checked by PEFT only when the model is built.
peft.define("MultitaskPromptTuningConfig", {
  fields = function() return {
    { "prompt_tuning_init", "Union[MultitaskPromptTuningInit, str]", "RANDOM",
      "Starting point of the prompt: 'TEXT', 'RANDOM', or one of the source-task initialisations." },
    { "prompt_tuning_init_state_dict_path", "Optional[str]", nil,
      "Path of the source prompt's weights, used by the source-task initialisations." },
    { "prompt_tuning_init_task", "Optional[int]", 0,
      "Index of the source task whose prompt is copied by 'EXACT_SOURCE_TASK'." },
    { "num_ranks", "Optional[int]", 1,
      "Rank of the per-task low-rank factors that modulate the shared prompt." },
    { "num_tasks", "Optional[int]", 1,
      "Number of tasks trained together." },
  } end,
})

-- MultitaskPromptEmbedding: prompt tuning's embedding, [tokens, token_dim] (the word
-- embeddings' width when it starts from them), and per task a low-rank pair of factors,
-- prefix_task_cols [tasks, tokens, ranks] and prefix_task_rows [tasks, ranks, token_dim]
-- (PEFT's multitask_prompt_tuning/model.py MultitaskPromptEmbedding.__init__); all three
-- saved as they are (its _get_adapter_state_dict).
local t = peft.tuner

local WHO = "Multitask prompt tuning"
local SOURCE = { AVERAGE_SOURCE_TASKS = true, EXACT_SOURCE_TASK = true, ONLY_SOURCE_SHARED = true }

local function shape_text(s)
  local parts = {}
  for i, d in ipairs(s) do parts[i] = tostring(d) end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function same(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

-- The source-task initialisations load a prompt trained before, then load_state_dict it
-- into the new encoder (MultitaskPromptEmbedding.__init__): the file must exist and hold
-- prompt_embeddings (and the task factors, except for ONLY_SOURCE_SHARED) of matching shapes.
local function check_source(cfg, init, shapes)
  local path = t.get(cfg, "prompt_tuning_init_state_dict_path")
  if path == nil then
    t.refuse("ValueError", "%s: prompt_tuning_init_state_dict_path needs to be specified with the %s init method",
      WHO, init)
  end
  local core = peft.core
  if core.stat(path) ~= "file" then
    t.refuse("FileNotFoundError", "%s: no such file %s (prompt_tuning_init_state_dict_path)", WHO, require("peft.types").repr(path))
  end
  if not path:match("%.safetensors$") then
    t.not_computed("%s: %s is a torch pickle; whether it holds a prompt of matching shapes is not known without "
      .. "loading it (only .safetensors files are inspected)", WHO, path)
  end
  local header, msg = peft.safetensors.read_header(path)
  if not header then t.refuse("SafetensorError", "%s: %s: %s", WHO, path, tostring(msg)) end
  local saved = {}
  for _, e in ipairs(header.tensors) do saved[e.name] = e.shape end
  local wanted = { { "prompt_embeddings", "embedding.weight" } }
  if init ~= "ONLY_SOURCE_SHARED" then
    wanted[2] = { "prefix_task_cols", "prefix_task_cols" }
    wanted[3] = { "prefix_task_rows", "prefix_task_rows" }
  end
  for _, w in ipairs(wanted) do
    if not saved[w[1]] then t.refuse("KeyError", "%s: %s holds no %s", WHO, path, require("peft.types").repr(w[1])) end
  end
  for i, w in ipairs(wanted) do
    local got = saved[w[1]]
    if i > 1 then
      -- one task is kept: the mean over the source tasks, or the task prompt_tuning_init_task
      if init == "EXACT_SOURCE_TASK" then
        local task, n = t.get(cfg, "prompt_tuning_init_task") or 0, got[1] or 0
        if math.type(task) ~= "integer" or task >= n or task < -n then
          t.refuse("IndexError", "%s: prompt_tuning_init_task %s is out of range for %s (%d source tasks)", WHO,
            require("peft.types").repr(task), w[1], n)
        end
      end
      got = { 1, table.unpack(got, 2) }
    end
    if not same(got, shapes[w[2]]) then
      t.refuse("RuntimeError", "%s: error(s) in loading state_dict: size mismatch for %s: copying a param with shape "
        .. "%s from %s, the shape in the current model is %s", WHO, w[2], shape_text(got), path,
        shape_text(shapes[w[2]]))
    end
  end
end

peft.define("MultitaskPromptEmbedding", {
  encoder = function(cfg, ctx)
    local d = ctx.dims
    local tokens = t.int_field(cfg, "num_virtual_tokens", WHO) * d.num_transformer_submodules
    local tasks, ranks = t.int_field(cfg, "num_tasks", WHO), t.int_field(cfg, "num_ranks", WHO)
    local init = t.get(cfg, "prompt_tuning_init")
    local width = d.token_dim
    -- PromptEmbedding.__init__: TEXT and SAMPLE_VOCAB copy rows of the word embeddings
    if (init == "TEXT" or init == "SAMPLE_VOCAB") and cfg.inference_mode ~= true then
      if not ctx.word_embeddings then
        t.refuse("AttributeError", "%s: the %s init copies rows of the word embeddings, and the base model has none "
          .. "(no embeddings.word_embeddings and no parameter with vocab_size rows)", WHO, init)
      end
      width = ctx.word_embeddings.shape[2]
    end
    local shapes = {
      ["embedding.weight"] = t.check_shape({ tokens, width }, WHO),
      prefix_task_cols = t.check_shape({ tasks, tokens, ranks }, WHO),
      prefix_task_rows = t.check_shape({ tasks, ranks, d.token_dim }, WHO),
    }
    if SOURCE[init] then check_source(cfg, init, shapes) end
    ctx.saved_shapes = shapes
    return { t.plain("embedding.weight", shapes["embedding.weight"]),
             t.plain("prefix_task_cols", shapes.prefix_task_cols),
             t.plain("prefix_task_rows", shapes.prefix_task_rows) }
  end,
  -- MultitaskPromptEmbedding._get_adapter_state_dict
  saved_prompt = function(cfg, ctx)
    local s = ctx.saved_shapes
    return { { key = "prefix_task_cols", shape = s.prefix_task_cols },
             { key = "prefix_task_rows", shape = s.prefix_task_rows },
             { key = "prompt_embeddings", shape = s["embedding.weight"] } }
  end,
})
