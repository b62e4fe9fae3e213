/** Model documents in an agent's drive, as the trigger-rule tests use them. */
import { addFile } from "document-drive";
import type { Operation, PHDocument } from "document-model";
import { createAction } from "document-model/core";
import type { Agent } from "../../src/agent.js";
import { dispatch } from "../../src/reactor/documents.js";

/** A model document added to the agent's drive and renamed to `name` (the rules' trigger); its id. */
export async function renamedModel(agent: Agent, name: string): Promise<string> {
  const document = await agent.reactor.addDocument("powerhouse/document-model");
  const id = document.header.id;
  await dispatch(agent.reactor, agent.localDriveId, addFile({ id, name: "Model", documentType: "powerhouse/document-model", parentFolder: null }));
  await dispatch(agent.reactor, id, createAction("SET_MODEL_NAME", { name }, undefined, undefined, "global"));
  return id;
}

/** How many SET_MODEL_DESCRIPTION operations the document holds (each a rule's result written). */
export async function descriptionWrites(agent: Agent, id: string): Promise<number> {
  return ((await agent.reactor.getDocument<PHDocument>(id)).operations.global ?? []).filter((op: Operation) => op.action.type === "SET_MODEL_DESCRIPTION").length;
}
