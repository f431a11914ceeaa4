-- peft types: the command (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local say, paint, json_out, arr, null = cli.say, cli.paint, cli.json_out, cli.arr, cli.null

return {
  usage = "peft types [--json]",
  options = { json = "flag" },
  run = function(opts)
    local rows = arr()
    for _, t in ipairs(peft.PeftType) do
      local m = peft.method(t)
      local row = { name = t, registered = m ~= nil, method = null, prefix = null, is_mixed_compatible = null,
                    config_class = null, model_class = null, shares_prefix_with = null }
      if m then
        row.method = m.name
        row.prefix = m.prefix
        row.is_mixed_compatible = m.is_mixed_compatible
        row.config_class = m.config_cls and m.config_cls.name or null
        row.model_class = m.model_cls and m.model_cls.name or null
        row.shares_prefix_with = m.shares_prefix_with or null
      end
      rows[#rows + 1] = row
    end
    local tasks = arr()
    for i, t in ipairs(peft.TaskType) do tasks[i] = t end
    if opts.json then
      json_out { peft_types = rows, task_types = tasks }
      return 0
    end
    local w = { 4, 6, 6 }
    for _, r in ipairs(rows) do
      w[1] = math.max(w[1], #r.name)
      if r.registered then
        w[2] = math.max(w[2], #r.method)
        w[3] = math.max(w[3], #r.prefix)
      end
    end
    local fmt = "%-" .. w[1] .. "s  %-" .. w[2] .. "s  %-" .. w[3] .. "s  %-5s  %-28s  %s"
    say(paint("bold", fmt:format("PeftType", "method", "prefix", "mixed", "config class", "model class")))
    for _, r in ipairs(rows) do
      if r.registered then
        local prefix = r.prefix .. (r.shares_prefix_with ~= null and "*" or "")
        say(fmt:format(r.name, r.method, prefix, r.is_mixed_compatible and "yes" or "no",
          r.config_class, r.model_class))
      else
        say(paint("dim", fmt:format(r.name, "-", "-", "-", "(not registered)", "")))
      end
    end
    say("* shares the prefix of an earlier method, by declaration")
    say("")
    say(paint("bold", "TaskType") .. ": " .. table.concat(tasks, ", "))
    return 0
  end,
}
