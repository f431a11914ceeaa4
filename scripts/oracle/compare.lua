-- Compare `get_peft_model` here with what real PEFT built, case by case (a maintainer tool).
--
--   build/peft scripts/oracle/compare.lua FIXTURE.json [-q] [--only SUBSTR[,SUBSTR...]]
--
-- FIXTURE.json: PEFT's answers, recorded by scripts/oracle/record.py (see tests/oracle.lua).
-- Prints one verdict per case (-q: only the disagreements), then `plan agree X/N (...)`.
package.path = "tests/?.lua;" .. package.path
local oracle = require "oracle"

local path, quiet, only = nil, false, nil
local i = 1
while arg[i] do
  if arg[i] == "-q" then quiet = true
  elseif arg[i] == "--only" then i = i + 1; only = {}; for s in arg[i]:gmatch("[^,]+") do only[#only + 1] = s end
  else path = arg[i] end
  i = i + 1
end
assert(path, "usage: compare.lua FIXTURE.json [-q] [--only SUBSTR,...]")
local data = oracle.load(path)
local counts, order, n, agree, refuse_both = {}, {}, 0, 0, 0
for _, c in ipairs(data.cases) do
  local take = true
  if only then
    take = false
    for _, s in ipairs(only) do if c.name:find(s, 1, true) then take = true end end
  end
  if take then
    n = n + 1
    local verdict, details = oracle.compare(c)
    if not counts[verdict] then counts[verdict] = 0; order[#order + 1] = verdict end
    counts[verdict] = counts[verdict] + 1
    if verdict == "agree" then
      agree = agree + 1
      if c.outcome ~= "ok" then refuse_both = refuse_both + 1 end
    end
    if not quiet or verdict ~= "agree" then
      print(string.format("%-48s %s", c.name, verdict))
      for _, d in ipairs(details) do print("    " .. d) end
      if verdict ~= "agree" and c.outcome ~= "ok" then print("    PEFT: " .. c.error.type .. ": " .. c.error.message:sub(1, 200)) end
    end
  end
end
local parts = { ("both built %d"):format(agree - refuse_both), ("both refuse %d"):format(refuse_both) }
for _, v in ipairs(order) do if v ~= "agree" then parts[#parts + 1] = v .. " " .. counts[v] end end
print(string.format("plan agree %d/%d (%.1f%%; %s)", agree, n, n > 0 and 100 * agree / n or 0, table.concat(parts, "; ")))
