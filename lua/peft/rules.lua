-- peft.rules: cross-field rules that many methods' post_init share.
--
-- PEFT repeats the same layer-selection checks in the __post_init__ of most
-- tuners (LoRA, DeFT, FourierFT, ...). They live here once; each method
-- calls the ones its PEFT counterpart applies, in PEFT's order, e.g.
--   post_init = function(self, chk) rules.layer_selection(self, chk) end
local config = require "peft.config"
local core = require "peft.core"

local M = {}

local null = core.null

local REGEX_FIELDS = { "layers_to_transform", "layers_pattern" }

--- Python truthiness: nil, null, false, 0, "" and an empty table are false;
-- everything else (config objects included) is true.
function M.truthy(v)
  if v == nil or v == null or v == false or v == 0 or v == "" then return false end
  if type(v) == "table" then return next(v) ~= nil end -- (a config object holds its state: true)
  return true
end

--- A field check (check = rules.positive_int): an integer size that must be above 0.
function M.positive_int(v)
  if v <= 0 then return "must be a positive integer" end
end

--- With save_projection off, the shared random projections (what: "vera_A and vera_B") are not
-- saved: warns that they are rebuilt from the seed field on load, which may differ across systems.
function M.warn_unsaved_projection(self, chk, what, seed_field)
  if not self.save_projection then
    chk.warn("save_projection is false: %s are left out of the checkpoint and rebuilt from %s (%s) on load, "
      .. "which may differ across systems; set save_projection = true to be safe", what, seed_field,
      tostring(self[seed_field]))
  end
end

--- When target_modules is a string (a regex), each of the fields (default:
-- layers_to_transform, then layers_pattern) must be null.
-- A field of the object a rule looks at: read raw from chk.values while post_init
-- runs (a field that is None is not there; a raw read spares the look-up the
-- object makes for it), else from self.
local function get(self, chk, k)
  local values = chk.values
  if values then return rawget(values, k) end
  return self[k]
end

function M.regex_excludes_layers(self, chk, fields)
  local tm = get(self, chk, "target_modules")
  if type(tm) ~= "string" then return end
  for _, field in ipairs(fields or REGEX_FIELDS) do
    if get(self, chk, field) ~= nil then
      chk.fail_value(field, "must be null when target_modules is a regular expression (%s)", require("peft.types").repr(tm))
    end
  end
end

--- A layers_pattern (a non-empty string or list) needs layers_to_transform.
function M.pattern_needs_layers(self, chk)
  if M.truthy(get(self, chk, "layers_pattern")) and get(self, chk, "layers_to_transform") == nil then
    chk.fail_value("layers_pattern", "needs layers_to_transform to be set as well")
  end
end

--- Both rules above, in PEFT's usual order: the regex rule first.
function M.layer_selection(self, chk)
  M.regex_excludes_layers(self, chk)
  M.pattern_needs_layers(self, chk)
end

return M
