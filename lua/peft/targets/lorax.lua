-- LoRAX (pins peft==0.4.0): reads adapter_config.json with PEFT 0.4.0's LoraConfig.from_pretrained, so
-- every setting newer than 0.4.0 (use_rslora, use_dora, ...) is dropped without a word; loads only the
-- exact base_model.model.<module>.lora_A/B.weight tensors (others: "unused adapter weights"); one r for
-- the whole adapter's scale. Issues #700, #68.
local peft = require "peft"

peft.register_target {
  kind = "engine",
  name = "lorax",
  title = "LoRAX",
  doc = "LoRAX: the config read with PEFT 0.4.0 (newer settings dropped silently), lora_A/B weights only.",
  source = "server/lorax_server/utils/adapter.py, server/lorax_server/adapters/lora.py",
}

--@definitions: the rules of the target declared above (built on first use)
local peft = require "peft"

peft.define("lorax", {
  rules = function(check)
    local rule = check.rule
    local merge = "merge the adapter into the base model and serve the merged model"
    return {
      rule.setting { id = "peft-type", verdict = "changed", fact = "not_lora_type",
        error = "{what} read as a LoRA config: LoRAX finds no lora_A/lora_B weights, so the adapter does nothing",
        fix = merge },
      rule.pinned_peft { version = "0.4.0",
        fix = "LoRAX cannot apply it: " .. merge },
      rule.setting { id = "unused-weights", verdict = "changed", guard = "weights_kind",
        when = function(_, _, A)
          local w = A.weights
          if not w or w.kind ~= "safetensors" then return false end
          for _, n in ipairs(w.names) do
            if not (n:match("^base_model%.model%..+%.lora_[AB]%.weight$")) then return n end
          end
          return false
        end,
        error = "unused adapter weights: {what} (LoRAX loads only base_model.model.<module>.lora_A/B.weight)",
        fix = "save the adapter without it, or " .. merge },
      rule.ignored { setting = "modules_to_save", fact = "modules_to_save",
        effect = "LoRAX warns and does not load the saved copies: those modules keep the base weights", fix = merge },
      rule.ignored { setting = "bias", fact = "bias_config",
        effect = "LoRAX warns and does not load the trained biases", fix = merge },
      rule.ignored { setting = "layers_to_transform", fact = "selects_layers",
        effect = "a projection missing from any layer is dropped from every layer",
        fix = "adapt the same projections in every layer, or " .. merge },
      rule.ignored { setting = "rank_pattern", fact = "has_rank_pattern",
        effect = "LoRAX scales every module with the global r = {r}" },
      rule.ignored { setting = "alpha_pattern", fact = "has_alpha_pattern",
        effect = "every module takes lora_alpha = {alpha}" },
      rule.ignored { id = "init-modifies-base", setting = "init_lora_weights", fact = "init_base",
        effect = "the adapter was trained against base weights its initialisation ({init}) modified; LoRAX "
          .. "applies it to the original ones",
        fix = "convert it to a plain LoRA (save_pretrained with path_initial_model_for_weight_conversion) first" },
      rule.setting { id = "sgmv-rank", verdict = "note",
        when = function(f) return type(f.rank) == "number" and f.rank > 0 and (f.rank < 16 or f.rank > 128) end,
        error = "rank {rank} is outside the ranks of LoRAX's SGMV kernels (16-128): it runs on the slower path" },
      rule.setting { id = "trainable-tokens", verdict = "changed", fact = "trainable_token_indices",
        error = "trainable_token_indices ignored: LoRAX warns and does not load the trained token embeddings",
        fix = merge },
      rule.setting { id = "layer_replication", verdict = "changed", fact = "replicates_layers",
        error = "layer_replication dropped: PEFT 0.4.0 has no such setting", fix = merge },
    }
  end,
})
