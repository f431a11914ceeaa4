-- X-LoRA: a learned classifier mixes several LoRA experts per token.
local peft = require "peft"

local XLoraConfig = peft.declare_config {
  name = "XLoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.XLORA,
  doc = "X-LoRA: a learned classifier mixes several LoRA experts per token.",
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
}

local XLoraModel = peft.declare_model { name = "XLoraModel", prefix = "xlora_" }

peft.register_peft_method {
  name = "xlora",
  config_cls = XLoraConfig,
  model_cls = XLoraModel,
  prefix = "xlora_",
  is_mixed_compatible = false,
}

return XLoraConfig
