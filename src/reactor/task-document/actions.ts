/**
 * Action creators, one per operation, named after it in camelCase (REQUEST_RUN → requestRun):
 * reactor-mcp finds them by that name. They check the input and throw on an invalid one, as
 * Powerhouse's generated creators do: reactor-mcp's addActions validates by calling the creator, so
 * a bad input is refused before it reaches the document's history. The reducer checks again, for
 * actions that were built without a creator.
 */
import { createAction } from "document-model/core";
import type { Action } from "document-model";
import { parseOperationInput, type TaskOperationInput, type TaskOperationType } from "./operations.js";

const make =
  <T extends TaskOperationType>(type: T) =>
  (input: TaskOperationInput<T>): Action => {
    parseOperationInput(type, input);
    return createAction<Action>(type, input, undefined, undefined, "global");
  };

export const actions = {
  setSpec: make("SET_SPEC"),
  requestRun: make("REQUEST_RUN"),
  cancel: make("CANCEL"),
  retry: make("RETRY"),
  approve: make("APPROVE"),
  reject: make("REJECT"),
  markQueued: make("MARK_QUEUED"),
  markRunning: make("MARK_RUNNING"),
  appendOutput: make("APPEND_OUTPUT"),
  markRetrying: make("MARK_RETRYING"),
  markCompleted: make("MARK_COMPLETED"),
  markFailed: make("MARK_FAILED"),
  markCancelled: make("MARK_CANCELLED"),
  addNotice: make("ADD_NOTICE"),
  rejectRequest: make("REJECT_REQUEST"),
};
