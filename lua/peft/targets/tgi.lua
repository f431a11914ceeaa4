-- Text Generation Inference (maintenance mode; its LoRA support was ported from LoRAX; reads configs with
-- PEFT 0.15.2): safetensors only; adapts q, k, v, o, gate, up, down, qkv_proj, c_proj and c_fc; lm_head
-- ignored with a warning; rsLoRA honoured. Issues #2441, #2505, #2784.
local peft = require "peft"

peft.register_target {
  kind = "engine",
  name = "tgi",
  title = "TGI",
  doc = "Text Generation Inference: LoRA in safetensors on the attention and MLP projections.",
  source = "server/text_generation_server/adapters/lora.py",
}

--@definitions: the rules of the target declared above (built on first use)
local peft = require "peft"

peft.define("tgi", {
  rules = function(check)
    local rule = check.rule
    local merge = "merge the adapter into the base model and serve the merged model"
    local LAYERS = { q_proj = true, k_proj = true, v_proj = true, o_proj = true, gate_proj = true, up_proj = true,
                     down_proj = true, qkv_proj = true, c_proj = true, c_fc = true, c_attn = true }
    -- module name -> whether TGI ignores it, found once per name (a corpus has few names)
    local ignored = {}
    for name in pairs(LAYERS) do ignored[name] = false end
    local function unsupported(t)
      local last = tostring(t):match("([%w_]+)$") or ""
      local v = not LAYERS[last] and last ~= "lm_head"
      if type(t) == "string" then ignored[t] = v end
      return v
    end
    local function unsupported_targets(f)
      local tm = f.target_modules
      if type(tm) ~= "table" then return false end
      local out
      for n = 1, #tm do
        local t = tm[n]
        local v = ignored[t]
        if v == nil then v = unsupported(t) end
        if v then
          out = out or {}
          out[#out + 1] = t
        end
      end
      return out ~= nil and table.concat(out, ", ")
    end
    return {
      rule.peft_type { accept = { "LORA" }, error = "TGI loads only LoRA adapters, not {peft_type}", fix = merge },
      rule.weights_format { allow = { safetensors = true },
        error = "TGI loads adapter weights only from safetensors files (found adapter_model.bin)" },
      rule.pinned_peft { version = "0.15.2", refused = "refused" },
      rule.ignored { id = "dora", setting = "use_dora", fact = "dora",
        effect = "TGI applies the adapter as plain LoRA (its magnitude vectors are not loaded)", fix = merge },
      rule.ignored { id = "lm_head", setting = "lm_head", fact = "targets_heads",
        effect = "TGI warns and does not adapt lm_head or the embeddings", fix = merge },
      rule.setting { id = "unsupported-layers", verdict = "changed", when = unsupported_targets,
        error = "target_modules {what} ignored: TGI adapts only q, k, v, o, gate, up, down, qkv_proj, c_proj, c_fc",
        fix = merge },
      rule.ignored { setting = "modules_to_save", fact = "modules_to_save",
        effect = "TGI warns and does not load the saved copies", fix = merge },
      rule.ignored { setting = "bias", fact = "bias_config",
        effect = "TGI warns and does not load the trained biases", fix = merge },
      rule.ignored { setting = "layers_to_transform", fact = "selects_layers",
        effect = "a projection missing from any layer is dropped from every layer",
        fix = "adapt the same projections in every layer, or " .. merge },
      rule.ignored { setting = "rank_pattern", fact = "has_rank_pattern",
        effect = "TGI scales every module with the global r = {r}" },
      rule.ignored { setting = "alpha_pattern", fact = "has_alpha_pattern",
        effect = "every module takes lora_alpha = {alpha}" },
      rule.ignored { id = "init-modifies-base", setting = "init_lora_weights", fact = "init_base",
        effect = "the adapter was trained against base weights its initialisation ({init}) modified; TGI applies "
          .. "it to the original ones",
        fix = "convert it to a plain LoRA (save_pretrained with path_initial_model_for_weight_conversion) first" },
      rule.setting { id = "trainable-tokens", verdict = "changed", fact = "trainable_token_indices",
        error = "trainable_token_indices ignored: TGI warns and does not load the trained token embeddings",
        fix = merge },
      rule.setting { id = "layer_replication", verdict = "changed", fact = "replicates_layers",
        error = "layer_replication ignored: TGI applies the adapter to the base model's own layers", fix = merge },
    }
  end,
})
