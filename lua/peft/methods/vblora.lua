-- VB-LoRA: LoRA matrices composed from a shared vector bank.
local peft = require "peft"

local VBLoRAConfig = peft.declare_config {
  name = "VBLoRAConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.VBLORA,
  doc = "VB-LoRA: LoRA matrices composed from a shared vector bank.",
}

local VBLoRAModel = peft.declare_model { name = "VBLoRAModel", prefix = "vblora_", display = "VBLoRA" }

peft.register_peft_method {
  name = "vblora",
  config_cls = VBLoRAConfig,
  model_cls = VBLoRAModel,
  prefix = "vblora_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("VBLoRAConfig", {
  fields = function() return {
    { "r", "int", 4,
      "Rank of the low-rank update matrices." },
    { "num_vectors", "int", 256,
      "Number of vectors in the shared bank; grow it with the model size." },
    { "vector_length", "int", 256,
      "Length of each bank vector; the model's hidden size must be a multiple of it." },
    { "topk", "int", 2,
      "How many bank vectors are mixed for each sub-vector (K of the top-K selection)." },
    F.target_modules,
    F.exclude_modules,
    { "save_only_topk_weights", "bool", false,
      "Whether to save only the top-K weights: much smaller, but good for inference or merging only." },
    { "vblora_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    F.fan_in_fan_out,
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'vblora_only'." },
    F.modules_to_save,
    { "init_vector_bank_bound", "float", 0.02,
      "Half-width of the uniform range the vector bank starts in; avoid zero." },
    { "init_logits_std", "float", 0.1,
      "Standard deviation of the normal distribution the selection logits start from." },
    F.layers_to_transform,
    F.layers_pattern,
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
  end,
})

-- VBLoRAModel: per adapted Linear/Conv1D the logits vblora_logits_A (r, in / L, N) and
-- vblora_logits_B (out / L, r, N) over one vector bank (N, L) that the model holds and every layer
-- shares (PEFT's vblora/layer.py VBLoRALayer.update_layer, vblora/model.py _init_vblora_vector_bank).
-- Saved: the logits and the bank (vblora/model.py _get_adapter_state_dict); with
-- save_only_topk_weights each logits tensor becomes its top-k indices and its top-k weights but the
-- last (the key gets _topk_indices / _topk_weights after the adapter name, which then goes:
-- _remove_adapter_name_from_key).
local t = peft.tuner

local function vblora_layer(cfg, m, ctx)
  -- VBLoRAModel._create_and_replace builds the bank before it looks at the module
  local nv = t.int_field(cfg, "num_vectors", "VBLoRA")
  local vl = t.int_field(cfg, "vector_length", "VBLoRA")
  t.check_dims { nv, vl }
  if m.kind ~= "linear" and m.kind ~= "conv1d" then
    t.refuse("TypeError", "Target module %s is not supported by VBLoRA; it supports only torch.nn.Linear and "
      .. "transformers' Conv1D", t.describe(m))
  end
  local r = t.int_field(cfg, "r", "VBLoRA")
  local topk = t.int_field(cfg, "topk", "VBLoRA")
  ctx.r = r
  if r <= 0 then t.refuse("ValueError", "`r` %d should be a positive integer value", r) end
  if topk <= 0 then t.refuse("ValueError", "`topk` %d should be a positive integer value", topk) end
  if vl == 0 then t.refuse("ZeroDivisionError", "VBLoRA: vector_length is 0 (in_features % vector_length)") end
  local fin, fout = m.in_features, m.out_features
  if fin % vl ~= 0 then
    t.refuse("ValueError", "`in_features` %d must be divisible by `vector_length` %d (module %s)", fin, vl, m.name)
  end
  if fout % vl ~= 0 then
    t.refuse("ValueError", "`out_features` %d must be divisible by `vector_length` %d (module %s)", fout, vl, m.name)
  end
  t.dropout(cfg, "vblora_dropout")
  return { t.param("vblora_logits_A", ctx.adapter, { r, fin // vl, nv }),
           t.param("vblora_logits_B", ctx.adapter, { fout // vl, r, nv }) }
end

peft.define("VBLoRAModel", {
  layer_names = { "vblora_logits_A", "vblora_logits_B", "vblora_vector_bank" },
  targets = "vblora",
  layer = vblora_layer,
  model = function(cfg, ctx)
    return { t.param("vblora_vector_bank", ctx.adapter, { cfg.num_vectors, cfg.vector_length }) }
  end,
  -- VBLoRAModel._get_adapter_state_dict: the logits (or their top-k), the bank, the biases
  state_dict = function(sel, cfg)
    if cfg.save_only_topk_weights ~= true then return sel end
    local topk = cfg.topk
    if topk > cfg.num_vectors then
      -- torch.topk over the num_vectors logits: get_peft_model builds, save_pretrained fails
      t.refuse("RuntimeError", "selected index k out of range: with save_only_topk_weights, save_pretrained keeps "
        .. "the top %d of the %d logits per vector (topk > num_vectors)", topk, cfg.num_vectors)
    end
    local out = {}
    for _, c in ipairs(sel) do
      if c.key:find("vblora_logits", 1, true) then
        local lead = { table.unpack(c.shape, 1, #c.shape - 1) }
        local idx, w = { table.unpack(lead) }, { table.unpack(lead) }
        idx[#idx + 1], w[#w + 1] = topk, topk - 1
        out[#out + 1] = { key = c.key .. "_topk_indices", shape = idx, entry = c.entry }
        out[#out + 1] = { key = c.key .. "_topk_weights", shape = w, entry = c.entry }
      else
        out[#out + 1] = c
      end
    end
    return out
  end,
  -- VBLoRAModel._remove_adapter_name_from_key: "x.vblora_logits_A.default_topk_indices" ->
  -- "x.vblora_logits_A_topk_indices"
  saved = function(key, adapter)
    local head, suffix = key:match("^(.*)%.([^%.]*)$")
    if head and suffix ~= adapter and suffix:sub(1, #adapter + 1) == adapter .. "_" then
      return head .. "_" .. suffix:sub(#adapter + 2)
    end
    return peft.peft_model.remove_adapter_name(key, adapter)
  end,
})
