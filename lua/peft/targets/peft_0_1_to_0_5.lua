-- PEFT 0.1.0 - 0.5.0: from_pretrained builds the config class with no arguments, then sets each loaded key
-- the object has as an attribute: unknown keys are dropped without a word, and __post_init__ runs before
-- the loaded values are set, so none of its checks sees them (nothing is refused for its values).
local peft = require "peft"

peft.register_target {
  kind = "peft",
  releases = { "0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0" },
  loading = "setattr",
  doc = "PEFT 0.1-0.5: unknown keys dropped silently; loaded values never checked.",
}
