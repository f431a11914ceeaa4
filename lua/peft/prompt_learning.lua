-- peft.prompt_learning: rules shared by the prompt-learning config classes.
--
-- Meant to move into PromptLearningConfig's post_init (peft.base); until
-- then each prompt-learning class calls it from its own post_init.
local M = {}

--- Fills in num_transformer_submodules from task_type when it is null:
-- 2 stacks for SEQ_2_SEQ_LM (encoder and decoder), 1 for any other task.
-- Without a task_type the field stays null. (PEFT does this when it builds
-- the prompt encoder for a model, so the saved config carries the value.)
function M.derive_submodules(self, chk)
  if self.num_transformer_submodules == nil and self.task_type ~= nil then
    chk.set("num_transformer_submodules", self.task_type == "SEQ_2_SEQ_LM" and 2 or 1)
  end
end

return M
