/**
 * A test helper process (a worker or a scheduler) that prints one JSON object per line on stdout;
 * ready once it prints {"event":"ready"}. Its stderr goes to the test's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export class JsonLinesChild<Line extends { event: string }> {
  readonly lines: Line[] = [];
  readonly child: ChildProcess;
  readonly ready: Promise<void>;

  constructor(script: string, args: unknown) {
    this.child = spawn(process.execPath, ["--import", "tsx", script, JSON.stringify(args)], { stdio: ["ignore", "pipe", "inherit"] });
    const rl = createInterface({ input: this.child.stdout! });
    this.ready = new Promise((resolve) => {
      rl.on("line", (text) => {
        try {
          const line = JSON.parse(text) as Line;
          this.lines.push(line);
          if (line.event === "ready") resolve();
        } catch {
          // not ours
        }
      });
    });
  }

  /** SIGTERM (a graceful stop), resolved once it has exited. */
  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill("SIGTERM");
    });
  }
}
