-- peft schema: the command (see peft.cli for the conventions).
local cli = require "peft.cli"
local json_out = cli.json_out
local usage_error = cli.usage_error

return {
  usage = "peft schema METHOD",
  options = { json = "flag" },
  run = function(_, args)
    if #args ~= 1 then usage_error("expects one METHOD") end
    local cls = cli.resolve_class(args[1])
    json_out(require("peft.schema").schema(cls))
    return 0
  end,
}
