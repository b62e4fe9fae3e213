/**
 * A task's live event stream as server-sent events: the stored log is replayed from the
 * client's Last-Event-ID (or ?after=), then new events follow as they are stored, until the task
 * ends. Reading from the store (not only from memory) is what makes reconnects and restarts
 * lose nothing.
 */
import type { Request, Response } from "express";
import type { TaskManager } from "../tasks/task-manager.js";
import { isTerminalStatus } from "../tasks/types.js";
import type { TaskEventRow } from "../store/interfaces.js";

function writeEvent(res: Response, event: TaskEventRow): void {
  const data = event.kind === "output" ? JSON.stringify({ stream: event.stream, data: event.data }) : event.data;
  res.write(`id: ${event.seq}\nevent: ${event.kind}\ndata: ${data}\n\n`);
}

export async function streamTaskEvents(manager: TaskManager, taskId: string, after: number, req: Request, res: Response): Promise<void> {
  res.status(200).set({ "Content-Type": "text/event-stream", "Cache-Control": "no-cache, no-transform", Connection: "keep-alive", "X-Accel-Buffering": "no" });
  res.flushHeaders();
  let closed = false;
  let wake: (() => void) | undefined;
  const onActivity = (task: { id: string }) => {
    if (task.id === taskId) wake?.();
  };
  const names = ["output", "progress", "started", "retrying", "completed", "failed", "cancelled", "queued"] as const;
  for (const name of names) manager.on(name, onActivity);
  req.on("close", () => {
    closed = true;
    wake?.();
  });
  const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
  let lastSeq = after;
  try {
    while (!closed) {
      await manager.flushOutput();
      const events = await manager.getEvents(taskId, lastSeq, 500);
      for (const event of events) {
        writeEvent(res, event);
        lastSeq = event.seq;
      }
      if (events.length === 500) continue;
      const task = await manager.getTask(taskId);
      if (!task || isTerminalStatus(task.status)) {
        // Status events are written after the row changes: read once more so none is missed.
        await manager.flushOutput();
        for (const event of await manager.getEvents(taskId, lastSeq, 500)) {
          writeEvent(res, event);
          lastSeq = event.seq;
        }
        res.write(`event: end\ndata: ${JSON.stringify({ status: task?.status ?? "deleted" })}\n\n`);
        break;
      }
      // Wait for activity here, or poll: the task may be running in another worker process.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      // Coalesce a burst of output into one read.
      if (!closed) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    clearInterval(heartbeat);
    for (const name of names) manager.off(name, onActivity);
    res.end();
  }
}
