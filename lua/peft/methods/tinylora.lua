-- TinyLoRA: LoRA with very few trainable parameters per layer.
local peft = require "peft"
local rules = require "peft.rules"

local function positive_int(v)
  if v <= 0 then return "must be a positive integer" end
end

local TinyLoraConfig = peft.declare_config {
  name = "TinyLoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.TINYLORA,
  doc = "TinyLoRA: LoRA with very few trainable parameters per layer.",
  fields = function() return {
    { "r", "int", 2,
      "Rank of the frozen truncated SVD (U, Sigma, V) of each adapted weight.", check = positive_int },
    { "u", "int", 64,
      "Length of the trainable vector v in each group; smaller means fewer parameters.",
      check = positive_int },
    { "weight_tying", "float", 0.0,
      "Share of the trainable vector across targeted modules, from 0.0 (none) to 1.0 (all share one).",
      check = function(v)
        if not (0.0 <= v and v <= 1.0) then return "must be between 0.0 and 1.0" end
      end },
    { "projection_seed", "int", 42,
      "Seed that regenerates the fixed random projections P." },
    { "save_projection", "bool", true,
      "Whether to store the projections P in the checkpoint rather than rebuild them from the seed." },
    { "init_v_bound", "float", 0.02,
      "Half-width of the uniform range used when the trainable vector starts random." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt (Linear, Embedding or Conv1D): names, a regex, or 'all-linear'.",
      set = true },
    { "tinylora_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'tinylora_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "init_weights", "Union[bool, str]", true,
      "How v starts: true for zeros (a no-op adapter), 'uniform' for random, false to leave it unset." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Layer indices to adapt (one or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') that layers_to_transform indexes into." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    if not self.save_projection then
      chk.warn("save_projection is false: the projections P are left out of the checkpoint and rebuilt "
        .. "from projection_seed (%d) on load, which may differ across systems; "
        .. "set save_projection = true to be safe", self.projection_seed)
    end
    -- r, u and weight_tying are checked per field above.
  end,
}

local TinyLoraModel = peft.declare_model { name = "TinyLoraModel", prefix = "tinylora_" }

peft.register_peft_method {
  name = "tinylora",
  config_cls = TinyLoraConfig,
  model_cls = TinyLoraModel,
  prefix = "tinylora_",
  is_mixed_compatible = false,
}

return TinyLoraConfig
