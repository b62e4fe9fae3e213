import { z } from "zod";
import { TaskRequestBaseSchema } from "../../src/tasks/types.js";

export const HoldRequestSchema = TaskRequestBaseSchema.extend({ type: z.literal("hold"), ms: z.number() });
