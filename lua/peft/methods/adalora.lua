-- AdaLoRA: LoRA whose rank budget is reallocated across layers during training.
local peft = require "peft"

local AdaLoraConfig = peft.declare_config {
  name = "AdaLoraConfig",
  parent = peft.LoraConfig,
  peft_type = peft.PeftType.ADALORA,
  doc = "AdaLoRA: LoRA whose rank budget is reallocated across layers during training.",
}

local AdaLoraModel = peft.declare_model { name = "AdaLoraModel", prefix = "lora_", display = "AdaLoRA" }

peft.register_peft_method {
  name = "adalora",
  config_cls = AdaLoraConfig,
  model_cls = AdaLoraModel,
  prefix = "lora_",
  is_mixed_compatible = true,
  shares_prefix_with = "lora",
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local rules = require "peft.rules"

peft.define("AdaLoraConfig", {
  fields = function() return {
    -- replaces LoraConfig's rank_pattern (there: {} by default)
    { "rank_pattern", "Optional[dict]", nil,
      "Rank the allocator gave each module, recorded by AdaLoRA after training; null before." },
    { "target_r", "int", 8, "Average rank the budget is reduced to.", whole = true },
    { "init_r", "int", 12, "Rank every adapted matrix starts with (AdaLoRA ignores r)." },
    { "tinit", "int", 0, "Warm-up steps before the rank budget starts shrinking.", whole = true },
    { "tfinal", "int", 0, "Last steps, trained with the final budget fixed.", whole = true },
    { "deltaT", "int", 1, "Steps between two budget reallocations.", whole = true },
    { "beta1", "float", 0.85, "EMA factor smoothing the importance (sensitivity) scores." },
    { "beta2", "float", 0.85, "EMA factor of the uncertainty of the importance scores." },
    { "orth_reg_weight", "float", 0.5, "Weight of the orthogonality penalty on the singular vectors.", min = 0 },
    { "total_step", "Optional[int]", nil, "Total number of training steps; required, > 0.", whole = true },
  } end,
  -- runs after LoraConfig's rules (PEFT calls super().__post_init__ first).
  -- PEFT then repeats LoRA's target_modules set conversion and its
  -- layers_to_transform / layers_pattern checks: LoRA's rules already did
  -- those (and raised first), so they are not repeated here.
  post_init = function(self, chk)
    if self.use_dora then
      chk.fail_value("use_dora", "must be false (AdaLoRA does not support DoRA)")
    end
    -- LoRA's rules cleared loftq_config unless init_lora_weights is 'loftq'
    if rules.truthy(self.loftq_config) then
      chk.fail_value("loftq_config", "must be empty (AdaLoRA does not support LoftQ)")
    end
    if self.r ~= 8 then
      chk.warn("r is not used by AdaLoRA and is ignored (got %d); set init_r for the initial rank", self.r)
    end
    -- both checks came with PEFT 0.15: a lenient load of an older file warns instead
    local total = self.total_step
    if total == nil or total <= 0 then
      chk.fail_value_later("0.15.0", "total_step",
        "must be an integer > 0 (the number of training steps AdaLoRA schedules)")
    elseif self.tinit >= total - self.tfinal then
      chk.fail_later("0.15.0", "tinit",
        "leaves no budgeting phase: tinit must be < total_step - tfinal (%d - %d = %d), got %d; "
        .. "lower tinit or tfinal, or raise total_step",
        total, self.tfinal, total - self.tfinal, self.tinit)
    end
  end,
})

-- AdaLoraModel: per layer the SVD triplet lora_A (right vectors), lora_E (singular values) and
-- lora_B (left vectors) of rank init_r, and ranknum, a frozen parameter holding the rank that is
-- never saved (PEFT's adalora/model.py _create_and_replace, _create_new_module; layer.py
-- AdaLoraLayer.update_layer, SVDConv2d.update_layer; model.py _get_adapter_state_dict).
local t = peft.tuner

local function adalora_layer(cfg, m, ctx)
  local a = ctx.adapter
  -- AdaLoraModel._create_new_module: Linear, Conv1D and Conv2d only
  if m.kind ~= "linear" and m.kind ~= "conv1d" and m.kind ~= "conv2d" then
    t.refuse_kind("AdaLoRA", m, "only torch.nn.Linear, transformers' Conv1D and torch.nn.Conv2d", "ValueError")
  end
  local r = t.int_field(cfg, "init_r", "AdaLoRA")
  ctx.r, ctx.alpha = r, cfg.lora_alpha
  -- AdaLoraLayer.update_layer: r == 0 is allowed
  if r < 0 then t.refuse("ValueError", "`r` should be a positive integer or 0, but the value passed is %d", r) end
  t.dropout(cfg, "lora_dropout")
  local fin = m.in_features
  if m.kind == "conv2d" then
    local kh, kw = t.kernel(m)
    fin = fin * kh * kw
  end
  return { t.param("lora_A", a, { r, fin }),
           t.param("lora_E", a, { r, 1 }),
           t.param("lora_B", a, { m.out_features, r }),
           t.param("ranknum", a, { 1 }, { trainable = false }) }
end

-- PEFT's resize_state_dict_by_rank_pattern: sum(rank_idx) first (a list of booleans or integers),
-- then, where the sum differs from the adapter's rank, the rows of lora_E / lora_A and the
-- columns of lora_B that the list selects (a list of booleans is a mask, a list of integers
-- picks entries).
local function rank_sum(name, idx)
  if type(idx) ~= "table" then
    t.refuse("TypeError", "AdaLoRA's rank_pattern entry %s must be a list (the mask the rank allocator recorded), "
      .. "got %s: save_pretrained sums it ('%s' object is not iterable)", name, peft.types.repr(idx),
      math.type(idx) == "integer" and "int" or math.type(idx) == "float" and "float" or type(idx))
  end
  local sum = 0
  for _, v in ipairs(idx) do
    if type(v) == "boolean" then
      sum = sum + (v and 1 or 0)
    elseif type(v) == "number" then
      sum = sum + v
    else
      t.refuse("TypeError", "AdaLoRA's rank_pattern entry %s holds %s, which save_pretrained cannot sum", name,
        peft.types.repr(v))
    end
  end
  return sum
end

-- the size of a dimension of n entries after indexing it with the list idx
local function kept(name, idx, n)
  local bools = true
  for _, v in ipairs(idx) do
    if type(v) ~= "boolean" then bools = false end
  end
  if #idx == 0 then return 0 end
  if bools then
    if #idx ~= n then
      t.refuse("IndexError", "AdaLoRA's rank_pattern mask for %s has %d entries, the adapter's rank is %d", name,
        #idx, n)
    end
    local c = 0
    for _, v in ipairs(idx) do if v then c = c + 1 end end
    return c
  end
  for _, v in ipairs(idx) do
    if math.type(v) ~= "integer" or v >= n or v < -n then
      t.refuse("IndexError", "AdaLoRA's rank_pattern for %s selects index %s of a rank-%d adapter", name, tostring(v),
        n)
    end
  end
  return #idx
end

-- The saved shapes after the rank_pattern resize: { [in-memory key] = shape }, or a refusal.
local function resized(cfg, adapter, shapes)
  local rp = t.get(cfg, "rank_pattern")
  local out = {}
  if type(rp) ~= "table" then return out end
  local names = {}
  for k in pairs(rp) do names[#names + 1] = k end
  table.sort(names)
  for _, raw in ipairs(names) do
    local idx = rp[raw]
    local rank = rank_sum(raw, idx)
    local name = raw:gsub("%." .. adapter:gsub("%p", "%%%0"), "")
    local parts = {}
    for seg in (name .. "."):gmatch("([^%.]*)%.") do parts[#parts + 1] = seg end
    local drop = name:find(adapter, 1, true) and 2 or 1
    local prefix = table.concat(parts, ".", 1, math.max(#parts - drop, 0))
    for _, attr in ipairs { "lora_E", "lora_A", "lora_B" } do
      local key = "base_model.model." .. prefix .. "." .. attr .. "." .. adapter
      local shape = out[key] or shapes[key]
      if not shape then
        t.refuse("KeyError", "AdaLoRA's rank_pattern names %s, but the adapter has no %s there (save_pretrained "
          .. "looks up '%s')", raw, attr, key)
      end
      local dim = attr == "lora_B" and 2 or 1
      if rank ~= shape[dim] then
        local new = { table.unpack(shape) }
        new[dim] = kept(raw, idx, shape[dim])
        out[key] = new
      end
    end
  end
  return out
end

local function tuner_shapes(plan, adapter)
  local shapes = {}
  for _, e in ipairs(plan:state()) do
    if e.group == "tuner" and e.adapter == adapter then shapes[e.key] = e.shape end
  end
  return shapes
end

peft.define("AdaLoraModel", {
  layer_names = { "lora_A", "lora_B", "lora_E", "lora_embedding_A", "lora_embedding_B" },
  targets = "adalora",
  prepare = function(plan, cfg, ctx)
    -- AdaLoraModel._check_new_adapter_config: one adapter at most trains (the others in inference_mode)
    local training = 0
    for _, c in pairs(plan.peft_config) do
      if c.inference_mode ~= true then training = training + 1 end
    end
    if training > 1 then
      t.refuse("ValueError", "AdaLoraModel supports only 1 trainable adapter. When using multiple adapters, set "
        .. "inference_mode to True for all adapters except the one you want to train.")
    end
    -- LoraModel._prepare_model: layer_replication
    local rep = t.get(cfg, "layer_replication")
    if rep ~= nil and #rep > 0 then plan:replicate_layers(rep) end
  end,
  layer = adalora_layer,
  -- BaseTuner._inject_parameters: the first parameter target_parameters names gets PEFT's checks,
  -- then AdaLoraModel._create_and_replace, which takes no parameter_name
  parameter = function(plan, cfg, ctx, names)
    for _, m in ipairs(plan.modules) do
      for _, pn in ipairs(m.param_order) do
        local key = m.name .. "." .. pn
        for _, w in ipairs(names) do
          if key == w or key:sub(-#w - 1) == "." .. w then
            if m.name == "" then
              t.refuse("ValueError", "Targeting an nn.Parameter on the top-level module is not supported (parameter "
                .. "'%s').", pn)
            end
            if plan.layers[m.name] then
              t.refuse("ValueError", "Trying to wrap an `nn.Parameter` of layer '%s', which is not a valid target. "
                .. "Make sure that this layer is not also targeted with `target_modules`.", m.name)
            end
            t.refuse("TypeError", "AdaLoRA cannot adapt parameters (target_parameters names %s): "
              .. "AdaLoraModel._create_and_replace got an unexpected keyword argument 'parameter_name'", key)
          end
        end
      end
    end
    return 0
  end,
  -- AdaLoraModel._get_adapter_state_dict: ranknum is left out, the triplets are cut to rank_pattern
  -- (a pattern it cannot apply fails there: get_peft_model builds, save_pretrained raises)
  state_dict = function(sel, cfg, ctx, plan)
    local new = resized(cfg, ctx.adapter, tuner_shapes(plan, ctx.adapter))
    local out = {}
    for _, c in ipairs(sel) do
      if not c.key:match("%.ranknum%." .. ctx.adapter:gsub("%p", "%%%0") .. "$") then
        if new[c.key] then c.shape = new[c.key] end
        out[#out + 1] = c
      end
    end
    return out
  end,
})
