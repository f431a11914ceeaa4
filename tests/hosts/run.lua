-- lua tests/hosts/run.lua FIXTURES WORK: the program under a stand-alone interpreter
local run = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/program.lua")
io.write(run(require "peft", arg[1], arg[2]))
