-- peft new: the command (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local core, errors = peft.core, peft.errors
local say, json_out, arr, null, out = cli.say, cli.json_out, cli.arr, cli.null, cli.out
local usage_error = cli.usage_error

return {
  usage = "peft new METHOD [FIELD=VALUE ...] [-o DIR] [--json]   (VALUE is JSON when it parses, else a string)",
  options = { json = "flag", o = "value", output = "value" },
  run = function(opts, args)
    if #args < 1 then usage_error("expects a METHOD") end
    local cls = cli.resolve_class(args[1])
    if not cls.peft_type then usage_error("'%s' is not a method's config class", args[1]) end
    local values = {}
    for i = 2, #args do
      local k, v = args[i]:match("^([%a_][%w_]*)=(.*)$")
      if not k then usage_error("expects FIELD=VALUE, got '%s'", args[i]) end
      local decoded = core.json_decode(v)
      if decoded == nil then decoded = v end
      values[k] = decoded
    end
    local _, ok, cfg = peft.capture_warnings(function() return cls.new(values, { quiet = true }) end)
    if not ok then
      cli.eprint("peft new: ", errors.message(cfg))
      return 1
    end
    local warnings = cfg:warnings()
    local dir = opts.o or opts.output
    local path
    if dir then
      local okw, err = pcall(cfg.save_pretrained, cfg, dir)
      if not okw then
        cli.eprint("peft new: ", errors.message(err))
        return 1
      end
      path = err
    end
    if opts.json then
      json_out { config = cfg:to_dict(), warnings = arr(warnings), path = path or null }
    else
      for _, w in ipairs(warnings) do cli.eprint("peft new: warning: ", w) end
      if path then say("wrote " .. path) else cli.say_text(cfg:to_json()) end
    end
    return 0
  end,
}
