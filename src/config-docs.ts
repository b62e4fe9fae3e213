/**
 * Renders the configuration table (README) and `.env.example` from VARIABLES, so the docs list
 * exactly what the code reads. `npm run docs:config` writes both; a test checks they are current.
 */
import { VARIABLES } from "./config.js";

type Entry = [string, { default?: string; doc: string }];
const entries = () => Object.entries(VARIABLES) as Entry[];

export function renderConfigTable(): string {
  const rows = entries().map(([name, spec]) => `| \`${name}\` | ${spec.default !== undefined && spec.default !== "" ? `\`${spec.default}\`` : "—"} | ${spec.doc.replace(/\|/g, "\\|")} |`);
  return ["| variable | default | meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

export function renderEnvExample(): string {
  const lines = ["# powerhouse-tasks configuration. Every variable is optional; the value shown is the default.", ""];
  for (const [name, spec] of entries()) {
    lines.push(`# ${spec.doc}`);
    lines.push(spec.default !== undefined ? `${name}=${spec.default}` : `# ${name}=`);
    lines.push("");
  }
  return lines.join("\n");
}

export function replaceConfigTable(readme: string): string {
  return readme.replace(/(<!-- config-table:start -->\n)[\s\S]*?(<!-- config-table:end -->)/, `$1${renderConfigTable()}\n$2`);
}
