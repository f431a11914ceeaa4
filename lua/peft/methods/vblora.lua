-- VB-LoRA: LoRA matrices composed from a shared vector bank.
local peft = require "peft"
local rules = require "peft.rules"

local VBLoRAConfig = peft.declare_config {
  name = "VBLoRAConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.VBLORA,
  doc = "VB-LoRA: LoRA matrices composed from a shared vector bank.",
  fields = function() return {
    { "r", "int", 4,
      "Rank of the low-rank update matrices." },
    { "num_vectors", "int", 256,
      "Number of vectors in the shared bank; grow it with the model size." },
    { "vector_length", "int", 256,
      "Length of each bank vector; the model's hidden size must be a multiple of it." },
    { "topk", "int", 2,
      "How many bank vectors are mixed for each sub-vector (K of the top-K selection)." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, a regex matched in full, or 'all-linear'.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "save_only_topk_weights", "bool", false,
      "Whether to save only the top-K weights: much smaller, but good for inference or merging only." },
    { "vblora_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'vblora_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "init_vector_bank_bound", "float", 0.02,
      "Half-width of the uniform range the vector bank starts in; avoid zero." },
    { "init_logits_std", "float", 0.1,
      "Standard deviation of the normal distribution the selection logits start from." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Layer indices to adapt (one or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') that layers_to_transform indexes into." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
  end,
}

local VBLoRAModel = peft.declare_model { name = "VBLoRAModel", prefix = "vblora_" }

peft.register_peft_method {
  name = "vblora",
  config_cls = VBLoRAConfig,
  model_cls = VBLoRAModel,
  prefix = "vblora_",
  is_mixed_compatible = false,
}

return VBLoRAConfig
