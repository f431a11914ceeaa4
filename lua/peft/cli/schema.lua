-- peft schema: the command (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local core, config, errors, types = peft.core, peft.config, peft.errors, peft.types
local say, paint, json_out, arr, null, out = cli.say, cli.paint, cli.json_out, cli.arr, cli.null, cli.out
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
