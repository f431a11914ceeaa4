-- X-LoRA: a learned classifier mixes several LoRA experts per token.
local peft = require "peft"

local XLoraConfig = peft.declare_config {
  name = "XLoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.XLORA,
  doc = "X-LoRA: a learned classifier mixes several LoRA experts per token.",
}

local XLoraModel = peft.declare_model { name = "XLoraModel", prefix = "xlora_", display = WHO }

peft.register_peft_method {
  name = "xlora",
  config_cls = XLoraConfig,
  model_cls = XLoraModel,
  prefix = "xlora_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"

peft.define("XLoraConfig", {
  fields = function() return {
    { "hidden_size", "int", nil,
      "Hidden size of the base model (input width of the classifier); 4096 when null, with a warning." },
    { "adapters", "dict[str, str]", nil,
      "LoRA experts to load: adapter name -> model id or path; empty when null, with a warning." },
    { "enable_softmax", "bool", true,
      "Whether the classifier's outputs go through a softmax over the experts." },
    { "enable_softmax_topk", "bool", false,
      "Whether a softmax is applied over the top_k_lora selected experts only (needs top_k_lora)." },
    { "layerwise_scalings", "bool", false,
      "Whether expert weights are predicted per layer instead of one set shared by all layers." },
    { "xlora_depth", "int", 1,
      "Number of layers of the X-LoRA classifier." },
    { "xlora_size", "int", 2048,
      "Hidden width of the classifier (unused when xlora_depth is 1)." },
    { "xlora_dropout_p", "float", 0.2,
      "Dropout probability inside the classifier (unused when xlora_depth is 1)." },
    { "use_trainable_adapters", "bool", false,
      "Whether the LoRA experts are trained along with the classifier." },
    { "softmax_temperature", "float", 1.0,
      "Temperature of the classifier's softmax; lower values give sharper expert choices." },
    { "top_k_lora", "Optional[int]", nil,
      "Keep only the k experts with the highest weights (sparse mixing), or null for all experts." },
    { "scaling_pass_value", "float", 0.0,
      "Expert weight used during the classifier's own scaling pass." },
    { "global_scaling_weight", "float", 1.0,
      "Factor applied to the output of every LoRA expert." },
  } end,
  post_init = function(self, chk)
    if self.hidden_size == nil then
      chk.warn("hidden_size not given; using 4096, make sure it matches the base model")
      chk.set("hidden_size", 4096)
    end
    if self.adapters == nil then
      chk.warn("adapters not given; starting with no LoRA experts, make sure this is intended")
      chk.set("adapters", {})
    end
    -- PEFT only warns about the following.
    if self.enable_softmax_topk and self.top_k_lora == nil then
      chk.warn("enable_softmax_topk is true but top_k_lora is null; set top_k_lora to choose the experts")
    end
    if self.enable_softmax_topk and self.enable_softmax then
      chk.warn("enable_softmax_topk and enable_softmax are both true; this performs worse, enable only one")
    end
    if self.top_k_lora ~= nil and self.top_k_lora < 1 then
      chk.warn("top_k_lora should be at least 1, got %d", self.top_k_lora)
    end
  end,
})

-- XLoraModel: a LoraModel over the base, into which every adapter of `adapters` is loaded
-- from disk under the names "0", "1", ... (frozen unless use_trainable_adapters), and a
-- classifier over the hidden states that mixes them (PEFT's xlora/model.py
-- XLoraModel.__init__, _load_adapter_into_lora_model, convert_layers_to_xlora;
-- classifier.py XLoraClassifier.__init__). Only classifier entries are saved (its
-- _get_adapter_state_dict), after PEFT's filter of keys naming another adapter, "0", "1"...
local t = peft.tuner

local WHO = "X-LoRA"
local CONFIG_NAME = "adapter_config.json"

-- the adapters in the order PEFT enumerates them: a dict's order, which is sorted in a
-- config file PEFT wrote (json sort_keys)
local function adapter_list(cfg)
  local adapters = t.get(cfg, "adapters") or {}
  local keys = {}
  for k in pairs(adapters) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = { key = k, path = adapters[k], name = tostring(i - 1) } end
  return out
end

-- _load_adapter_into_lora_model: the checkpoint key PEFT's remapping gives a saved key
-- (leading segments dropped until it starts with "model." but not "model.model.", then
-- "model." put back)
local function remap(key)
  while not (key:sub(1, 6) == "model." and key:sub(1, 12) ~= "model.model.") do
    local dot = key:find(".", 1, true)
    if not dot then return nil end
    key = key:sub(dot + 1)
  end
  return "model." .. key
end

-- The LoRA adapter of one entry: its config read from disk, injected like LoraModel.inject_adapter,
-- then its weights checked against what was injected (set_peft_model_state_dict).
local function load_adapter(plan, item, lora)
  local dir = item.path
  if type(dir) ~= "string" then
    t.refuse("TypeError", "%s: adapters[%s] must be a path or a model id, got %s", WHO, require("peft.types").repr(item.key),
      require("peft.types").repr(dir))
  end
  local base = dir:gsub("/+$", "")
  if peft.core.stat(base .. "/" .. CONFIG_NAME) ~= "file" then
    t.refuse("ValueError", "%s: Can't find '%s' at '%s' (adapters[%s]; the Hub is not consulted here)", WHO,
      CONFIG_NAME, dir, require("peft.types").repr(item.key))
  end
  local lcfg = peft.from_pretrained(base, { quiet = true })
  if lcfg.peft_type ~= "LORA" then
    t.refuse("TypeError", "%s: %s holds a %s adapter; X-LoRA loads LoRA adapters only", WHO, dir,
      tostring(lcfg.peft_type))
  end
  local name = item.name
  plan.adapters[name] = { name = name, config = lcfg, method = lora, modules = {} }
  local ok, err = pcall(plan.add_tuner_adapter, plan, name, lcfg, lora, lora.model_cls)
  plan.adapters[name] = nil
  if not ok then error(err, 0) end
  -- the LoRA tensors of this adapter, by the key save_pretrained gave them
  local injected = {}
  for _, path in ipairs(plan.layer_order) do
    for _, x in ipairs(plan.layers[path].tensors) do
      if x.adapter == name then
        local saved = "base_model.model." .. path .. "." .. peft.peft_model.remove_adapter_name(x.name, name)
        injected[saved] = { path = path, tensor = x }
      end
    end
  end
  -- the weights file: what PEFT saved for this config on this base (a .bin cannot be read here,
  -- so its keys are taken to be those)
  local saved = {}
  local st = base .. "/adapter_model.safetensors"
  if peft.core.stat(st) == "file" then
    local header, msg = peft.safetensors.read_header(st)
    if not header then t.refuse("ValueError", "%s: %s: %s", WHO, st, tostring(msg)) end
    for _, e in ipairs(header.tensors) do saved[#saved + 1] = { key = e.name, shape = e.shape } end
  elseif peft.core.stat(base .. "/adapter_model.bin") == "file" then
    local keys = {}
    for k in pairs(injected) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do saved[#saved + 1] = { key = k } end
  else
    t.refuse("ValueError", "%s: %s has no adapter_model.safetensors or adapter_model.bin (the Hub is not "
      .. "consulted here)", WHO, dir)
  end
  local model_keys = {}
  for k, v in pairs(injected) do model_keys["model." .. k:sub(#"base_model.model." + 1)] = v end
  local unexpected = {}
  for _, e in ipairs(saved) do
    local key = remap(e.key)
    local hit = key and model_keys[key]
    if not hit then
      unexpected[#unexpected + 1] = e.key
    elseif e.shape and table.concat(e.shape, ",") ~= table.concat(hit.tensor.shape, ",") then
      t.refuse("RuntimeError", "%s: size mismatch for %s: copying a param with shape [%s] from %s, the shape in "
        .. "the current model is [%s]", WHO, e.key, table.concat(e.shape, ", "), st,
        table.concat(hit.tensor.shape, ", "))
    end
  end
  if #unexpected > 0 then
    t.refuse("ValueError", "%s: Got unexpected keys loading %s: %s (its keys are remapped to start with "
      .. "'model.model.', so LoRA layers outside the model's 'model' submodule cannot be loaded)", WHO, dir,
      table.concat(unexpected, ", ", 1, math.min(#unexpected, 4)))
  end
end

peft.define("XLoraModel", {
  build = function(plan, cfg, ctx)
    local config = plan.base.config or {}
    if config.use_cache == true then
      t.refuse("ValueError", "%s: `use_cache` must be False (the base model's config.json sets it)", WHO)
    end
    local lora = peft.method("LORA")
    local items = adapter_list(cfg)
    for _, item in ipairs(items) do load_adapter(plan, item, lora) end
    -- the loaded LoRA tensors train only with use_trainable_adapters (_maybe_freeze_all_adapters)
    local trainable = cfg.use_trainable_adapters == true
    local n_layers = 0
    local names = {}
    for _, item in ipairs(items) do names[item.name] = true end
    for _, path in ipairs(plan.layer_order) do
      local layer = plan.layers[path]
      local counted = false
      for _, x in ipairs(layer.tensors) do
        if names[x.adapter] then
          x.adapter = false
          x.trainable = trainable
          counted = true
        end
      end
      -- convert_layers_to_xlora: each lora.Linear, lora.Embedding and lora.Conv2d
      local kind = layer.module.kind
      if counted and (kind == "linear" or kind == "conv1d" or kind == "embedding" or kind == "conv2d") then
        n_layers = n_layers + 1
      end
    end
    -- XLoraClassifier.__init__
    local hidden = t.int_field(cfg, "hidden_size", WHO)
    local depth = t.int_field(cfg, "xlora_depth", WHO)
    local n_out = #items * (cfg.layerwise_scalings == true and n_layers or 1)
    local linears = {}
    if depth == 1 then
      linears[1] = { 0, hidden, n_out }
    else
      if depth <= 0 then t.refuse("ValueError", "X-LoRA depth must be strictly positive, got %d.", depth) end
      local size = t.int_field(cfg, "xlora_size", WHO)
      local p = t.get(cfg, "xlora_dropout_p")
      local drop = type(p) == "number" and p > 0
      if drop then t.dropout(cfg, "xlora_dropout_p") end
      local step = drop and 3 or 2
      linears[1] = { 0, hidden, size }
      for k = 1, depth - 2 do linears[#linears + 1] = { k * step, size, size } end
      linears[#linears + 1] = { (depth - 1) * step, size, n_out }
    end
    local out = {}
    for _, l in ipairs(linears) do
      local prefix = "internal_xlora_classifier.layers." .. l[1]
      out[#out + 1] = t.plain(prefix .. ".weight", t.check_shape({ l[3], l[2] }, WHO))
      out[#out + 1] = t.plain(prefix .. ".bias", { l[3] })
    end
    for _, x in ipairs(out) do
      x.adapter = ctx.adapter
      x.owner = "tuner"
      plan.tuner_tensors[#plan.tuner_tensors + 1] = x
    end
    plan.key_prefix = "base_model.lora_model.model."
    plan.adapters[ctx.adapter].ctx = { adapters = items }
  end,
  -- XLoraModel._get_adapter_state_dict, after get_peft_model_state_dict's filter of the keys
  -- that name one of the loaded adapters
  state_dict = function(sel, cfg, ctx)
    local names = {}
    for _, item in ipairs(ctx and ctx.adapters or adapter_list(cfg)) do names[#names + 1] = item.name end
    local out = {}
    for _, c in ipairs(sel) do
      local named = false
      for _, n in ipairs(names) do
        if c.key:find("." .. n .. ".", 1, true) or c.key:sub(-#n - 1) == "." .. n then named = true end
      end
      if not named and c.key:find("internal_xlora_classifier", 1, true) then out[#out + 1] = c end
    end
    return out
  end,
})
