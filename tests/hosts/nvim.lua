-- nvim --headless -u NONE -i NONE -c "luafile tests/hosts/nvim.lua": the program inside Neovim's LuaJIT,
-- with PEFT_FIXTURES, PEFT_WORK and PEFT_OUT (the file the output goes to) from the environment; quits
-- with status 1 when it fails (the error in PEFT_OUT)
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local ok, text = pcall(function()
  return dofile(here .. "/program.lua")(require "peft", os.getenv("PEFT_FIXTURES"), os.getenv("PEFT_WORK"))
end)
local f = assert(io.open(os.getenv("PEFT_OUT"), "w"))
f:write(ok and text or ("ERROR: " .. tostring(text) .. "\n"))
f:close()
vim.cmd(ok and "qall!" or "cquit 1")
