-- MLX-LM has no PEFT format at all: its adapters are an adapter_config.json with fine_tune_type,
-- num_layers and lora_parameters and an adapters.safetensors whose lora_a is (in, r). A PEFT adapter fails
-- with "'SimpleNamespace' object has no attribute 'num_layers'" (#1119).
local peft = require "peft"

peft.register_target {
  kind = "engine",
  name = "mlx-lm",
  title = "MLX-LM",
  doc = "MLX-LM: reads only its own adapter format, never PEFT's.",
  source = "mlx_lm/tuner/utils.py (load_adapters)",
}

--@definitions: the rules of the target declared above (built on first use)
local peft = require "peft"

peft.define("mlx-lm", {
  rules = function(check)
    return {
      check.rule.setting { id = "format",
        when = function(_, _, A)
          local d = A.dict
          return not (d.fine_tune_type ~= nil and d.num_layers ~= nil and d.lora_parameters ~= nil)
        end,
        error = "AttributeError: 'SimpleNamespace' object has no attribute 'num_layers' (MLX-LM reads only its own "
          .. "adapter format)",
        fix = "fuse the adapter into the base model and convert that with mlx_lm.convert, or rewrite it in MLX-LM's "
          .. "format (fine_tune_type, num_layers, lora_parameters; adapters.safetensors with lora_a as (in, r))" },
    }
  end,
})
