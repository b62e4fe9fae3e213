// Writes the README's configuration table and .env.example from src/config.ts.
import { readFileSync, writeFileSync } from "node:fs";
import { renderEnvExample, replaceConfigTable } from "../src/config-docs.js";

writeFileSync("README.md", replaceConfigTable(readFileSync("README.md", "utf8")));
writeFileSync(".env.example", renderEnvExample());
