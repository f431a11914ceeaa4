-- peft schema: the command (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local json_out = cli.json_out
local usage_error = cli.usage_error

return {
  usage = "peft schema METHOD    or    peft schema --cli COMMAND",
  details = "METHOD: a JSON Schema (draft 2020-12) of the method's config class, what adapter_config.json may hold.\n"
    .. "--cli COMMAND: the JSON Schema of what 'peft COMMAND --json' prints (every command with --json has one).\n",
  options = { json = "flag", cli = "value" },
  run = function(opts, args)
    if opts.cli then
      if #args > 0 then usage_error("--cli COMMAND takes no METHOD") end
      local schemas = require "peft.cli.output_schema"
      local s = schemas.get(opts.cli)
      if not s then
        local names = schemas.commands()
        usage_error("no --json output for '%s'%s; commands: %s", opts.cli, peft.config.suggest(opts.cli, names),
          table.concat(names, ", "))
      end
      json_out(s)
      return 0
    end
    if #args ~= 1 then usage_error("expects one METHOD (or --cli COMMAND)") end
    local cls = cli.resolve_class(args[1])
    json_out(require("peft.schema").schema(cls))
    return 0
  end,
}
