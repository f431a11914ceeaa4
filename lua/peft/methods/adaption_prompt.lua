-- Adaption prompt (LLaMA-Adapter): gated learnable prompts in the top attention layers.
local peft = require "peft"

local AdaptionPromptConfig = peft.declare_config {
  name = "AdaptionPromptConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.ADAPTION_PROMPT,
  is_adaption_prompt = true,
  doc = "Adaption prompt (LLaMA-Adapter): gated learnable prompts in the top attention layers.",
}

local AdaptionPromptModel = peft.declare_model { name = "AdaptionPromptModel", prefix = "adaption_prompt_", display = WHO }

peft.register_peft_method {
  name = "adaption_prompt",
  config_cls = AdaptionPromptConfig,
  model_cls = AdaptionPromptModel,
  prefix = "adaption_prompt_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"

peft.define("AdaptionPromptConfig", {
  fields = function() return {
    { "target_modules", "str", nil,
      "Name of the attention submodules that get prompts; chosen from the model type when null." },
    { "adapter_len", "int", nil,
      "Number of learnable prompt tokens inserted in each adapted layer." },
    { "adapter_layers", "int", nil,
      "Number of layers, counted from the top of the model, that get adaption prompts." },
  } end,
  -- PEFT's __post_init__ only sets peft_type; is_adaption_prompt is the
  -- class flag above.
})

-- AdaptionPromptModel: the last adapter_layers modules named target_modules (the attention
-- modules by default) are wrapped, each getting a prompt [1, adapter_len, hidden_size] and a
-- gate [1]; everything else is frozen (PEFT's adaption_prompt/model.py
-- AdaptionPromptModel.add_adapter, layer.py _BaseAdaptedAttention.__init__). Built here, not
-- through the tuner flow: the targets are found by name suffix and counted from the top.
local t = peft.tuner

local WHO = "Adaption prompt"

-- adaption_prompt/config.py TRANSFORMERS_MODEL_CONFIG: the default target and the
-- projection whose dtype the wrapper reads
local MODEL_TYPES = {
  llama = { target = "self_attn", proj = "q_proj" },
  mistral = { target = "self_attn", proj = "q_proj" },
  gpt2 = { target = "attn", proj = "c_proj" },
}

-- Python's parents[-n:]
local function last(list, n)
  local from = n > 0 and math.max(#list - n + 1, 1) or (1 - n)
  local out = {}
  for i = from, #list do out[#out + 1] = list[i] end
  return out
end

peft.define("AdaptionPromptModel", {
  build = function(plan, cfg, ctx)
    local mt = plan.base.model_type
    local spec = MODEL_TYPES[mt]
    if not spec then
      t.refuse("ValueError", "Unsupported model type for adaption prompt: %s (it supports llama, mistral and gpt2)",
        require("peft.types").repr(mt))
    end
    local target = t.get(cfg, "target_modules")
    if target == nil then target = spec.target end
    -- every module whose name ends with '.<target_modules>', in module order, gives its parent
    local parents = {}
    if type(target) == "string" then
      local suffix = "." .. target
      for _, path in ipairs(plan:module_paths()) do
        if path:sub(-#suffix) == suffix then parents[#parents + 1] = path:match("^(.*)%.[^%.]+$") end
      end
    end
    local layers = t.get(cfg, "adapter_layers")
    if math.type(layers) ~= "integer" then
      t.refuse("TypeError", "%s: adapter_layers must be an integer to choose the layers, got %s", WHO,
        require("peft.types").repr(layers))
    end
    if #parents < layers then
      t.refuse("ValueError", "Config specifies more adapter layers '%d' than the model has '%d' (modules named %s).",
        layers, #parents, require("peft.types").repr(target))
    end
    local len = t.get(cfg, "adapter_len")
    if math.type(len) ~= "integer" then
      t.refuse("TypeError", "%s: adapter_len must be an integer to size the prompts, got %s", WHO, require("peft.types").repr(len))
    end
    local hidden = plan.base.hidden_size
    -- the wrappers of an earlier adapter leave the model (AdaptionPromptModel._remove_adapted_attentions)
    local order = {}
    for _, path in ipairs(plan.layer_order) do
      local layer = plan.layers[path]
      local keep = {}
      for _, x in ipairs(layer.tensors) do
        if x.adapter == ctx.adapter or not x.name:match("^adaption_") then keep[#keep + 1] = x end
      end
      layer.tensors = keep
      if #keep > 0 then order[#order + 1] = path else plan.layers[path] = nil end
    end
    plan.layer_order = order
    local method = peft.method("ADAPTION_PROMPT")
    local entry = plan.adapters[ctx.adapter]
    for _, parent in ipairs(last(parents, layers)) do
      if target:find(".", 1, true) then
        t.refuse("AttributeError", "%s: %s has no attribute %s (target_modules is looked up as one attribute of "
          .. "the parent)", WHO, parent, require("peft.types").repr(target))
      end
      local path = parent .. "." .. target
      local m = plan:record(path)
      local proj = plan.by_name[path .. "." .. spec.proj]
      if not (proj and proj.params.weight) then
        t.refuse("AttributeError", "%s: %s has no attribute '%s' (the %s attention it expects)", WHO, t.describe(m),
          spec.proj, mt)
      end
      if plan.by_name[path .. ".c_fc"] or plan.by_name[path .. ".gate_proj"] then
        t.refuse("AttributeError", "%s: %s is an MLP, which has no attribute 'config' (an attention module is "
          .. "expected)", WHO, t.describe(m))
      end
      if hidden == nil then
        t.refuse("AttributeError", "%s: the model config gives no hidden_size for the prompts", WHO)
      end
      local layer = plan:add_layer(m, {
        t.plain("adaption_prompt", t.check_shape({ 1, len, hidden }, WHO)),
        t.plain("adaption_gate", { 1 }),
      }, ctx.adapter, method, method.model_cls)
      layer.base_attr = "model"
      entry.modules[#entry.modules + 1] = { module = m }
    end
  end,
})
