-- peft.lycoris: the shared base of the LyCORIS methods (LoHa, LoKr).
--
-- LycorisConfig is a base class only: it has no PeftType and is never
-- registered as a method. It adds the per-module rank and alpha overrides
-- that every LyCORIS adapter understands; each subclass declares the rest
-- (and its own post_init, as PEFT's LycorisConfig has no __post_init__).
local peft = require "peft"

local M = {}

M.LycorisConfig = peft.declare_config {
  name = "LycorisConfig",
  doc = "Base class of the LyCORIS family of adapters (LoHa, LoKr).",
  fields = function() return {
    { "rank_pattern", "Optional[dict]", {},
      "Per-module rank overrides: module name or regex -> rank used instead of r." },
    { "alpha_pattern", "Optional[dict]", {},
      "Per-module alpha overrides: module name or regex -> alpha used instead of alpha." },
  } end,
}

return M
