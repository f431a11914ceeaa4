-- Super-Tuning: sparse, structured updates to selected weight blocks.
local peft = require "peft"

local SupertuningConfig = peft.declare_config {
  name = "SupertuningConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.SUPERTUNING,
  doc = "Super-Tuning: sparse, structured updates to selected weight blocks.",
}

local SupertuningModel = peft.declare_model { name = "SupertuningModel", prefix = "supertuning_", display = "Super-Tuning" }

peft.register_peft_method {
  name = "supertuning",
  config_cls = SupertuningConfig,
  model_cls = SupertuningModel,
  prefix = "supertuning_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"

peft.define("SupertuningConfig", {
  fields = function() return {
    F.target_modules,
    F.modules_to_save,
    { "sparsity", "float", 0.99,
      "Fraction of weight entries kept frozen, in [0, 1) (0.99 trains 1% of the entries)." },
    { "select_top", "bool", true,
      "Whether the trainable entries are the largest-magnitude ones (false: the smallest)." },
    { "r", "Optional[int]", nil,
      "Rank of an added low-rank branch ('Supra' hybrid); null trains the sparse entries only." },
    { "lora_alpha", "Optional[float]", nil,
      "Scaling of the low-rank branch; derived as 2 * r when r is set and this is null." },
    { "lora_dropout", "float", 0.0, "Dropout probability of the low-rank branch, in [0, 1)." },
    { "init_weights", "bool", true,
      "Whether the adapter starts as a no-op (zeros); false uses random (Kaiming) values." },
    { "save_precomputed_indices", "bool", true,
      "Whether the selected entry indices are saved with the weights (false: recomputed on load)." },
  } end,
  post_init = function(self, chk)
    local s = self.sparsity
    if not (s >= 0.0 and s < 1.0) then
      chk.fail_value("sparsity", "must be in [0.0, 1.0)")
    end
    if self.r ~= nil then
      if self.r <= 0 then
        chk.fail_value("r", "must be a positive integer or null")
      end
      if self.lora_alpha == nil then
        -- PEFT writes an integer here (2 * r), so do we
        chk.set("lora_alpha", 2 * self.r)
      end
    elseif self.lora_alpha ~= nil then
      chk.fail_value("lora_alpha", "must be null when r is null (the low-rank branch needs an explicit r)")
    end
    local d = self.lora_dropout
    if not (d >= 0.0 and d < 1.0) then
      chk.fail_value("lora_dropout", "must be in [0.0, 1.0)")
    end
    if not self.save_precomputed_indices then
      chk.warn("save_precomputed_indices is false: the selected entries will be recomputed from the base "
        .. "weights on load, which only gives the same selection if those weights are unchanged")
    end
  end,
})

-- SupertuningModel: per layer the trainable values of a sparse support (int(numel * (1 - sparsity))
-- entries of the weight) with their flat indices as a buffer, saved when save_precomputed_indices,
-- plus a LoRA pair when r is set (PEFT's supertuning/model.py _create_new_module,
-- supertuning/layer.py SupertuningLayer.update_layer).
local t = peft.tuner

peft.define("SupertuningModel", {
  layer_names = { "supertuning_values", "supertuning_lora_A", "supertuning_lora_B" },
  targets = "lora",
  kinds = { linear = true },
  supported = "only torch.nn.Linear",
  layer = function(cfg, m, ctx)
    local a = ctx.adapter
    local size = m.out_features * m.in_features
    local sparsity = t.number_field(cfg, "sparsity", "Super-Tuning")
    local kept = size * (1 - sparsity)
    if math.type(kept) == "float" then kept = math.floor(kept) end
    if kept < 1 then
      t.refuse("ValueError", "sparsity=%s leaves no trainable entries for the weight of %s (%d elements); lower the "
        .. "sparsity so that at least one entry is trainable", tostring(sparsity), m.name, size)
    end
    -- the indices buffer is persistent as the first adapter of the layer asked
    local keep = cfg.save_precomputed_indices == true
    local layer = ctx.plan.layers[m.name]
    for _, x in ipairs(layer and layer.tensors or {}) do
      if x.name:match("^supertuning_indices%.") then keep = x.persistent; break end
    end
    local out = { t.buffer("supertuning_indices", a, { kept }, keep), t.param("supertuning_values", a, { kept }) }
    local r = t.get(cfg, "r")
    if r ~= nil then
      r = t.int_field(cfg, "r", "Super-Tuning")
      out[#out + 1] = t.module("supertuning_lora_A", a, "weight", { r, m.in_features })
      out[#out + 1] = t.module("supertuning_lora_B", a, "weight", { m.out_features, r })
      ctx.r = r
    end
    return out
  end,
})
