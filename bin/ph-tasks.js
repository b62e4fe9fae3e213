#!/usr/bin/env node
// The `ph-tasks` command. The project runs its TypeScript sources directly through tsx's loader:
// installs run with lifecycle scripts off (see .npmrc), so there is no build step to rely on.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
