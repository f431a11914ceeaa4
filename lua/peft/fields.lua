-- peft.fields: field declarations that many config classes share, as PEFT's classes repeat
-- them (target_modules, exclude_modules, modules_to_save, ...). A method names one in its
-- field list instead of writing it again:
--
--   local F = peft.fields
--   fields = function() return {
--     { "r", "int", 8, "Rank of the update." },
--     F.target_modules,
--     F.with(F.modules_to_save, { help = "Heads to train fully, e.g. the classifier." }),
--   } end,
--
-- Each entry is an ordinary field declaration ({ name, annotation, default, help, options });
-- with() gives a copy with some parts replaced. The class that names a field declares it (it
-- is grouped under that class, as PEFT's own class declares it).
local M = {}

M.target_modules = { "target_modules", "Optional[Union[list[str], str]]", nil,
  "Modules to adapt: names matched exactly or as a suffix, a regex matched in full, or 'all-linear'.",
  set = true }

M.exclude_modules = { "exclude_modules", "Optional[Union[list[str], str]]", nil,
  "Modules never to adapt: names (exact or suffix) or a regex.", set = true }

M.modules_to_save = { "modules_to_save", "Optional[list[str]]", nil,
  "Extra modules to train fully and save with the adapter (e.g. a classifier head)." }

M.layers_to_transform = { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
  "Only adapt the layers with these indices (one index or a list)." }

M.layers_pattern = { "layers_pattern", "Optional[Union[list[str], str]]", nil,
  "Name(s) of the module list holding the layers (e.g. 'layers', 'h'); used with layers_to_transform." }

-- the annotation a few classes give it (one name, not a list)
M.layers_pattern_str = { "layers_pattern", "Optional[str]", nil,
  "Name of the module list holding the layers (e.g. 'layers', 'h'); used with layers_to_transform." }

M.fan_in_fan_out = { "fan_in_fan_out", "bool", false,
  "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." }

--- with(field, changes) -> a copy of a shared field with some parts replaced:
-- changes.help, .default, .type (the annotation) and any option (set, min, check, ...).
function M.with(field, changes)
  local copy = {}
  for k, v in pairs(field) do copy[k] = v end
  for k, v in pairs(changes) do
    if k == "help" then copy[4] = v
    elseif k == "default" then copy[3] = v
    elseif k == "type" then copy[2] = v
    else copy[k] = v end
  end
  return copy
end

return M
