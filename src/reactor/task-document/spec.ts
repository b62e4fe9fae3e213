/**
 * The `powerhouse/task` document model specification, in the shape Powerhouse tools read
 * (reactor-mcp's getDocumentModelSchema, Connect): state schema and initial value, and every
 * operation with its scope and GraphQL input type, grouped in modules.
 */
import { OPERATION_GRAPHQL, type TaskOperationType } from "./operations.js";
import { TASK_DOCUMENT_TYPE, initialTaskDocumentState } from "./state.js";

const STATE_SCHEMA = `scalar JSONObject
scalar DateTime

type TaskRun {
  taskId: String!
  attempt: Int!
  status: String!
  workerId: String
  startedAt: DateTime
  finishedAt: DateTime
  exitCode: Int
  costUsd: Float
  durationMs: Int
  error: String
}

type TaskNotice {
  at: DateTime!
  level: String!
  message: String!
}

type TaskError {
  code: String!
  message: String!
}

input TaskErrorInput {
  code: String!
  message: String!
}

type TaskState {
  title: String!
  instructions: String!
  taskType: String!
  params: JSONObject!
  priority: Int
  maxAttempts: Int
  timeoutMs: Int
  status: String!
  attempts: Int!
  currentTaskId: String
  lastRequestId: String
  requestedAt: DateTime
  cancelRequested: Boolean!
  runs: [TaskRun!]!
  outputTail: String!
  outputBytes: Int!
  result: JSONObject
  error: TaskError
  notices: [TaskNotice!]!
}`;

const MODULES: { id: string; name: string; description: string }[] = [
  { id: "spec", name: "spec", description: "What the task runs" },
  { id: "run", name: "run", description: "What people ask of the agent" },
  { id: "report", name: "report", description: "What the agent reports back" },
];

export const taskDocumentModelSpec = {
  id: TASK_DOCUMENT_TYPE,
  name: "Task",
  extension: "phtask",
  description: "A unit of work the Powerhouse agent runs — a program, Claude Code on a project, or a Claude agent — with its status, live output and result.",
  author: { name: "powerhouse-tasks", website: "" },
  specifications: [
    {
      version: 1,
      changeLog: [],
      state: {
        global: { schema: STATE_SCHEMA, initialValue: JSON.stringify(initialTaskDocumentState(), null, 2), examples: [] },
        local: { schema: "", initialValue: "{}", examples: [] },
      },
      modules: MODULES.map((module) => ({
        ...module,
        operations: (Object.entries(OPERATION_GRAPHQL) as [TaskOperationType, (typeof OPERATION_GRAPHQL)[TaskOperationType]][])
          .filter(([, op]) => op.module === module.id)
          .map(([name, op]) => ({ id: name.toLowerCase(), name, description: op.description, schema: op.schema, template: "", reducer: "", examples: [], errors: [], scope: "global" })),
      })),
    },
  ],
};
