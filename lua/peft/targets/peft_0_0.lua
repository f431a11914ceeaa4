-- PEFT 0.0.x: no PeftModel.from_pretrained and no adapter_config.json yet: nothing saved can be loaded.
local peft = require "peft"

peft.register_target {
  kind = "peft",
  releases = { "0.0.1", "0.0.2" },
  loading = "none",
  doc = "PEFT 0.0.x: adapters cannot be loaded from a directory (no PeftModel.from_pretrained).",
}
