-- peft.lycoris: the shared base of the LyCORIS methods (LoHa, LoKr).
local peft = require "peft"

local M = {}

M.LycorisConfig = peft.declare_config {
  name = "LycorisConfig",
  doc = "Base class of the LyCORIS family of adapters (LoHa, LoKr).",
  fields = {},
}

return M
