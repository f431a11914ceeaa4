-- What real PEFT built for recorded cases, and the comparison of our plan with it.
--
-- The fixtures under tests/fixtures/model_oracle/ hold PEFT's answers (recorded by
-- scripts/oracle/record.py from ../shared/oracle/model_oracle.py) for configs on two tiny
-- bases: a Llama-shaped model (hidden 64, intermediate 128, vocab 100, 2 layers, 4 heads, no
-- biases, untied lm_head) and a GPT-2-shaped one (transformers' Conv1D c_attn / c_proj / c_fc,
-- LayerNorms with bias, wte / wpe with 32 positions, untied lm_head). The bases are described
-- here from those facts, in torch's module order.
local peft = require "peft"
local core = require "peft.core"

local M = {}

local H, I, V, L, NPOS = 64, 128, 100, 2, 32

function M.base_tensors(kind)
  local t = {}
  local function add(name, shape) t[#t + 1] = { name, shape, "F32" } end
  if kind == "llama" then
    add("model.embed_tokens.weight", { V, H })
    for i = 0, L - 1 do
      local p = "model.layers." .. i .. "."
      for _, m in ipairs { "q_proj", "k_proj", "v_proj", "o_proj" } do add(p .. "self_attn." .. m .. ".weight", { H, H }) end
      add(p .. "mlp.gate_proj.weight", { I, H })
      add(p .. "mlp.up_proj.weight", { I, H })
      add(p .. "mlp.down_proj.weight", { H, I })
      add(p .. "input_layernorm.weight", { H })
      add(p .. "post_attention_layernorm.weight", { H })
    end
    add("model.norm.weight", { H })
    add("lm_head.weight", { V, H })
  elseif kind == "gpt2" then
    add("transformer.wte.weight", { V, H })
    add("transformer.wpe.weight", { NPOS, H })
    for i = 0, L - 1 do
      local p = "transformer.h." .. i .. "."
      add(p .. "ln_1.weight", { H }); add(p .. "ln_1.bias", { H })
      add(p .. "attn.c_attn.weight", { H, 3 * H }); add(p .. "attn.c_attn.bias", { 3 * H })
      add(p .. "attn.c_proj.weight", { H, H }); add(p .. "attn.c_proj.bias", { H })
      add(p .. "ln_2.weight", { H }); add(p .. "ln_2.bias", { H })
      add(p .. "mlp.c_fc.weight", { H, I }); add(p .. "mlp.c_fc.bias", { I })
      add(p .. "mlp.c_proj.weight", { I, H }); add(p .. "mlp.c_proj.bias", { H })
    end
    add("transformer.ln_f.weight", { H }); add("transformer.ln_f.bias", { H })
    add("lm_head.weight", { V, H })
  else
    error("no base model " .. tostring(kind))
  end
  return t
end

M.base_configs = {
  llama = { model_type = "llama", architectures = { "LlamaForCausalLM" }, hidden_size = H, intermediate_size = I,
            num_hidden_layers = L, vocab_size = V, num_attention_heads = 4 },
  gpt2 = { model_type = "gpt2", architectures = { "GPT2LMHeadModel" }, n_embd = H, n_inner = I, n_layer = L,
           n_head = 4, vocab_size = V, n_positions = NPOS, tie_word_embeddings = false },
}

local bases = {}
function M.base(kind)
  if not bases[kind] then
    bases[kind] = peft.describe_model(M.base_tensors(kind), { config = M.base_configs[kind], origin = kind })
  end
  return bases[kind]
end

function M.load(path)
  local text = assert(core.read_file(path, 64 * 1024 * 1024))
  return assert(core.json_decode(text))
end

local function shape_text(s)
  local parts = {}
  for i, d in ipairs(s or {}) do parts[i] = tostring(d) end
  return "[" .. table.concat(parts, ", ") .. "]"
end

--- plan(case) -> ok, plan | error: our get_peft_model for a recorded case
function M.plan(case)
  return pcall(function()
    local text = core.json_encode(case.config)
    local cfg = peft.from_json(text, { quiet = true, path = case.name .. "/adapter_config.json", from_file = true })
    local opts = {}
    if case.env and case.env.boft_fbd_cuda then opts.boft_fbd_cuda = true end
    return peft.get_peft_model(M.base(case.model), cfg, "default", opts)
  end)
end

-- PEFT's exception classes that are subclasses of the one we raise
local SUBCLASS = { NoMatchingPeftModuleError = "ValueError", InvalidParameterError = "ValueError" }
local function same_kind(theirs, ours) return theirs == ours or SUBCLASS[theirs] == ours end

local function refusal_verdict(case, err)
  local kind = type(err) == "table" and err.kind or "error"
  local msg = tostring(peft.errors.message(err))
  if kind == "NotImplementedError" and not (type(err) == "table" and err.refusal) then
    return "not implemented", { "ours: " .. msg }
  end
  if not same_kind(case.error.type, kind) then
    return "refusal differs", { "PEFT " .. case.error.type .. ": " .. case.error.message, "ours " .. kind .. ": " .. msg }
  end
  return "agree", { "both refuse; ours: " .. msg }
end

--- compare(case) -> verdict, details: "agree" or the first aspect that differs. A refusal
-- agrees when ours is of PEFT's exception class (or the class it derives from) and comes at
-- the same step: get_peft_model, or save_pretrained (stage state_dict).
function M.compare(case)
  local ok, pm = M.plan(case)
  if case.outcome ~= "ok" then
    if case.error.stage == "state_dict" then
      if not ok then return "we refuse where PEFT builds", { "PEFT builds, then fails to save: " .. case.error.message,
        "ours: " .. tostring(peft.errors.message(pm)) } end
      local oks, err = pcall(pm.saved_tensors, pm)
      if oks then return "we save where PEFT cannot", { "PEFT " .. case.error.type .. ": " .. case.error.message } end
      return refusal_verdict(case, err)
    end
    if ok then
      return "we build where PEFT refuses", { "PEFT " .. case.error.type .. ": " .. case.error.message,
        "ours: " .. pm:trainable_parameters_line() }
    end
    return refusal_verdict(case, pm)
  end
  if not ok then
    local msg = peft.errors.message(pm)
    local kind = type(pm) == "table" and pm.kind or "error"
    return (kind == "NotImplementedError" and not pm.refusal) and "not implemented" or "we refuse where PEFT builds",
      { "ours: " .. kind .. ": " .. tostring(msg) }
  end
  local diffs, order = {}, {}
  local function diff(aspect, line)
    if not diffs[aspect] then diffs[aspect] = {}; order[#order + 1] = aspect end
    table.insert(diffs[aspect], line)
  end
  local trainable, all = pm:trainable_parameters()
  if trainable ~= case.trainable then diff("trainable differs", ("trainable PEFT %d ours %d"):format(case.trainable, trainable)) end
  if all ~= case.all then diff("all-params differs", ("all PEFT %d ours %d"):format(case.all, all)) end
  -- added parameters (a shared tensor may be listed by us under any of its names)
  local theirs, alias = {}, {}
  for _, p in ipairs(case.params) do
    theirs[p[1]] = p
    for _, a in ipairs(p[4] or {}) do alias[a] = p[1] end
  end
  local seen = {}
  for _, p in ipairs(pm:adapter_parameters()) do
    if p.counted then
      local key = theirs[p.name] and p.name or alias[p.name]
      if not key then
        diff("added params differ", "only ours: " .. p.name .. " " .. shape_text(p.shape))
      elseif not seen[key] then
        seen[key] = true
        local t = theirs[key]
        if shape_text(t[2]) ~= shape_text(p.shape) then
          diff("added params differ", ("shape %s: PEFT %s ours %s"):format(p.name, shape_text(t[2]), shape_text(p.shape)))
        end
        if t[3] ~= (p.trainable and true or false) then
          diff("added params differ", ("requires_grad %s: PEFT %s ours %s"):format(p.name, tostring(t[3]), tostring(p.trainable)))
        end
      end
    end
  end
  local names = {}
  for n in pairs(theirs) do names[#names + 1] = n end
  table.sort(names)
  for _, n in ipairs(names) do
    if not seen[n] then diff("added params differ", "only PEFT: " .. n .. " " .. shape_text(theirs[n][2])) end
  end
  -- saved keys
  local okk, saved = pcall(pm.saved_tensors, pm)
  if not okk then
    diff("saved keys differ", "ours: " .. tostring(peft.errors.message(saved)))
  else
    local ours = {}
    for _, s in ipairs(saved) do ours[s.key] = s.shape end
    local keys = {}
    for _, s in ipairs(case.saved) do
      keys[s[1]] = true
      if ours[s[1]] == nil then
        diff("saved keys differ", "only PEFT: " .. s[1] .. " " .. shape_text(s[2]))
      elseif shape_text(ours[s[1]]) ~= shape_text(s[2]) then
        diff("saved keys differ", ("shape %s: PEFT %s ours %s"):format(s[1], shape_text(s[2]), shape_text(ours[s[1]])))
      end
    end
    for _, s in ipairs(saved) do
      if not keys[s.key] then diff("saved keys differ", "only ours: " .. s.key .. " " .. shape_text(s.shape)) end
    end
  end
  if pm.class_name ~= case.class then diff("class differs", ("class PEFT %s ours %s"):format(case.class, pm.class_name)) end
  if #order == 0 then return "agree", {} end
  local details = {}
  for _, a in ipairs(order) do
    local d = diffs[a]
    local shown = { table.unpack(d, 1, math.min(8, #d)) }
    details[#details + 1] = "[" .. a .. "] " .. table.concat(shown, "; ") .. (#d > 8 and (" ... (" .. #d .. ")") or "")
  end
  return order[1], details
end

return M
