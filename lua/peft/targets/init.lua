-- The built-in targets of `peft check`, in the order their start-up scripts run: the PEFT releases (one
-- script per range of releases that load files the same way), then the serving engines.
return {
  "peft_0_0",
  "peft_0_1_to_0_5",
  "peft_0_6_to_0_13",
  "peft_0_14_to_0_20",
  "vllm",
  "sglang",
  "llama_cpp",
  "mistral_rs",
  "lorax",
  "tgi",
  "tensorrt_llm",
  "mlx_lm",
  "ollama",
}
