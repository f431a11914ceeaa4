-- peft targets: the targets of `peft check` (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local config = peft.config
local say, paint, json_out = cli.say, cli.paint, cli.json_out

return {
  usage = "peft targets [--json]",
  details = "PEFT releases (grouped by how they load a file) and serving engines, with their options\n"
    .. "(NAME:option=value for 'peft check --engine'). Extensions in PEFT_PATH can add targets.\n",
  options = { json = "flag" },
  run = function(opts)
    local list = peft.targets()
    if opts.json then
      json_out { targets = list }
      return 0
    end
    say(paint("bold", "PEFT releases") .. " (peft check --peft VERSION)")
    local groups, order = {}, {}
    for _, t in ipairs(list) do
      if t.kind == "peft" then
        local key = t.loading .. "|" .. tostring(t.doc)
        if not groups[key] then
          groups[key] = { doc = t.doc, versions = {} }
          order[#order + 1] = key
        end
        table.insert(groups[key].versions, t.version)
      end
    end
    for _, key in ipairs(order) do
      local g = groups[key]
      say(string.format("  %-16s %s", g.versions[1] .. (#g.versions > 1 and (" - " .. g.versions[#g.versions]) or ""),
        g.doc ~= cli.null and g.doc or ""))
    end
    say(paint("bold", "engines") .. " (peft check --engine NAME[:option=value,...])")
    for _, t in ipairs(list) do
      if t.kind == "engine" then
        say(string.format("  %-16s %s", t.name, t.doc ~= cli.null and t.doc or t.title))
        for _, k in ipairs(config.sorted_keys(t.knobs)) do
          local knob = t.knobs[k]
          local def = knob.default == cli.null and "unset" or tostring(knob.default)
          say(string.format("  %-16s   %s (%s, default %s)%s", "", k, knob.flag ~= cli.null and knob.flag or "",
            def, knob.help ~= cli.null and (": " .. knob.help) or ""))
        end
      end
    end
    return 0
  end,
}
