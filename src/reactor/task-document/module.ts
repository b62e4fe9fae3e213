/**
 * The `powerhouse/task` DocumentModelModule the reactor is built with (written in code: no
 * codegen), and its utils.
 */
import { baseCreateDocument, baseLoadFromInput, baseSaveToFileHandle, defaultBaseState } from "document-model/core";
import { createState } from "document-model";
import type { DocumentModelModule, PHDocument } from "document-model";
import { actions } from "./actions.js";
import { taskDocumentReducer, type TaskDocumentPHState } from "./reducer.js";
import { taskDocumentModelSpec } from "./spec.js";
import { TASK_DOCUMENT_TYPE, initialTaskDocumentState } from "./state.js";

export type TaskDocument = PHDocument<TaskDocumentPHState>;

function createTaskState(state?: Partial<TaskDocumentPHState>): TaskDocumentPHState {
  return {
    ...defaultBaseState(),
    ...state,
    global: { ...initialTaskDocumentState(), ...(state?.global ?? {}) },
    local: {},
  };
}

function isTaskState(state: unknown): state is TaskDocumentPHState {
  const global = (state as { global?: { taskType?: unknown; status?: unknown } } | null)?.global;
  return typeof global?.taskType === "string" && typeof global.status === "string";
}

function isTaskDocument(document: unknown): document is TaskDocument {
  return (document as { header?: { documentType?: unknown } } | null)?.header?.documentType === TASK_DOCUMENT_TYPE;
}

export const taskDocumentModelModule: DocumentModelModule<TaskDocumentPHState> = {
  version: 1,
  reducer: taskDocumentReducer,
  actions,
  documentModel: createState(defaultBaseState(), taskDocumentModelSpec),
  utils: {
    fileExtension: "phtask",
    createState: createTaskState,
    createDocument(state) {
      const document = baseCreateDocument(createTaskState, state);
      document.header.documentType = TASK_DOCUMENT_TYPE;
      return document;
    },
    loadFromInput: (input) => baseLoadFromInput(input, taskDocumentReducer),
    saveToFileHandle: (document, input) => baseSaveToFileHandle(document, input),
    isStateOfType: isTaskState,
    assertIsStateOfType(state): asserts state is TaskDocumentPHState {
      if (!isTaskState(state)) throw new Error("not a powerhouse/task state");
    },
    isDocumentOfType: isTaskDocument,
    assertIsDocumentOfType(document): asserts document is TaskDocument {
      if (!isTaskDocument(document)) throw new Error("not a powerhouse/task document");
    },
  },
};
